"""Flattening Bundles and CDS Hooks prefetch into resources; the demo patients end to end."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from fhir_mappings import build_patient_record, resources_from_bundle, resources_from_hook_request
from tests.mappings.fhir import obs, quantity

ROOT = Path(__file__).resolve().parents[2]
OUTCOME = {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "informational"}]}


def test_bundle_entries_flattened_outcomes_skipped():
    o1, o2 = obs("33358-3", valueQuantity=quantity(5, "g/L")), obs("718-7", valueQuantity=quantity(11, "g/dL"))
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": o1}, {"resource": OUTCOME, "search": {"mode": "outcome"}}, {"fullUrl": "x"},
        {"resource": {"resourceType": "Bundle", "entry": [{"resource": o2}]}}]}
    assert resources_from_bundle(bundle) == [o1, o2]


def test_hook_prefetch_flattened():
    patient = {"resourceType": "Patient", "id": "p1"}
    o1 = obs("33358-3", valueQuantity=quantity(5, "g/L"))
    body = {"hook": "patient-view", "context": {"patientId": "p1"}, "prefetch": {
        "patient": patient,
        "observations": {"resourceType": "Bundle", "entry": [{"resource": o1}]},
        "conditions": None,
        "medicationRequests": OUTCOME,
        "empty": {"resourceType": "Bundle", "type": "searchset", "total": 0},
    }}
    assert resources_from_hook_request(body) == [patient, o1]
    assert resources_from_hook_request({"hook": "patient-view"}) == []
    assert resources_from_hook_request({"prefetch": None}) == []


def test_build_never_raises_on_junk():
    junk = [None, 5, "x", {}, {"resourceType": "Observation"}, {"resourceType": "Observation", "status": "final",
            "code": "not-a-dict-but-string"}, {"resourceType": "Condition", "code": None},
            {"resourceType": "MedicationStatement", "status": "active", "medicationCodeableConcept": "x"},
            {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org",
             "code": "33358-3"}]}, "effectiveDateTime": "garbage", "valueQuantity": {"value": "abc"}}]
    rec = build_patient_record(junk, patient_id=None, as_of=date(2025, 6, 30))
    assert rec.labs == {} and rec.exposures == []


@pytest.mark.parametrize("name", ["vignette", "len-refractory", "triple-class"])
def test_demo_patients_map(name):
    path = ROOT / "examples" / "patients" / f"{name}.json"
    if not path.exists():
        pytest.skip("demo patients not generated")
    rec = build_patient_record(resources_from_bundle(json.loads(path.read_text())), patient_id=None,
                               as_of=date(2025, 6, 30))
    assert rec.in_scope
    # demo patients may carry deliberately messy items; each gap must name its resource
    assert all("/" in gap for gap in rec.data_gaps)
    assert len(rec.series("serum_m_protein")) >= 5
    assert {"lenalidomide", "bortezomib"} <= {e.drug for e in rec.exposures}


def test_vignette_mapping_feeds_the_expected_risk_inputs():
    path = ROOT / "examples" / "patients" / "vignette.json"
    if not path.exists():
        pytest.skip("demo patients not generated")
    rec = build_patient_record(resources_from_bundle(json.loads(path.read_text())), patient_id="mm-vignette",
                               as_of=date(2025, 6, 30))
    assert ("gain1q", True) in {(c.abnormality, c.present) for c in rec.cytogenetics}
    assert rec.ecog[-1].score == 1
    assert [t.kind for t in rec.transplants] == ["autologous"]
