"""The patient-view hook called as the CDS Hooks sandbox calls it (JWT header, fhirServer,
no prefetch) against the real FHIR server holding the demo patients: the service must fetch
and page through the server itself and answer as it does with full prefetch."""
from __future__ import annotations

import copy
import json
import time
import uuid
from datetime import date
from dataclasses import replace
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from cds_service import create_app
from cds_service.hooks import pipeline, services
from cds_service.config import Config
from cds_service.fhir.client import FhirClient
from cds_service.http.schemas import RESPONSE, validator

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SERVICE_URL = "/cds-services/myeloma-relapse"
SMALL_PAGE = 3  # forces several pages (every demo patient has more than 3 Observations)
AS_OF = date.fromisoformat(json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8"))["asOf"])


def sandbox_jwt(audience: str) -> str:
    """A JWT shaped like the sandbox's (ES384, kid, jku; iss/aud/exp/iat/jti), own throwaway key."""
    key = ec.generate_private_key(ec.SECP384R1())
    now = int(time.time())
    return jwt.encode({"iss": "https://sandbox.cds-hooks.org", "aud": audience, "iat": now, "exp": now + 300,
                       "jti": str(uuid.uuid4())}, key, algorithm="ES384",
                      headers={"kid": "integration-test", "jku": "https://sandbox.cds-hooks.org/.well-known/jwks.json"})


def sandbox_request(patient_id: str, fhir_server: str | None) -> dict:
    body = {"hookInstance": str(uuid.uuid4()), "hook": "patient-view",
            "context": {"patientId": patient_id, "userId": "Practitioner/COREPRACTITIONER1"}}
    if fhir_server:
        body["fhirServer"] = fhir_server
    return body


@pytest.fixture
def cds_client(monkeypatch):
    monkeypatch.setattr(pipeline, "today", lambda: AS_OF)  # the demo data are dated
    config = Config(auth="off", request_deadline_s=15.0, fhir_connect_timeout_s=2.0, fhir_read_timeout_s=10.0)
    app = create_app(config)
    app.config.update(TESTING=True)
    return app.test_client()


def call(client, body: dict):
    return client.post(SERVICE_URL, json=body, headers={"Authorization": f"Bearer {sandbox_jwt('http://localhost' + SERVICE_URL)}"})


def without_uuids(cards: list[dict]) -> list[dict]:
    """Cards compared by content: uuids are fresh on every call."""
    def strip(node):
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "uuid"}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node
    return strip(copy.deepcopy(cards))


def assert_valid_response(body: dict) -> None:
    errors = list(validator(RESPONSE).iter_errors(body))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


@pytest.fixture
def fetched_urls(monkeypatch):
    """Every URL the service's FHIR client requests."""
    urls: list[str] = []
    original = FhirClient._get_once

    def spy(self, url):
        urls.append(url)
        return original(self, url)

    monkeypatch.setattr(FhirClient, "_get_once", spy)
    return urls


def test_sandbox_style_call_fetches_from_the_server_and_returns_a_relapse_card(cds_client, fhir_server, fetched_urls):
    resp = call(cds_client, sandbox_request("mm-vignette", fhir_server))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    body = resp.get_json()
    assert_valid_response(body)
    topics = [c["source"].get("topic", {}).get("code") for c in body["cards"]]
    assert topics[0] == "relapse-treatment"  # the relapse card leads (issue 11)
    card = body["cards"][0]
    assert card["indicator"] == "warning" and "biochemical" in card["summary"].lower()
    assert fetched_urls and all(u.startswith(fhir_server + "/") for u in fetched_urls)


@pytest.mark.parametrize("patient", ["vignette", "len-refractory", "triple-class", "stable-remission",
                                     "cardiac", "no-myeloma"])
def test_small_pages_give_the_same_cards_as_full_prefetch(cds_client, fhir_server, fetched_urls, monkeypatch,
                                                          patient):
    full = json.loads((EXAMPLES / "hooks" / f"patient-view-{patient}.json").read_text(encoding="utf-8"))
    small = [replace(s, prefetch={k: v.replace(f"_count={services.PREFETCH_COUNT}", f"_count={SMALL_PAGE}")
                                  for k, v in s.prefetch.items()}) for s in services.SERVICES]
    monkeypatch.setattr(services, "SERVICES", small)
    paged = call(cds_client, sandbox_request(full["context"]["patientId"], fhir_server))
    assert paged.status_code == 200, paged.get_data(as_text=True)[:2000]
    assert any("_offset=" in u for u in fetched_urls), "the service never followed a next link"

    prefetched = call(cds_client, full)
    assert prefetched.status_code == 200, prefetched.get_data(as_text=True)[:2000]
    assert without_uuids(paged.get_json()["cards"]) == without_uuids(prefetched.get_json()["cards"])


def test_no_fhir_server_and_no_prefetch_is_412_with_an_operation_outcome(cds_client):
    resp = call(cds_client, sandbox_request("mm-vignette", None))
    assert resp.status_code == 412
    outcome = resp.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"] and all(i["severity"] in ("error", "fatal") for i in outcome["issue"])


def test_patient_without_myeloma_gets_no_cards(cds_client, fhir_server):
    resp = call(cds_client, sandbox_request("mm-no-myeloma", fhir_server))
    assert resp.status_code == 200
    assert resp.get_json() == {"cards": []}


@pytest.fixture(scope="module")
def secured_fhir_server():
    """A second sekmet that demands a bearer token, holding the demo patients."""
    from tests.integration.fhir_server import load_demo_bundles, start_fhir_server, stop_fhir_server

    server = start_fhir_server(tokens=["hook-test-access-token"])
    try:
        load_demo_bundles(server)
        yield server
    finally:
        stop_fhir_server(server)


def test_fhir_authorization_token_is_sent_to_a_secured_server(cds_client, secured_fhir_server):
    body = sandbox_request("mm-vignette", secured_fhir_server.base_url)
    body["fhirAuthorization"] = {"access_token": "hook-test-access-token", "token_type": "Bearer",
                                 "expires_in": 300, "scope": "patient/*.read", "subject": "myeloma-cds"}
    resp = call(cds_client, body)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    assert "relapse-treatment" in [c["source"]["topic"]["code"] for c in resp.get_json()["cards"]]


def test_secured_server_without_a_token_gives_412_not_500(cds_client, secured_fhir_server):
    resp = call(cds_client, sandbox_request("mm-vignette", secured_fhir_server.base_url))
    assert resp.status_code == 412
    assert resp.get_json()["resourceType"] == "OperationOutcome"
