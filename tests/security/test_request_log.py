"""One structured JSON log line per request; identifiers only, never secrets or patient ids."""
from __future__ import annotations

import json
import logging
import uuid

import pytest

from cds_service import create_app
from cds_service.config import Config
from cds_service.http.request_log import REQUEST_LOGGER, JsonFormatter, redact
from tests.security.hook_bodies import PATIENT_ID, hook_body
from tests.security.jwt_clients import SERVICE_URL

SERVICE_PATH = "/cds-services/myeloma-relapse"


def request_lines(caplog) -> list[dict]:
    return [r.cds for r in caplog.records if r.name == REQUEST_LOGGER]


def test_each_request_logs_one_line_with_the_agreed_fields(jwt_app, es_client, caplog):
    app = jwt_app(["https://fhir.example.test/r4"])
    body = hook_body("https://fhir.example.test/r4", prefetch={"patient": None})
    with caplog.at_level(logging.INFO, logger=REQUEST_LOGGER):
        app.test_client().post(SERVICE_PATH, json=body,
                               headers={"Authorization": "Bearer " + es_client.token(SERVICE_URL)})
        app.test_client().get("/cds-services")
    hook_line, discovery_line = request_lines(caplog)
    assert hook_line["service"] == "myeloma-relapse" and hook_line["hook"] == "patient-view"
    assert hook_line["iss"] == es_client.iss
    assert hook_line["hookInstance"] == body["hookInstance"]
    assert isinstance(hook_line["duration_ms"], float) and hook_line["status"] != 401
    assert discovery_line["status"] == 401 and discovery_line["iss"] is None
    rendered = JsonFormatter().format(caplog.records[-1])
    assert json.loads(rendered)["event"] == "request"
    assert PATIENT_ID not in json.dumps(hook_line)


def test_untrusted_values_are_dropped_not_logged(tmp_path, caplog):
    app = create_app(Config(auth="off", database_url=f"sqlite:///{tmp_path}/l.sqlite"))
    body = {"hook": "patient-view\n{\"forged\": 1}", "hookInstance": "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.sig",
            "context": {"patientId": PATIENT_ID, "userId": "Practitioner/1"}}
    with caplog.at_level(logging.INFO, logger=REQUEST_LOGGER):
        app.test_client().post(SERVICE_PATH, json=body)
    (line,) = request_lines(caplog)
    assert line["hook"] is None and line["hookInstance"] is None and line["status"] == 400


@pytest.mark.parametrize("text, leaked", [
    ("Authorization: Bearer abc.def-123", "abc.def-123"),
    ("token eyJhbGciOiJFUzM4NCJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl here", "eyJhbGciOiJFUzM4NCJ9"),
])
def test_redaction_masks_bearer_values_and_jwts(text, leaked):
    assert leaked not in redact(text)


def test_off_mode_with_trusted_clients_uses_their_fhir_servers(tmp_path, trusted_clients_file):
    """CDS_AUTH=off is no open proxy when a trusted-clients file is configured."""
    app = create_app(Config(auth="off", trusted_clients=trusted_clients_file(
        ["https://fhir.example.test/r4"]), database_url=f"sqlite:///{tmp_path}/o.sqlite",
        request_deadline_s=0.5))
    resp = app.test_client().post(SERVICE_PATH, json=hook_body(f"http://127.0.0.1:9/{uuid.uuid4()}"))
    assert resp.status_code == 412
    assert "refused" in resp.get_json()["issue"][0]["diagnostics"]
