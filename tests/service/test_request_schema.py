"""The request schema accepts what real clients send (the sandbox's order hooks included)
and rejects what the spec forbids."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cds_service.http import schemas
from cds_service.http.validation import schema_issues
from tests.schema_assert import assert_valid

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "hooks"


def sandbox_rx_view(order: dict, hook: str = "order-select") -> dict:
    """As the CDS Hooks sandbox's Rx View builds it: draftOrders Bundle WITHOUT `type`."""
    context = {"userId": "Practitioner/COREPRACTITIONER1", "patientId": "smart-1288992",
               "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": order}]}}
    if hook == "order-select":
        context["selections"] = [f"{order['resourceType']}/{order['id']}"]
    return {"hookInstance": "0f5c9e0a-9b1d-4c1b-9a57-6ab1d6f0b7a1", "hook": hook,
            "fhirServer": "https://launch.smarthealthit.org/v/r2/fhir", "context": context}


DSTU2_ORDER = {"resourceType": "MedicationOrder", "id": "order-123", "status": "draft",
               "patient": {"reference": "Patient/smart-1288992"}, "dateWritten": "2026-11-23",
               "medicationCodeableConcept": {"text": "Carfilzomib"}}
R4_REQUEST = {"resourceType": "MedicationRequest", "id": "request-123", "status": "draft", "intent": "order",
              "subject": {"reference": "Patient/smart-1288992"}, "authoredOn": "2026-11-23",
              "medicationCodeableConcept": {"text": "Carfilzomib"}}


@pytest.mark.parametrize("order", [DSTU2_ORDER, R4_REQUEST])
@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_sandbox_order_hooks_are_accepted(order, hook):
    assert_valid(sandbox_rx_view(order, hook), schemas.REQUEST)


def test_order_select_needs_selections_and_draft_orders():
    body = sandbox_rx_view(R4_REQUEST)
    del body["context"]["selections"]
    assert [i.expression for i in schema_issues(body, schemas.REQUEST)] == ["context.selections"]
    body = sandbox_rx_view(R4_REQUEST, "order-sign")
    body["context"]["draftOrders"] = {"resourceType": "Bundle", "entry": [{"resource": "x"}]}
    assert schema_issues(body, schemas.REQUEST)
    body["context"]["draftOrders"] = {"resourceType": "Parameters"}
    assert schema_issues(body, schemas.REQUEST)


def test_selection_must_be_type_slash_id():
    body = sandbox_rx_view(R4_REQUEST)
    body["context"]["selections"] = ["request-123"]
    assert [i.expression for i in schema_issues(body, schemas.REQUEST)] == ["context.selections[0]"]


def test_fhir_authorization_requires_fhir_server_and_token():
    body = sandbox_rx_view(R4_REQUEST)
    body["fhirAuthorization"] = {"token_type": "Bearer"}
    assert "fhirAuthorization.access_token" in [i.expression for i in schema_issues(body, schemas.REQUEST)]
    del body["fhirServer"]
    body["fhirAuthorization"]["access_token"] = "t"
    assert any("fhirServer" in i.diagnostics for i in schema_issues(body, schemas.REQUEST))


def test_prefetch_values_may_be_null_or_resources():
    body = sandbox_rx_view(R4_REQUEST)
    body["prefetch"] = {"patient": None, "x": {"resourceType": "Bundle"}}
    assert_valid(body, schemas.REQUEST)
    body["prefetch"]["y"] = {"no": "type"}
    assert [i.expression for i in schema_issues(body, schemas.REQUEST)] == ["prefetch.y"]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_example_hook_requests_validate(path):
    assert_valid(json.loads(path.read_text()), schemas.REQUEST)
