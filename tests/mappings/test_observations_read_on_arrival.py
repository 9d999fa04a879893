"""Observations read as the prefetch step sorts them (ResourceSet(read_observations=True)) give
the record that reading them afterwards gives: the same series, findings and data gaps, in the
same order, whatever the Observations hold."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from cds_service.config import Config
from cds_service.fhir import prefetch
from cds_service.hooks.services import REQUIRED_PATIENT_DATA, patient_data_prefetch
from fhir_mappings import ResourceSet, build_patient_record
from tests.mappings.fhir import PID, obs, quantity

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "hooks"
AS_OF = date(2026, 11, 30)


def _hook_body(observations: list[dict], patient: dict | None = None) -> dict:
    """A patient-view request with these Observations prefetched (and no Conditions)."""
    return {
        "hook": "patient-view", "hookInstance": "0e4c7f3a-1111-4e2b-9c55-3f1d2a6b7c80",
        "context": {"patientId": PID, "userId": "Practitioner/x"},
        "prefetch": {
            "patient": patient or {"resourceType": "Patient", "id": PID, "birthDate": "1950-01-01"},
            "conditions": {"resourceType": "Bundle", "type": "searchset", "entry": []},
            "observations": {"resourceType": "Bundle", "type": "searchset",
                             "entry": [{"resource": o} for o in observations]},
        },
    }


def _both_ways(body: dict):
    """(record read on arrival, record read afterwards from the same resources)."""
    data = prefetch.resolve(body, patient_data_prefetch(), required=REQUIRED_PATIENT_DATA,
                            config=Config(auth="off"), fetch=False)
    pid = body["context"]["patientId"]
    on_arrival = build_patient_record(data.resource_set, patient_id=pid, as_of=AS_OF)
    resources = [r for rs in data.resource_set.by_type.values() for r in rs]
    afterwards = build_patient_record(resources, patient_id=pid, as_of=AS_OF)
    return on_arrival, afterwards


@pytest.mark.parametrize("path", sorted(p for p in EXAMPLES.glob("*.json") if "no-prefetch" not in p.name),
                         ids=lambda p: p.stem)
def test_every_example_gives_the_same_record(path):
    on_arrival, afterwards = _both_ways(json.loads(path.read_text()))
    assert on_arrival.labs  # the examples hold lab series: the comparison is not vacuous
    assert on_arrival == afterwards


def test_gaps_and_odd_observations_come_out_the_same_and_in_the_same_order():
    observations = [
        obs("33358-3", id="m1", valueQuantity=quantity(2.1, "g/dL")),
        obs("33358-3", id="m1", valueQuantity=quantity(2.1, "g/dL")),  # duplicate id: read once
        obs("33358-3", id="m2", when=None, valueQuantity=quantity(2.0, "g/dL")),  # no date: a gap
        obs("33358-3", id="m3", valueQuantity=quantity(2.0, "furlongs")),  # unknown unit: a gap
        obs("33358-3", id="m4", status="preliminary", valueQuantity=quantity(9.0, "g/dL")),  # not used
        {"resourceType": "Observation", "id": "bad", "status": "final", "code": "not an object"},  # malformed
        obs("33358-3", id="late", when="2027-01-01", valueQuantity=quantity(1.0, "g/dL")),  # after as-of
    ]
    # a Patient whose birth date cannot be read: its gap must stay first
    body = _hook_body(observations, {"resourceType": "Patient", "id": PID, "birthDate": "not-a-date"})
    on_arrival, afterwards = _both_ways(body)
    assert on_arrival == afterwards
    gaps = on_arrival.data_gaps
    assert gaps[0].startswith("Patient.birthDate")
    assert any("Observation/m2" in g for g in gaps) and any("Observation/m3" in g for g in gaps)
    assert any("Observation/bad is malformed" in g for g in gaps)
    assert [r.source_id for r in on_arrival.labs["serum_m_protein"]] == ["Observation/m1"]


def test_observations_are_read_once_and_not_after_they_were_taken():
    rs = ResourceSet(PID, read_observations=True)
    rs.add(obs("33358-3", id="a", valueQuantity=quantity(2.1, "g/dL")))
    reader = rs.take_observations()
    assert [r.value for r in reader.labs["serum_m_protein"]] == [21.0]  # 2.1 g/dL in g/L
    assert rs.take_observations() is None  # a second record reads by_type as usual
    rs.add(obs("33358-3", id="b", valueQuantity=quantity(3.0, "g/dL")))
    assert len(reader.labs["serum_m_protein"]) == 1
    assert [o["id"] for o in rs.by_type["Observation"]] == ["a", "b"]


def test_without_a_known_patient_nothing_is_read_on_arrival():
    """The patient may be settled later (settle_patient drops another's resources)."""
    rs = ResourceSet(None, read_observations=True)
    rs.add(obs("33358-3", id="a", valueQuantity=quantity(2.1, "g/dL")))
    assert rs.take_observations() is None


def test_thousands_of_gaps_read_on_arrival_are_counted_not_kept():
    """Deferred gaps are bounded like the record's own (first five notes of a kind, then a
    count), and give the same list as reading afterwards."""
    observations = [obs("33358-3", id=f"u{i}", valueQuantity=quantity(2.0, "furlongs")) for i in range(2000)]
    body = _hook_body(observations)
    rs = ResourceSet(PID, read_observations=True)
    for o in observations:
        rs.add(o)
    assert len(rs._reader.gaps.calls) == 5  # not 2,000
    on_arrival, afterwards = _both_ways(body)
    assert on_arrival.data_gaps == afterwards.data_gaps
    assert on_arrival.data_gaps[-1].startswith("... and 1995 more like: Observation/u0")
