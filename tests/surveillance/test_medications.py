"""medicationReference: the export's Medication files are read once and given to each patient."""
from __future__ import annotations

import csv
import json

from benchmarks.surveil_export import generate
from cds_service.cli import main

from .conftest import AS_OF


def test_medication_references_resolve_from_the_medication_file(tmp_path):
    # The len-refractory demo patient (lenalidomide refractory: `single`) with every drug given
    # as a reference to a Medication resource instead of an inline code.
    kinds = {}
    for kind, resources in generate(40, as_of=AS_OF, seed=3):
        kinds.setdefault(kind, resources)
    resources = kinds["len-refractory"]
    pid = next(r["id"] for r in resources if r["resourceType"] == "Patient")
    medications = {}
    for res in resources:
        concept = res.pop("medicationCodeableConcept", None)
        if concept is not None:
            key = json.dumps(concept, sort_keys=True)
            med_id = medications.setdefault(key, f"med-{len(medications) + 1}")
            res["medicationReference"] = {"reference": f"Medication/{med_id}"}
    assert medications
    export = tmp_path / "export"
    export.mkdir()
    by_type = {}
    for res in resources:
        by_type.setdefault(res["resourceType"], []).append(res)
    by_type["Medication"] = [{"resourceType": "Medication", "id": mid, "code": json.loads(key)}
                             for key, mid in medications.items()]
    for rtype, items in by_type.items():
        (export / f"{rtype}.ndjson").write_text("".join(json.dumps(r) + "\n" for r in items))

    out = tmp_path / "out"
    assert main(["surveil", str(export), "--as-of", AS_OF.isoformat(), "--out", str(out), "--quiet"]) == 0
    with (out / "worklist.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["patientId"] for r in rows] == [pid]
    assert rows[0]["refractoryCategory"] == "single"  # lenalidomide recognised through the reference
    assert rows[0]["strategy"] == "switch-class"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["files"]["Medication.ndjson"]["lines"] == len(medications)
