"""The timeline API (`POST /app/api/timeline`) requires what the rest of the app requires
(issue 13): with CDS_AUTH=jwt, the SMART token of the launch, checked with the launch's FHIR
server, or a trusted CDS client's JWT; otherwise a bare 401 and no assessment."""
from __future__ import annotations

import json

import pytest

from cds_service import create_app
from cds_service.config import Config
from tests.faults.fake_fhir import FakeFhirServer, Reply
from tests.security.jwt_clients import PUBLIC_BASE, clients_document

PID = "tl-patient-1"
SMART_TOKEN = "smart-access-token-for-timeline-tests-9c1e"
BUNDLE = {"resourceType": "Bundle", "type": "collection",
          "entry": [{"resource": {"resourceType": "Patient", "id": PID, "birthDate": "1950-01-01"}}]}
PATH = "/app/api/timeline?asOf=2025-06-30"


@pytest.fixture
def fhir():
    def respond(path: str) -> Reply:
        seen = fhir_server.seen[-1]
        if seen.authorization != f"Bearer {SMART_TOKEN}":
            return Reply.json({"resourceType": "OperationOutcome"}, status=401)
        if path.split("?")[0] == f"/fhir/Patient/{PID}":
            return Reply.json({"resourceType": "Patient", "id": PID})
        return Reply.json({"resourceType": "OperationOutcome"}, status=404)

    fhir_server = FakeFhirServer(respond)
    with fhir_server:
        yield fhir_server


@pytest.fixture
def app(tmp_path, fhir, es_client, rs_client, tenant_client, monkeypatch):
    monkeypatch.delenv("CDS_SMART_ALLOWED_ISS", raising=False)
    clients = tmp_path / "clients.json"
    clients.write_text(json.dumps(clients_document(es_client, rs_client, tenant_client,
                                                   fhir_servers=[fhir.base_url])))
    app = create_app(Config(auth="jwt", trusted_clients=str(clients), public_base_url=PUBLIC_BASE,
                            database_url=f"sqlite:///{tmp_path}/tl.sqlite", request_deadline_s=2.0))
    app.config.update(TESTING=True)
    return app


def smart_headers(fhir, token=SMART_TOKEN, patient=PID, server=None) -> dict:
    return {"Authorization": f"Bearer {token}", "X-FHIR-Server": server or fhir.base_url,
            "X-FHIR-Patient": patient}


def test_smart_token_accepted_by_the_fhir_server_gets_the_timeline(app, fhir):
    resp = app.test_client().post(PATH, json=BUNDLE, headers=smart_headers(fhir))
    assert resp.status_code == 200, resp.get_data()[:300]
    assert [s.path for s in fhir.seen] == [f"/fhir/Patient/{PID}"]


@pytest.mark.parametrize("headers", [
    {},
    {"X-FHIR-Server": "x", "X-FHIR-Patient": PID},
    {"Authorization": "Bearer wrong-token-123456"},
])
def test_without_a_token_the_fhir_server_accepts_it_is_a_bare_401(app, fhir, headers):
    full = {**smart_headers(fhir), **headers} if headers.get("Authorization") else headers
    resp = app.test_client().post(PATH, json=BUNDLE, headers=full)
    assert resp.status_code == 401 and resp.get_data() == b""


def test_a_fhir_server_off_the_allow_list_gets_no_request(app, fhir):
    with FakeFhirServer() as other:
        resp = app.test_client().post(PATH, json=BUNDLE, headers=smart_headers(fhir, server=other.base_url))
        assert resp.status_code == 401
        assert other.seen == []


def test_cds_smart_allowed_iss_replaces_the_trusted_clients_servers(app, fhir, monkeypatch):
    monkeypatch.setenv("CDS_SMART_ALLOWED_ISS", "https://only-this.example.org/fhir")
    resp = app.test_client().post(PATH, json=BUNDLE, headers=smart_headers(fhir))
    assert resp.status_code == 401 and fhir.seen == []
    monkeypatch.setenv("CDS_SMART_ALLOWED_ISS", fhir.base_url)
    assert app.test_client().post(PATH, json=BUNDLE, headers=smart_headers(fhir)).status_code == 200


@pytest.mark.parametrize("patient", ["", "../Patient/x", "a" * 65, "p\u00e9"])
def test_patient_header_must_be_a_fhir_id(app, fhir, patient):
    resp = app.test_client().post(PATH, json=BUNDLE, headers=smart_headers(fhir, patient=patient))
    assert resp.status_code == 401 and fhir.seen == []


def test_a_bundle_of_another_patient_than_the_launch_is_a_400(app, fhir):
    other = json.loads(json.dumps(BUNDLE).replace(PID, "someone-else"))
    resp = app.test_client().post(PATH, json=other, headers=smart_headers(fhir))
    assert resp.status_code == 400
    assert "patient of the SMART launch" in resp.get_json()["issue"][0]["diagnostics"]


def test_a_trusted_cds_client_jwt_is_accepted_instead(app, es_client):
    token = es_client.token(PUBLIC_BASE + "/app/api/timeline")
    resp = app.test_client().post(PATH, json=BUNDLE, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    replay = app.test_client().post(PATH, json=BUNDLE, headers={"Authorization": f"Bearer {token}"})
    assert replay.status_code == 401


def test_hostile_bodies_from_an_unauthenticated_caller_are_refused_before_parsing(app):
    resp = app.test_client().post(PATH, data=b"[" * 100_000, content_type="application/json")
    assert resp.status_code == 401 and resp.get_data() == b""
