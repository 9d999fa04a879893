"""The worklist: one row per patient from its assessment, ordered by urgency; CSV and FHIR Tasks.

Columns named after the assessment contract's fields hold its values unchanged (`status` is
`relapse.status`); `dataFreshness` is empty when the assessment has no such field. Urgency
(first that applies): clinical relapse, biochemical relapse, suspected relapse, stale data,
triple-class exposed; in-scope patients matching none of them are not actionable.
"""
from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path
from typing import Iterable

URGENCY = ("clinical-relapse", "biochemical-relapse", "suspected-relapse", "stale-data", "triple-class-exposed")
_STATUS_URGENCY = {"clinical": 0, "biochemical": 1, "suspected": 2}
NOT_ACTIONABLE = len(URGENCY)

CSV_COLUMNS = (
    "patientId", "status", "timing", "strategy", "refractoryCategory", "dataFreshness",
    "urgency", "inScope", "tripleClassExposed", "relapseDate", "latestMarkerDate", "priorLines",
    "dataGaps", "unreadableLines", "error",
)

# Task.priority (FHIR request-priority) per urgency: the worklist suggests, it never orders.
_TASK_PRIORITY = {0: "asap", 1: "urgent"}
TASK_NAMESPACE = uuid.UUID("6f1c3a52-9c1e-4f43-9a51-4f3f0d2b7e15")


def urgency_rank(assessment: dict) -> int:
    """0..4 along URGENCY, NOT_ACTIONABLE otherwise (and for patients out of scope)."""
    if not assessment.get("inScope"):
        return NOT_ACTIONABLE
    status = (assessment.get("relapse") or {}).get("status")
    if status in _STATUS_URGENCY:
        return _STATUS_URGENCY[status]
    if assessment.get("dataFreshness") == "stale":
        return 3
    if assessment.get("tripleClassExposed"):
        return 4
    return NOT_ACTIONABLE


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def row_from_assessment(patient_id: str, assessment: dict, *, unreadable_lines: int = 0) -> dict:
    """The worklist row (all values strings, CSV-ready) plus `rank` for sorting."""
    relapse = assessment.get("relapse") or {}
    rank = urgency_rank(assessment)
    return {
        "patientId": patient_id,
        "status": _text(relapse.get("status")),
        "timing": _text(assessment.get("timing")),
        "strategy": _text(assessment.get("strategy")),
        "refractoryCategory": _text(assessment.get("refractoryCategory")),
        "dataFreshness": _text(assessment.get("dataFreshness")),
        "urgency": URGENCY[rank] if rank < NOT_ACTIONABLE else "",
        "inScope": _text(bool(assessment.get("inScope"))),
        "tripleClassExposed": _text(assessment.get("tripleClassExposed")),
        "relapseDate": _text(relapse.get("date")),
        "latestMarkerDate": _text(relapse.get("latestMarkerDate")),
        "priorLines": _text(assessment.get("priorLines")),
        "dataGaps": _text(len(assessment.get("dataGaps") or ())),
        "unreadableLines": _text(unreadable_lines),
        "error": "",
        "rank": rank,
    }


def error_row(patient_id: str, error: str, *, unreadable_lines: int = 0) -> dict:
    """A patient whose assessment failed: listed (never silently lost), not judged."""
    row = {c: "" for c in CSV_COLUMNS}
    row.update(patientId=patient_id, error=error, unreadableLines=_text(unreadable_lines), rank=-1)
    return row


def sort_rows(rows: Iterable[dict]) -> list[dict]:
    """Failed assessments first (someone must look), then by urgency, then patient id."""
    return sorted(rows, key=lambda r: (r["rank"], r["patientId"]))


def write_csv(rows: list[dict], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def task_for(row: dict, *, as_of: str, description: str) -> dict:
    """A FHIR R4 Task (intent `proposal`: a suggestion to review the patient, not an order)."""
    task = {
        "resourceType": "Task",
        "id": str(uuid.uuid5(TASK_NAMESPACE, f"{row['patientId']}|{as_of}")),
        "status": "requested",
        "intent": "proposal",
        "priority": _TASK_PRIORITY.get(row["rank"], "routine"),
        "code": {"text": "Review myeloma relapse status"},
        "description": description,
        "for": {"reference": f"Patient/{row['patientId']}"},
        "authoredOn": as_of,
        "businessStatus": {"text": row["urgency"]},
    }
    return task


def write_tasks(rows: list[dict], path: Path, *, as_of: str, describe) -> int:
    """One Task per actionable patient as NDJSON (Bulk Data format); returns how many."""
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            if 0 <= row["rank"] < NOT_ACTIONABLE:
                fh.write(json.dumps(task_for(row, as_of=as_of, description=describe(row)), separators=(",", ":")))
                fh.write("\n")
                n += 1
    return n
