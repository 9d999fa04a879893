"""Client authentication through HTTP (CDS_AUTH=jwt): bare 401 for every bad token, and a
FHIR server named by an unauthenticated request receives no request at all."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cds_service import create_app
from cds_service.config import Config
from cds_service.security import AuthConfigError
from tests.faults.fake_fhir import FakeFhirServer, patient_and_empty_searches
from tests.security.hook_bodies import ACCESS_TOKEN, PATIENT_ID, hook_body
from tests.security.jwt_clients import PUBLIC_BASE, SERVICE_URL
from tests.security.test_jwt_matrix import REJECTED

DISCOVERY_URL = PUBLIC_BASE + "/cds-services"
FEEDBACK_URL = SERVICE_URL + "/feedback"
SERVICE_PATH = "/cds-services/myeloma-relapse"


@pytest.fixture
def fhir():
    with FakeFhirServer() as server:
        server.respond = patient_and_empty_searches(PATIENT_ID, server.origin)
        yield server


def auth(token: str) -> dict:
    return {"Authorization": "Bearer " + token}


def assert_bare_401(resp):
    assert resp.status_code == 401
    assert resp.data == b""
    assert resp.headers.get("WWW-Authenticate") == "Bearer"


def test_valid_token_gets_cards_and_the_token_goes_only_to_the_fhir_server(jwt_app, es_client, fhir):
    client = jwt_app([fhir.base_url]).test_client()
    resp = client.post(SERVICE_PATH, json=hook_body(fhir.base_url),
                       headers=auth(es_client.token(SERVICE_URL)))
    assert resp.status_code == 200, resp.data
    assert "cards" in resp.get_json()
    assert fhir.seen, "the allowed FHIR server should have been queried"
    assert {s.authorization for s in fhir.seen} == {"Bearer " + ACCESS_TOKEN}
    assert all(s.path.startswith("/fhir/") for s in fhir.seen)


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_bad_token_gets_bare_401_and_the_fhir_server_sees_nothing(jwt_app, es_client, fhir, case):
    client = jwt_app([fhir.base_url]).test_client()
    resp = client.post(SERVICE_PATH, json=hook_body(fhir.base_url),
                       headers=auth(REJECTED[case](es_client)))
    assert_bare_401(resp)
    assert fhir.seen == []


def test_untrusted_key_gets_401_and_its_fhir_server_receives_no_request(jwt_app, es_client, fhir):
    """Issue 5 'done when': signed by a key the service does not trust -> 401, no FHIR call."""
    from tests.security.jwt_clients import SigningClient
    impostor = SigningClient("ES384", iss=es_client.iss, kid=es_client.kid)
    client = jwt_app([fhir.base_url]).test_client()
    resp = client.post(SERVICE_PATH, json=hook_body(fhir.base_url),
                       headers=auth(impostor.token(SERVICE_URL)))
    assert_bare_401(resp)
    assert fhir.seen == []


def test_no_token_gets_401_on_discovery_service_and_feedback(jwt_app, fhir):
    client = jwt_app([fhir.base_url]).test_client()
    assert_bare_401(client.get("/cds-services"))
    assert_bare_401(client.post(SERVICE_PATH, json=hook_body(fhir.base_url)))
    assert_bare_401(client.post(SERVICE_PATH + "/feedback", json={"feedback": []}))
    assert fhir.seen == []


def test_replayed_token_gets_401_the_second_time(jwt_app, es_client, fhir):
    client = jwt_app([fhir.base_url]).test_client()
    headers = auth(es_client.token(SERVICE_URL))
    assert client.post(SERVICE_PATH, json=hook_body(fhir.base_url), headers=headers).status_code == 200
    calls = len(fhir.seen)
    assert_bare_401(client.post(SERVICE_PATH, json=hook_body(fhir.base_url), headers=headers))
    assert len(fhir.seen) == calls


def test_discovery_needs_a_token_for_the_discovery_url(jwt_app, es_client, fhir):
    client = jwt_app([fhir.base_url]).test_client()
    ok = client.get("/cds-services", headers=auth(es_client.token(DISCOVERY_URL)))
    assert ok.status_code == 200 and ok.get_json()["services"]
    assert_bare_401(client.get("/cds-services", headers=auth(es_client.token(SERVICE_URL))))


def test_feedback_with_a_valid_token_is_accepted(jwt_app, rs_client, fhir):
    client = jwt_app([fhir.base_url]).test_client()
    body = {"feedback": [{"card": "card-1", "outcome": "overridden",
                          "outcomeTimestamp": "2026-11-23T10:05:31Z"}]}
    assert client.post(SERVICE_PATH + "/feedback", json=body,
                       headers=auth(rs_client.token(FEEDBACK_URL))).status_code == 200


def test_health_and_preflight_need_no_token(jwt_app, fhir):
    client = jwt_app([fhir.base_url]).test_client()
    preflight = client.options(SERVICE_PATH, headers={
        "Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204


def test_jwt_mode_without_trusted_clients_refuses_to_start():
    with pytest.raises(AuthConfigError, match="CDS_TRUSTED_CLIENTS"):
        create_app(Config(auth="jwt", public_base_url=PUBLIC_BASE))


def test_jwt_mode_without_public_base_url_refuses_to_start(trusted_clients_file):
    with pytest.raises(AuthConfigError, match="CDS_PUBLIC_BASE_URL"):
        create_app(Config(auth="jwt", trusted_clients=trusted_clients_file()))


def test_wsgi_entry_point_exits_with_a_clear_message_without_trusted_clients(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    env.update(CDS_AUTH="jwt", CDS_PUBLIC_BASE_URL=PUBLIC_BASE,
               CDS_DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite")
    proc = subprocess.run([sys.executable, "-c", "import cds_service.wsgi"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "refuses to start" in proc.stderr and "CDS_TRUSTED_CLIENTS" in proc.stderr


def test_assessment_endpoint_also_needs_a_token_in_jwt_mode(jwt_app, es_client, fhir):
    client = jwt_app([fhir.base_url]).test_client()
    body = hook_body(fhir.base_url)
    assert_bare_401(client.post("/assessment", json=body))
    assert fhir.seen == []
    ok = client.post("/assessment", json=body,
                     headers=auth(es_client.token(PUBLIC_BASE + "/assessment")))
    assert ok.status_code == 200, ok.data
    assert fhir.seen


def test_serve_refuses_to_start_in_jwt_mode_without_trusted_clients(monkeypatch):
    from cds_service.cli import main

    for name in ("CDS_TRUSTED_CLIENTS", "CDS_PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CDS_AUTH", "jwt")
    with pytest.raises(SystemExit, match="refuses to start.*CDS_TRUSTED_CLIENTS"):
        main(["serve", "--port", "8099"])
