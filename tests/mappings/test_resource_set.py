"""One pass per resource: type, ownership, duplicates (ResourceSet); the one Bundle flattener
with its two error policies; the one Medication index."""
from __future__ import annotations

from datetime import date

import pytest

from cds_service.fhir import prefetch
from cds_service.config import Config
from cds_service.http.errors import CdsError
from cds_service.fhir.client import FhirFetchError, _bundle_resources
from cds_service.hooks.services import REQUIRED_PATIENT_DATA, patient_data_prefetch
from fhir_mappings import (
    BundleFault,
    ResourceSet,
    build_patient_record,
    bundle_entries,
    medication_index,
    patient_of,
    resources_from_bundle,
)
from fhir_mappings.resource_set import ADDED, DUPLICATE, NOT_READ, OTHER_PATIENT
from tests.mappings.fhir import obs, quantity

PID = "p1"


def owned(rid: str, patient: str = PID, field: str = "subject") -> dict:
    return {"resourceType": "Condition", "id": rid, field: {"reference": patient}}


@pytest.mark.parametrize("reference, owner", [
    ("Patient/p1", "p1"),
    ("Patient/p2/_history/3", "p2"),
    ("https://fhir.example/r4/Patient/p2", "p2"),
    ("urn:uuid:8f0c", None),  # cannot tell: kept
    ("#contained", None),
])
def test_patient_of_reads_relative_absolute_and_versioned_references(reference, owner):
    assert patient_of({"subject": {"reference": reference}}) == owner


def test_one_pass_sorts_drops_duplicates_and_sets_aside_another_patient():
    rs = ResourceSet(PID)
    assert rs.add(owned("c1")) == ADDED
    assert rs.add(owned("c1")) == DUPLICATE  # paging overlap, or the same resource in two keys
    assert rs.add(owned("c2", "Patient/p2")) == OTHER_PATIENT
    assert rs.add(owned("c3", "https://x/fhir/Patient/p2", field="patient")) == OTHER_PATIENT
    assert rs.add({"resourceType": "Encounter", "id": "e1"}) == NOT_READ
    assert rs.add("not a resource") == NOT_READ
    assert [c["id"] for c in rs.by_type["Condition"]] == ["c1"]
    assert rs.other_patient == 2


def test_subject_without_a_reference_falls_back_to_patient():
    res = {"resourceType": "MedicationStatement", "id": "m1", "subject": {"display": "Ann"},
           "patient": {"reference": "Patient/p2"}}
    assert not ResourceSet(PID).owns(res)


def test_unknown_patient_is_settled_from_the_one_patient_resource():
    rs = ResourceSet.of([{"resourceType": "Patient", "id": PID}, owned("c1"), owned("c2", "Patient/p2")], None)
    assert rs.patient_id == PID
    assert [c["id"] for c in rs.by_type["Condition"]] == ["c1"] and rs.other_patient == 1


def test_record_counts_another_patients_resources_as_a_gap():
    rec = build_patient_record([owned("c1"), owned("c2", "Patient/p2")], patient_id=PID, as_of=date(2024, 1, 1))
    assert any("1 resource(s) for another patient" in g for g in rec.data_gaps)


def test_prefetch_sorts_what_it_checks_and_the_mapping_reads_that():
    o1 = obs("33358-3", valueQuantity=quantity(5, "g/L"), id="o1")
    o2 = obs("33358-3", valueQuantity=quantity(6, "g/L"), id="o2", when="2023-02-01")
    body = {"hook": "patient-view", "hookInstance": "h", "context": {"patientId": PID, "userId": "Practitioner/u"},
            "prefetch": {"patient": {"resourceType": "Patient", "id": PID},
                         "conditions": {"resourceType": "Bundle", "type": "searchset", "entry": []},
                         "observations": {"resourceType": "Bundle", "type": "searchset",
                                          "entry": [{"resource": o1}, {"resource": o2}, {"resource": o1}]}}}
    data = prefetch.resolve(body, patient_data_prefetch(), required=REQUIRED_PATIENT_DATA, config=Config(),
                            fetch=False)
    assert [o["id"] for o in data.resource_set.by_type["Observation"]] == ["o1", "o2"]
    assert [p["id"] for p in data.resource_set.by_type["Patient"]] == [PID]
    from_set = build_patient_record(data.resource_set, patient_id=PID, as_of=date(2024, 1, 1))
    from_list = build_patient_record(data.all_resources(), patient_id=PID, as_of=date(2024, 1, 1))
    assert from_set == from_list
    with pytest.raises(ValueError):
        build_patient_record(data.resource_set, patient_id="p2", as_of=date(2024, 1, 1))


def test_prefetch_400_names_the_entry_of_another_patient():
    body = {"hook": "patient-view", "hookInstance": "h", "context": {"patientId": PID, "userId": "Practitioner/u"},
            "prefetch": {"patient": {"resourceType": "Patient", "id": PID},
                         "conditions": {"resourceType": "Bundle", "entry": [
                             {"resource": owned("c1")}, {"resource": owned("c2", "Patient/p2")}]}}}
    with pytest.raises(CdsError) as err:
        prefetch.resolve(body, patient_data_prefetch(), required=REQUIRED_PATIENT_DATA, config=Config(), fetch=False)
    assert err.value.status == 400
    assert err.value.issues[0].expression == "prefetch.conditions.entry[1].resource"


BROKEN = {"resourceType": "Bundle", "entry": [{"resource": owned("c1")}, {"resource": {"id": "x"}}]}


def test_one_flattener_three_policies():
    with pytest.raises(BundleFault) as fault:
        bundle_entries(BROKEN, "prefetch.conditions")
    assert fault.value.path == "prefetch.conditions.entry[1].resource"
    with pytest.raises(CdsError) as err:  # what a client sent: a 400 naming the entry
        prefetch.bundle_entries_or_400(BROKEN, "$")
    assert err.value.status == 400
    with pytest.raises(FhirFetchError) as fetch_err:  # what a FHIR server answered: a failed fetch
        _bundle_resources(BROKEN)
    assert fetch_err.value.reason == "invalid-bundle"
    assert [r["id"] for r in resources_from_bundle(BROKEN)] == ["c1"]  # lenient: skipped


def test_entries_that_carry_no_data_are_skipped_in_every_policy():
    bundle = {"resourceType": "Bundle", "entry": [
        {"fullUrl": "urn:uuid:1", "response": {"status": "201"}},
        {"resource": {"resourceType": "OperationOutcome"}, "search": {"mode": "outcome"}},
        {"resource": owned("c1")}]}
    assert [r["id"] for _, r in bundle_entries(bundle)] == ["c1"]
    assert [r["id"] for r in _bundle_resources(bundle)] == ["c1"]


def test_one_medication_index_for_relative_and_bare_references():
    med = {"resourceType": "Medication", "id": "dara"}
    index = medication_index([med, {"resourceType": "Medication", "id": "dara", "code": {}}])
    assert index["Medication/dara"] is med and index["dara"] is med  # the first one wins
