"""The clinic worklist is the hooks' own assessment of each patient, nothing else."""
from __future__ import annotations

import csv
import json
from collections import Counter

from cds_service.cli import main
from cds_service.config import Config
from cds_service.hooks.pipeline import assessment_from_input
from cds_service.surveillance.worklist import CSV_COLUMNS

from .conftest import AS_OF, N_PATIENTS


def _assess_one(resources: list[dict]) -> dict:
    """What `myeloma-cds assess` prints for a one-patient Bundle (the CLI's own function)."""
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    return assessment_from_input(bundle, config=Config(), as_of=AS_OF, fetch=False)


def _expected_row(assessment: dict) -> dict:
    return {
        "patientId": assessment["patientId"],
        "status": assessment["relapse"]["status"],
        "timing": assessment["timing"],
        "strategy": assessment["strategy"],
        "refractoryCategory": assessment["refractoryCategory"],
        # Whichever way the model stands: the field's value, or an empty cell without it.
        "dataFreshness": assessment.get("dataFreshness") or "",
        "tripleClassExposed": "true" if assessment["tripleClassExposed"] else "false",
        "inScope": "true" if assessment["inScope"] else "false",
        "dataGaps": str(len(assessment["dataGaps"])),
    }


def _run_cli(export, out) -> list[dict]:
    rc = main(["surveil", str(export), "--as-of", AS_OF.isoformat(), "--out", str(out),
               "--partition-size", "64KiB", "--quiet"])
    assert rc == 0
    with (out / "worklist.csv").open(newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == CSV_COLUMNS
        return list(reader)


def test_worklist_equals_per_patient_assess(small_export, patients_of_small_export, tmp_path):
    rows = _run_cli(small_export, tmp_path / "out")
    assert len(rows) == N_PATIENTS
    assert sorted(r["patientId"] for r in rows) == sorted(patients_of_small_export)
    for row in rows:
        expected = _expected_row(_assess_one(patients_of_small_export[row["patientId"]]))
        assert {k: row[k] for k in expected} == expected, row["patientId"]
    # The export is a realistic mix: each status the clinic cares about occurs.
    statuses = Counter(r["status"] for r in rows)
    assert statuses["clinical"] and statuses["biochemical"] and statuses["suspected"] and statuses["none"]
    assert statuses["unknown"] > N_PATIENTS / 3  # most of a haematology clinic has no myeloma


def test_worklist_is_ordered_by_urgency(small_export, tmp_path):
    rows = _run_cli(small_export, tmp_path / "out")
    order = ["clinical-relapse", "biochemical-relapse", "suspected-relapse", "stale-data", "triple-class-exposed", ""]
    ranks = [order.index(r["urgency"]) for r in rows]
    assert ranks == sorted(ranks)
    assert rows[0]["status"] == "clinical"
    # Out-of-scope patients are listed (never lost) but not actionable.
    assert all(r["urgency"] == "" for r in rows if r["inScope"] == "false")


def test_tasks_one_per_actionable_patient_and_valid_fhir(small_export, tmp_path):
    from fhir.resources.R4B.task import Task

    out = tmp_path / "out"
    rows = _run_cli(small_export, out)
    tasks = [json.loads(line) for line in (out / "worklist-tasks.ndjson").read_text().splitlines()]
    actionable = [r for r in rows if r["urgency"]]
    assert [t["for"]["reference"] for t in tasks] == [f"Patient/{r['patientId']}" for r in actionable]
    for task in tasks:
        Task.model_validate(task)  # R4 Task: required fields and value sets
        assert task["intent"] == "proposal"  # a suggestion to review, never an order
        assert task["authoredOn"] == AS_OF.isoformat()
    clinical = [t for t, r in zip(tasks, actionable, strict=True) if r["status"] == "clinical"]
    assert clinical and all(t["priority"] == "asap" for t in clinical)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["patients"] == N_PATIENTS and summary["toReview"] == len(tasks)
    assert summary["unreadableLines"] == 0
