"""No JWT, access token or patient identifier in clear in the logs (issue 5).

The suite-wide capture lives in tests/log_secrets.py (registered by tests/conftest.py); this
module runs last, checks everything logged so far, proves the detector can fail, and drives
the security-relevant flows once with DEBUG logging so debug lines are covered too.
"""
from __future__ import annotations

import json
import logging


from cds_service import create_app
from cds_service.config import Config
from tests import log_secrets
from tests.faults.fake_fhir import FakeFhirServer, Reply, patient_and_empty_searches
from tests.security.hook_bodies import ACCESS_TOKEN, PATIENT_ID, hook_body
from tests.security.jwt_clients import PUBLIC_BASE, SERVICE_URL, SigningClient

SERVICE_PATH = "/cds-services/myeloma-relapse"


def test_detector_flags_a_jwt_and_a_known_token():
    jwt_like = "eyJhbGciOiJFUzM4NCJ9.eyJpc3MiOiJodHRwczovL3gifQ.c2ln"
    assert log_secrets.findings([("t", f"auth failed for {jwt_like}")], set())
    assert log_secrets.findings([("t", "sent token abcdefgh12345")], {"abcdefgh12345"})
    assert not log_secrets.findings([("t", "service myeloma-relapse answered 2 cards")],
                                    {"abcdefgh12345"})


def test_security_flows_at_debug_level_log_no_secret_and_no_patient_id(tmp_path, caplog):
    signer = SigningClient("ES384", iss="https://log-check-ehr.example.test")
    with FakeFhirServer() as fhir:
        fhir.respond = patient_and_empty_searches(PATIENT_ID, fhir.origin)
        clients = tmp_path / "clients.json"
        clients.write_text(json.dumps({"clients": [{
            "iss": signer.iss, "jwks": {"keys": [signer.public_jwk]},
            "fhir_servers": [fhir.base_url]}]}))
        app = create_app(Config(auth="jwt", trusted_clients=str(clients),
                                public_base_url=PUBLIC_BASE, log_level="DEBUG",
                                database_url=f"sqlite:///{tmp_path}/log.sqlite",
                                request_deadline_s=1.0))
        client = app.test_client()
        good = signer.token(SERVICE_URL)
        tokens = [good, signer.token(SERVICE_URL + "x"), "not-a-jwt-but-secret-123"]
        with caplog.at_level(logging.DEBUG):
            client.post(SERVICE_PATH, json=hook_body(fhir.base_url),
                        headers={"Authorization": "Bearer " + good})
            client.post(SERVICE_PATH, json=hook_body(fhir.base_url),
                        headers={"Authorization": "Bearer " + good})  # replay
            client.post(SERVICE_PATH, json=hook_body(fhir.base_url),
                        headers={"Authorization": "Bearer " + tokens[1]})  # wrong aud
            client.post(SERVICE_PATH, json=hook_body(fhir.base_url),
                        headers={"Authorization": "Bearer " + tokens[2]})  # garbage
            client.post(SERVICE_PATH, json=hook_body("https://10.0.0.1/fhir"),
                        headers={"Authorization": "Bearer " + signer.token(SERVICE_URL)})
            fhir.respond = lambda path: Reply(status=401, body=b"")
            client.post(SERVICE_PATH, json=hook_body(fhir.base_url),
                        headers={"Authorization": "Bearer " + signer.token(SERVICE_URL)})
    records = [("debug-flows", log_secrets.render(r)) for r in caplog.records]
    assert any('"event": "request"' in text for _, text in records), "request lines expected"
    assert log_secrets.findings(records, set(tokens) | {ACCESS_TOKEN}) == []
    request_lines = [text for _, text in records if '"event": "request"' in text]
    assert len(request_lines) == 6
    assert not any(PATIENT_ID in line for line in request_lines)


def test_whole_suite_logged_no_token_or_jwt():
    """Everything logged by the tests that ran before this one (it is ordered last)."""
    assert log_secrets._records, "the suite-wide log capture is not installed"
    found = log_secrets.findings()
    assert found == [], "\n".join(found[:20])
