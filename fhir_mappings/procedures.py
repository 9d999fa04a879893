"""Procedure / DiagnosticReport -> Transplant and InvestigationRecord.

A completed stem-cell transplant Procedure (codes in procedures.json; its text when no code
is known) becomes a Transplant; a "history of autologous transplant" Condition does too when
it carries an onset date. Completed investigation procedures (echo, PET-CT, marrow biopsy,
neuropathy assessment) and final DiagnosticReports with an investigation code become
InvestigationRecords.
"""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from fhir_mappings.dates import parse_date, period_bounds
from fhir_mappings.terminology import coding_keys, concept_texts, tables
from myeloma_model.records import InvestigationRecord, Transplant

_DATA = json.loads((Path(__file__).parent / "terminology" / "procedures.json").read_text(encoding="utf-8"))
TRANSPLANT_BY_CODE: dict[tuple[str, str], str] = {(e["system"], e["code"]): e["kind"] for e in _DATA["transplants"]}
_TRANSPLANT_TEXT = tuple((re.compile(e["pattern"], re.IGNORECASE), e["kind"]) for e in _DATA["transplant_text"])
_TRANSPLANT_REQUIRES = re.compile(_DATA["transplant_text_requires"], re.IGNORECASE)
_TRANSPLANT_CONTEXT = re.compile(_DATA["transplant_text_context"], re.IGNORECASE)
_INVESTIGATION_TEXT = tuple(
    (re.compile(e["pattern"], re.IGNORECASE), e["investigation"]) for e in _DATA["investigation_text"]
)
_INVESTIGATION_BY_CODE = tables().investigation_by_code

PROCEDURE_DONE = frozenset({"completed"})
REPORT_DONE = frozenset({"final", "amended", "corrected", "appended"})


def transplant_kind(concept: dict) -> str | None:
    """"autologous" / "allogeneic" / "unknown" when the concept is a stem-cell transplant."""
    for key in coding_keys(concept):
        kind = TRANSPLANT_BY_CODE.get(key)
        if kind is not None:
            if kind == "unknown":  # a generic code: the text may say which kind
                for text in concept_texts(concept):
                    for pattern, text_kind in _TRANSPLANT_TEXT:
                        if pattern.search(text):
                            return text_kind
            return kind
    for text in concept_texts(concept):
        if _TRANSPLANT_REQUIRES.search(text) and _TRANSPLANT_CONTEXT.search(text):
            for pattern, kind in _TRANSPLANT_TEXT:
                if pattern.search(text):
                    return kind
            return "unknown"
    return None


def investigation_of(concept: dict) -> str | None:
    for key in coding_keys(concept):
        inv = _INVESTIGATION_BY_CODE.get(key)
        if inv is not None:
            return inv
    for text in concept_texts(concept):
        for pattern, inv in _INVESTIGATION_TEXT:
            if pattern.search(text):
                return inv
    return None


def _performed(proc: dict) -> date | None:
    d = proc.get("performedDateTime")
    if d is not None:
        return parse_date(d)
    start, end = period_bounds(proc.get("performedPeriod"))
    return start or end


def from_procedure(proc: dict) -> tuple[Transplant | None, InvestigationRecord | None, str | None]:
    """(transplant, investigation, problem): at most one of the first two; problem is a data
    gap note (a transplant without a date cannot be placed in a line)."""
    if proc.get("status") not in PROCEDURE_DONE:
        return None, None, None
    code = proc.get("code")
    if not isinstance(code, dict):
        return None, None, None
    ref = f"Procedure/{proc['id']}" if proc.get("id") else "Procedure"
    when = _performed(proc)
    kind = transplant_kind(code)
    if kind is not None:
        if when is None:
            return None, None, f"{ref}: stem-cell transplant has no date; not used"
        return Transplant(when, kind, ref), None, None
    inv = investigation_of(code)
    if inv is not None:
        return None, InvestigationRecord(inv, when, ref), None
    return None, None, None


def from_report(report: dict) -> InvestigationRecord | None:
    if report.get("status") not in REPORT_DONE:
        return None
    code = report.get("code")
    if not isinstance(code, dict):
        return None
    inv = investigation_of(code)
    if inv is None:
        return None
    when = parse_date(report.get("effectiveDateTime"))
    if when is None:
        start, end = period_bounds(report.get("effectivePeriod"))
        when = start or end or parse_date(report.get("issued"))
    ref = f"DiagnosticReport/{report['id']}" if report.get("id") else "DiagnosticReport"
    return InvestigationRecord(inv, when, ref)


def transplant_from_condition(cond: dict) -> Transplant | None:
    """A "history of ... transplant" Condition with an onset date (Synthea writes these)."""
    code = cond.get("code")
    if not isinstance(code, dict):
        return None
    kind = None
    for key in coding_keys(code):
        kind = TRANSPLANT_BY_CODE.get(key)
        if kind is not None:
            break
    if kind is None:
        return None
    when = parse_date(cond.get("onsetDateTime")) or period_bounds(cond.get("onsetPeriod"))[0]
    if when is None:
        return None
    ref = f"Condition/{cond['id']}" if cond.get("id") else "Condition"
    return Transplant(when, kind, ref)
