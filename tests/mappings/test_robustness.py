"""Messy and broken input never makes the mapping raise (issue 3: bad data -> data gaps)."""
from __future__ import annotations

import copy
import math
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fhir_mappings import build_patient_record
from tests.mappings.fhir import LOINC, RXNORM, SNOMED, concept, obs, quantity

SEEDS = [
    obs("33358-3", valueQuantity=quantity(0.5, "g/dL", comparator="<")),
    obs("72824-6", valueCodeableConcept=concept(LOINC, "LA11882-0"), component=[
        {"code": concept(LOINC, "81752-8"), "valueString": "1q gain detected"}]),
    obs("89247-1", valueInteger=1, interpretation=[concept(LOINC, "LA9623-5")]),
    {"resourceType": "MedicationRequest", "id": "m", "status": "active", "intent": "order",
     "medicationCodeableConcept": concept(RXNORM, "342369"), "authoredOn": "2024-01-01",
     "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"start": "2024-01-01"}}}}],
     "dispenseRequest": {"expectedSupplyDuration": {"value": 28, "code": "d"}, "numberOfRepeatsAllowed": 3}},
    {"resourceType": "MedicationAdministration", "id": "a", "status": "completed",
     "medicationReference": {"reference": "#x"}, "effectivePeriod": {"start": "2024-01-01"},
     "contained": [{"resourceType": "Medication", "id": "x", "code": {"text": "Darzalex"}}]},
    {"resourceType": "Condition", "id": "c", "code": concept(SNOMED, "109989006"),
     "clinicalStatus": concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active"),
     "onsetPeriod": {"start": "2020-01-01"}},
    {"resourceType": "Procedure", "id": "p", "status": "completed", "code": {"text": "autologous stem cell transplant"},
     "performedPeriod": {"start": "2021-01-01"}},
    {"resourceType": "Patient", "id": "p1", "birthDate": "1950-02"},
]

JUNK = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=8),
                 st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


def _paths(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(range(len(SEEDS))), choice=st.integers(min_value=0), junk=JUNK)
def test_any_field_replaced_by_junk_never_raises(seed, choice, junk):
    res = copy.deepcopy(SEEDS[seed])
    paths = list(_paths(res))
    path = paths[choice % len(paths)]
    target = res
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = junk
    rec = build_patient_record([res], patient_id="p1", as_of=date(2025, 6, 30))
    assert all(isinstance(g, str) for g in rec.data_gaps)
    assert all(math.isfinite(r.value) and r.value >= 0 for series in rec.labs.values() for r in series)
