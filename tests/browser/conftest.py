"""Fixtures for the browser test of the SMART timeline app (issue 7).

Real parts only: sekmet-fhir with bearer auth holding the demo patients, the Flask service on
a loopback port, the test SMART authorization server (auth_server.py), and Debian's Chromium
driven by Playwright's Python package with `executable_path` (never `playwright install`).
Outside CI a missing Chromium or an unbuilt bundle skips the tests; in CI they fail.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from tests.browser.auth_server import SmartAuthServer
from tests.integration.fhir_server import DEMO_PATIENTS_DIR, post_transaction, start_fhir_server, stop_fhir_server

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLE = REPO_ROOT / "cds_service" / "smart_app" / "static" / "app.js"
CHROMIUM = Path(os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
CLIENT_ID = "myeloma-cds-timeline"


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} (scripts/setup installs it)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def fhir_with_token():
    token = secrets.token_urlsafe(24)
    server = start_fhir_server(tokens=[token])
    try:
        for name in ("vignette",):
            post_transaction(server, json.loads((DEMO_PATIENTS_DIR / f"{name}.json").read_text(encoding="utf-8")))
        yield server
    finally:
        stop_fhir_server(server)


@pytest.fixture(scope="session")
def service_url():
    """The whole service (create_app) on a loopback port, in a thread of this process."""
    from werkzeug.serving import make_server

    from cds_service import create_app
    from cds_service.config import Config

    if not BUNDLE.is_file():
        _missing(f"the app bundle {BUNDLE.relative_to(REPO_ROOT)} is not built (cd frontend && npm ci && npm run build)")
    app = create_app(Config(auth="off"))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()


@pytest.fixture
def auth_server(fhir_with_token, service_url):
    server = SmartAuthServer(
        fhir_upstream=fhir_with_token.base_url,
        access_token=fhir_with_token.tokens[0],
        client_id=CLIENT_ID,
        redirect_uri=f"{service_url}/app/",
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser_context():
    if not CHROMIUM.exists():
        _missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1440, "height": 900}, device_scale_factor=1,
        )
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser_context):
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    try:
        yield page
    finally:
        page.close()
