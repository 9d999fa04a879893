"""The 400 / 404 / 405 / 500 matrix: always an OperationOutcome naming the problem."""
from __future__ import annotations

import pytest

from tests.schema_assert import assert_operation_outcome

URL = "/cds-services/myeloma-relapse"


def _request(**overrides):
    body = {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"patientId": "p1", "userId": "Practitioner/u1"}}
    body.update(overrides)
    return body


def test_malformed_json_is_400(client):
    resp = client.post(URL, data=b'{"hook": "patient-view",', content_type="application/json")
    assert resp.status_code == 400
    assert resp.mimetype == "application/fhir+json"
    assert_operation_outcome(resp.get_json(), contains="not valid JSON")


@pytest.mark.parametrize("raw", [b"", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_body_that_is_not_a_json_object_is_400(client, raw):
    resp = client.post(URL, data=raw, content_type="application/json")
    assert resp.status_code == 400
    assert_operation_outcome(resp.get_json())


def test_unknown_service_is_404(client):
    resp = client.post("/cds-services/no-such-service", json=_request())
    assert resp.status_code == 404
    assert_operation_outcome(resp.get_json(), contains="no-such-service")


def test_wrong_hook_is_400(client):
    resp = client.post(URL, json=_request(hook="order-sign"))
    assert resp.status_code == 400
    assert_operation_outcome(resp.get_json(), expression="hook", contains="patient-view")


def test_missing_patient_id_is_400(client):
    resp = client.post(URL, json=_request(context={"userId": "Practitioner/u1"}))
    assert resp.status_code == 400
    assert_operation_outcome(resp.get_json(), expression="context.patientId")


@pytest.mark.parametrize(
    "body, expression",
    [
        (_request(hookInstance=None), "hookInstance"),
        ({k: v for k, v in _request().items() if k != "hookInstance"}, "hookInstance"),
        ({k: v for k, v in _request().items() if k != "context"}, "context"),
        (_request(context={"patientId": "../../Patient/x"}), "context.patientId"),
        (_request(context={"patientId": 12}), "context.patientId"),
        (_request(fhirServer="not a url"), "fhirServer"),
        (_request(fhirAuthorization={"access_token": "t", "token_type": "Bearer"}), "$"),
        (_request(prefetch={"patient": "Patient/p1"}), "prefetch.patient"),
        (_request(prefetch=[]), "prefetch"),
    ],
)
def test_schema_violations_are_400_with_json_path(client, body, expression):
    resp = client.post(URL, json=body)
    assert resp.status_code == 400
    assert_operation_outcome(resp.get_json(), expression=expression)


def test_prefetch_of_wrong_resource_type_is_400(client):
    resp = client.post(URL, json=_request(prefetch={"patient": {"resourceType": "Observation", "id": "o1"}}))
    assert resp.status_code == 400
    assert_operation_outcome(resp.get_json(), expression="prefetch.patient.resourceType", contains="Patient")


def test_search_prefetch_that_is_not_a_bundle_is_400(client):
    resp = client.post(URL, json=_request(prefetch={"conditions": {"resourceType": "Condition", "id": "c1"}}))
    assert resp.status_code == 400
    assert_operation_outcome(resp.get_json(), expression="prefetch.conditions.resourceType")


@pytest.mark.parametrize(
    "entries, expression",
    [
        ([{"resource": {"resourceType": "Observation"}}, 7], "prefetch.observations.entry[1]"),
        ([{"resource": "garbage"}], "prefetch.observations.entry[0].resource"),
        ([{"resource": {"id": "no-type"}}], "prefetch.observations.entry[0].resource"),
        ([{"resource": {"resourceType": "Condition", "id": "c"}}], "prefetch.observations.entry[0].resource.resourceType"),
        ([{"search": {"mode": "match"}}], "prefetch.observations.entry[0]"),
    ],
)
def test_bundle_with_garbage_entries_is_400(client, entries, expression):
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    resp = client.post(URL, json=_request(prefetch={"observations": bundle}))
    assert resp.status_code == 400
    assert_operation_outcome(resp.get_json(), expression=expression)


def test_bundle_entry_not_a_list_is_400(client):
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": {"resource": {}}}
    resp = client.post(URL, json=_request(prefetch={"conditions": bundle}))
    assert resp.status_code == 400
    assert_operation_outcome(resp.get_json(), expression="prefetch.conditions.entry")


def test_prefetch_of_another_patient_is_400(client):
    other = {"resourceType": "Bundle", "type": "searchset",
             "entry": [{"resource": {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p2"}}}]}
    resp = client.post(URL, json=_request(prefetch={"conditions": other}))
    assert resp.status_code == 400
    assert_operation_outcome(resp.get_json(), expression="prefetch.conditions.entry[0].resource")
    resp = client.post(URL, json=_request(prefetch={"patient": {"resourceType": "Patient", "id": "p2"}}))
    assert resp.status_code == 400
    assert_operation_outcome(resp.get_json(), expression="prefetch.patient.id")


def test_wrong_method_is_405_operation_outcome(client):
    resp = client.get(URL)
    assert resp.status_code == 405
    assert_operation_outcome(resp.get_json())
    assert "POST" in resp.headers["Allow"]


def test_unknown_path_is_404_operation_outcome(client):
    resp = client.get("/nowhere")
    assert resp.status_code == 404
    assert_operation_outcome(resp.get_json())


def test_unexpected_error_is_generic_500_without_internals(app, client, monkeypatch, caplog):
    import cds_service.hooks.patient_view as patient_view

    def boom(call):
        raise RuntimeError("secret-" + call.body["context"]["patientId"])

    monkeypatch.setattr(patient_view, "handle_patient_view", boom)
    prefetch = {"patient": None, "conditions": None, "observations": None}
    resp = client.post(URL, json=_request(prefetch=prefetch))
    assert resp.status_code == 500
    body = resp.get_json()
    assert_operation_outcome(body)
    text = resp.get_data(as_text=True)
    assert "secret" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert "secret-p1" not in caplog.text  # exception messages may quote request data


def test_oversized_body_is_413_operation_outcome(client):
    resp = client.post(URL, data=b"{" + b" " * (21 * 1024 * 1024) + b"}", content_type="application/json")
    assert resp.status_code == 413
    assert_operation_outcome(resp.get_json())
