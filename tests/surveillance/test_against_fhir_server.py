"""`surveil` against the real FHIR server's Bulk Data `$export` (sekmet-fhir, demo patients loaded)."""
from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from cds_service.cli import main
from cds_service.hooks.pipeline import assess_bundle
from tests.integration.conftest import fhir_server, fhir_server_instance  # noqa: F401 (fixtures)

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AS_OF = "2025-06-30"  # the date the demo patients' verdicts hold for


def test_patient_export_from_the_fhir_server(fhir_server, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    assert main(["surveil", f"{fhir_server}/Patient", "--as-of", AS_OF, "--out", str(out), "--quiet"]) == 0
    with (out / "worklist.csv").open(newline="") as fh:
        rows = {r["patientId"]: r for r in csv.DictReader(fh)}
    expected = json.loads((EXAMPLES / "expected.json").read_text())["patients"]
    for name, verdict in expected.items():
        row = rows[verdict["patientId"]]
        assert row["inScope"] == ("true" if verdict["inScope"] else "false"), name
        if "relapse.status" in verdict:
            assert row["status"] == verdict["relapse.status"], name
        # And the whole row is what `assess` says of that patient's demo Bundle.
        a = assess_bundle(json.loads((EXAMPLES / "patients" / f"{name}.json").read_text()),
                          as_of=date.fromisoformat(AS_OF))
        assert (row["status"], row["timing"], row["strategy"], row["refractoryCategory"]) == (
            a["relapse"]["status"], a["timing"], a["strategy"], a["refractoryCategory"]), name
    assert rows["mm-triple-class"]["urgency"] == "clinical-relapse"
    files = sorted(p.name for p in (out / "export").iterdir())
    assert any(f.startswith("Observation.") for f in files) and any(f.startswith("Patient.") for f in files)
