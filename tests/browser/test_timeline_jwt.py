"""The timeline app against a service with CDS_AUTH=jwt (issue 13): the app's SMART token,
checked by the service with the launch's FHIR server, opens the timeline API; a launch from a
FHIR server the service does not trust gets a 401 and no chart. Real browser, real PKCE, real
FHIR server (fixtures of tests/browser/conftest.py)."""
from __future__ import annotations

import json
import threading
from urllib.parse import urlencode

import pytest

from tests.browser.auth_server import SmartAuthServer
from tests.browser.conftest import BUNDLE, CLIENT_ID, _missing
from tests.browser.test_timeline_app import AS_OF, PATIENT_ID, READY_TIMEOUT_MS
from tests.security.jwt_clients import PUBLIC_BASE, SigningClient, clients_document

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture(scope="module")
def jwt_service_url(tmp_path_factory):
    from werkzeug.serving import make_server

    from cds_service import create_app
    from cds_service.config import Config

    if not BUNDLE.is_file():
        _missing("the app bundle is not built (cd frontend && npm ci && npm run build)")
    workdir = tmp_path_factory.mktemp("jwt-service")
    clients = workdir / "clients.json"
    clients.write_text(json.dumps(clients_document(*[SigningClient("ES384", iss=f"https://b{i}.example") for i in range(3)])))
    app = create_app(Config(auth="jwt", trusted_clients=str(clients), public_base_url=PUBLIC_BASE,
                            database_url=f"sqlite:///{workdir}/cds.sqlite"))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()


@pytest.fixture
def jwt_auth_server(fhir_with_token, jwt_service_url):
    server = SmartAuthServer(fhir_upstream=fhir_with_token.base_url, access_token=fhir_with_token.tokens[0],
                             client_id=CLIENT_ID, redirect_uri=f"{jwt_service_url}/app/").start()
    try:
        yield server
    finally:
        server.stop()


def launch(page, service_url, auth_server) -> str:
    launch_id = auth_server.register_launch(PATIENT_ID)
    page.goto(f"{service_url}/app/launch?" + urlencode({"iss": auth_server.iss, "launch": launch_id, "asOf": AS_OF}))
    page.wait_for_selector("body[data-ready]", timeout=READY_TIMEOUT_MS)
    return page.get_attribute("body", "data-ready")


def test_smart_token_opens_the_timeline_api(page, jwt_service_url, jwt_auth_server, monkeypatch):
    monkeypatch.setenv("CDS_SMART_ALLOWED_ISS", jwt_auth_server.iss)
    assert launch(page, jwt_service_url, jwt_auth_server) == "true", page.inner_text("#error")
    assert page.evaluate("() => timelineApp.data.assessment.relapse.status") == "biochemical"
    # the service itself read the launch patient with the token, through the same FHIR base
    reads = [path for method, path, had_token in jwt_auth_server.fhir_requests
             if method == "GET" and path == f"/Patient/{PATIENT_ID}" and had_token]
    assert len(reads) >= 2  # the app's read and the service's check


def test_a_launch_from_an_untrusted_fhir_server_gets_no_timeline(page, jwt_service_url, jwt_auth_server,
                                                                 monkeypatch):
    # the app may be launched from anywhere (the setting is read per request) ...
    monkeypatch.delenv("CDS_SMART_ALLOWED_ISS", raising=False)
    # ... but the trusted clients' fhir_servers do not include this server: 401, no chart
    assert launch(page, jwt_service_url, jwt_auth_server) == "error"
    assert "HTTP 401" in page.inner_text("#error")
