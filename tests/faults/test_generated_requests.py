"""Hypothesis-generated request bodies never produce a 5xx (issue 5).

1,000 examples each for hook calls and feedback, plus 300 near-valid hook calls that run
the whole pipeline (settings below; CI runs the same), against the Flask test
client with CDS_AUTH=off and no fhirServer, so no network is involved. The strategy mixes
arbitrary JSON with near-valid CDS Hooks bodies (right keys, wrong or odd values; prefetch
values that are null, resources, Bundles of odd resources) so that generated bodies reach the
schema checks, the prefetch checks, the mappings and the model, not only the JSON parser.
"""
from __future__ import annotations

import json
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_service import create_app
from cds_service.config import Config
from cds_service.hooks.services import patient_data_prefetch

EXAMPLES = 1000
NEAR_VALID_EXAMPLES = 300  # these run the whole pipeline: slower per example
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_DB_DIR = tempfile.mkdtemp(prefix="myeloma-cds-hypothesis-")
APP = create_app(Config(auth="off", database_url=f"sqlite:///{_DB_DIR}/fuzz.sqlite"))
APP.config.update(TESTING=True)
CLIENT = APP.test_client()

scalars = (st.none() | st.booleans() | st.integers(min_value=-10**12, max_value=10**12)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
ids = st.sampled_from(["p1", "p-2", "", " ", "../x", "Patient/p1", "p1?x=1"]) | st.text(max_size=8)
dates = st.sampled_from(["2024-01-01", "2024-13-40", "2024", "2024-06-01T10:00:00Z", "", "x"]) \
    | st.dates().map(str)
codings = st.fixed_dictionaries({
    "system": st.sampled_from(["http://loinc.org", "http://snomed.info/sct", "urn:x"]),
    "code": st.sampled_from(["33358-3", "42482-0", "2160-0", "718-7", "109989006", "x"]),
})
resources = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Observation", "Condition", "MedicationStatement",
                                      "MedicationRequest", "MedicationAdministration", "Patient",
                                      "OperationOutcome", "Bundle", "Nonsense", ""])},
    optional={
        "id": ids,
        "subject": st.fixed_dictionaries({"reference": st.sampled_from(["Patient/p1", "Patient/x", ""])}),
        "code": st.fixed_dictionaries({}, optional={"coding": st.lists(codings, max_size=2),
                                                    "text": st.text(max_size=6)}) | json_values,
        "status": st.sampled_from(["final", "active", "completed", "entered-in-error", ""]) | json_values,
        "effectiveDateTime": dates,
        "valueQuantity": st.fixed_dictionaries({}, optional={
            "value": st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=4),
            "unit": st.sampled_from(["g/dL", "g/L", "mg/L", "%", "bogus"]),
            "code": st.sampled_from(["g/dL", "g/L", "mg/L", "%"]),
            "system": st.just("http://unitsofmeasure.org"),
            "comparator": st.sampled_from(["<", ">", "~"])}),
        "birthDate": dates,
        "effectivePeriod": st.fixed_dictionaries({}, optional={"start": dates, "end": dates}),
        "medicationCodeableConcept": st.fixed_dictionaries({"coding": st.lists(codings, max_size=1)}),
        "extra": json_values,
    },
)
bundles = st.fixed_dictionaries(
    {"resourceType": st.just("Bundle")},
    optional={"type": st.sampled_from(["searchset", "collection", "x"]),
              "entry": st.lists(st.fixed_dictionaries({}, optional={"resource": resources | json_values,
                                                                    "fullUrl": st.text(max_size=5)})
                                | json_values, max_size=4),
              "link": st.lists(st.fixed_dictionaries({"relation": st.just("next"),
                                                      "url": st.text(max_size=10)}), max_size=1)},
)
prefetch = st.dictionaries(st.sampled_from(sorted(patient_data_prefetch())) | st.text(max_size=6),
                           st.none() | resources | bundles | json_values, max_size=6)
hook_bodies = st.fixed_dictionaries(
    {"hook": st.sampled_from(["patient-view", "order-sign", ""]) | st.text(max_size=6) | json_values,
     "hookInstance": st.uuids().map(str) | json_values,
     "context": st.fixed_dictionaries({"patientId": ids, "userId": st.sampled_from(
         ["Practitioner/u1", "u1", "Patient/p1"])}, optional={"encounterId": ids}) | json_values},
    optional={"prefetch": prefetch | json_values, "fhirAuthorization": json_values,
              "extension": json_values},
)


def typed_resource(resource_type: str):
    """A resource of the right type for its prefetch key, with generated (odd) content."""
    return resources.map(lambda r: {**r, "resourceType": resource_type,
                                    "subject": {"reference": "Patient/p1"}})


def searchset_of(resource_type: str):
    return st.lists(typed_resource(resource_type), max_size=6).map(
        lambda rs: {"resourceType": "Bundle", "type": "searchset",
                    "entry": [{"resource": r} for r in rs]})


KEY_TYPES = {key: tpl.split("?")[0].split("/")[0] for key, tpl in patient_data_prefetch().items()}
valid_shaped_bodies = st.fixed_dictionaries({
    "hook": st.just("patient-view"),
    "hookInstance": st.uuids().map(str),
    "context": st.just({"patientId": "p1", "userId": "Practitioner/u1"}),
    "prefetch": st.fixed_dictionaries({
        key: (st.fixed_dictionaries({"resourceType": st.just("Patient"), "id": st.just("p1")},
                                    optional={"birthDate": dates, "gender": st.text(max_size=4)})
              if rtype == "Patient" and "/" in patient_data_prefetch()[key]
              else st.none() | searchset_of(rtype))
        for key, rtype in KEY_TYPES.items()}),
})
feedback_bodies = st.fixed_dictionaries({"feedback": st.lists(st.fixed_dictionaries(
    {}, optional={"card": st.text(max_size=6) | json_values,
                  "outcome": st.sampled_from(["accepted", "overridden", "x"]) | json_values,
                  "acceptedSuggestions": st.lists(st.fixed_dictionaries({}, optional={
                      "id": st.text(max_size=5) | json_values}), max_size=2) | json_values,
                  "overrideReason": st.fixed_dictionaries({}, optional={
                      "reason": codings | json_values, "userComment": st.text(max_size=8)}) | json_values,
                  "outcomeTimestamp": dates | st.datetimes().map(lambda d: d.isoformat() + "Z")}),
    max_size=3) | json_values})
raw_payloads = st.binary(max_size=64)


def post(path: str, payload) -> int:
    if isinstance(payload, bytes):
        return CLIENT.post(path, data=payload, content_type="application/json").status_code
    return CLIENT.post(path, data=json.dumps(payload), content_type="application/json").status_code


@SETTINGS
@given(payload=hook_bodies | json_values | raw_payloads)
def test_generated_hook_requests_never_give_5xx(payload):
    assert post("/cds-services/myeloma-relapse", payload) < 500


@settings(SETTINGS, max_examples=NEAR_VALID_EXAMPLES)
@given(payload=valid_shaped_bodies)
def test_generated_near_valid_hook_requests_never_give_5xx(payload):
    """Schema-valid bodies with type-correct but odd prefetch resources: reach the mappings
    and the model."""
    assert post("/cds-services/myeloma-relapse", payload) < 500


@SETTINGS
@given(payload=feedback_bodies | json_values | raw_payloads)
def test_generated_feedback_never_gives_5xx(payload):
    assert post("/cds-services/myeloma-relapse/feedback", payload) < 500
