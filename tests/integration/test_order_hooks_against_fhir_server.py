"""The order-sign / order-select services called as the CDS Hooks sandbox calls them (no
prefetch, fhirServer set, draftOrders Bundle without `type`) against the real FHIR server
holding the demo patients: the service fetches the patient's data itself."""
from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import pytest

from cds_service import create_app
from cds_service.hooks import pipeline
from cds_service.config import Config
from tests.schema_assert import assert_cds_response

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AS_OF = date.fromisoformat(json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8"))["asOf"])
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CARFILZOMIB = {"coding": [{"system": RXNORM, "code": "1302966", "display": "carfilzomib"}], "text": "Kyprolis"}


@pytest.fixture
def cds_client(monkeypatch):
    monkeypatch.setattr(pipeline, "today", lambda: AS_OF)  # the demo data are dated
    app = create_app(Config(auth="off", request_deadline_s=15.0, fhir_connect_timeout_s=2.0, fhir_read_timeout_s=10.0))
    app.config.update(TESTING=True)
    return app.test_client()


def sandbox_order(hook: str, patient_id: str, fhir_server: str, order: dict) -> dict:
    context = {"patientId": patient_id, "userId": "Practitioner/COREPRACTITIONER1",
               "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": order}]}}
    if hook == "order-select":
        context["selections"] = [f"{order['resourceType']}/{order['id']}"]
    return {"hookInstance": str(uuid.uuid4()), "hook": hook, "fhirServer": fhir_server, "context": context}


def medication_request(patient_id: str) -> dict:
    return {"resourceType": "MedicationRequest", "id": "request-123", "status": "draft", "intent": "proposal",
            "subject": {"reference": f"Patient/{patient_id}"}, "authoredOn": AS_OF.isoformat(),
            "medicationCodeableConcept": CARFILZOMIB}


def medication_order(patient_id: str) -> dict:
    return {"resourceType": "MedicationOrder", "id": "order-123", "status": "draft", "dateWritten": AS_OF.isoformat(),
            "patient": {"reference": f"Patient/{patient_id}"}, "medicationCodeableConcept": CARFILZOMIB}


def post(client, service: str, body: dict) -> list[dict]:
    resp = client.post(f"/cds-services/{service}", json=body)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    out = resp.get_json()
    assert_cds_response(out)
    return out["cards"]


def heart_cards(cards):
    return [c for c in cards if "heart" in (c["summary"] + c.get("detail", "")).lower()]


@pytest.mark.parametrize("hook,service,make", [
    ("order-sign", "myeloma-order-sign", medication_request),
    ("order-select", "myeloma-order-select", medication_order),
])
def test_carfilzomib_on_heart_failure_patient_warns_from_fetched_data(cds_client, fhir_server, hook, service, make):
    cards = post(cds_client, service, sandbox_order(hook, "mm-cardiac", fhir_server, make("mm-cardiac")))
    warned = [c for c in heart_cards(cards) if c["indicator"] == "warning"]
    assert warned and warned[0]["source"]["topic"]["code"] == "safety"


def test_carfilzomib_without_cardiac_disease_and_recent_echo_is_quiet(cds_client, fhir_server):
    body = sandbox_order("order-sign", "mm-len-refractory", fhir_server, medication_request("mm-len-refractory"))
    assert post(cds_client, "myeloma-order-sign", body) == []
