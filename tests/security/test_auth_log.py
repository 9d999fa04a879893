"""The reason for a 401 reaches the log at INFO, never the token (issue 13), under gunicorn
(the Dockerfile's way of running the service) and under the development server alike.

Both configure no root logger, so without the `cds_service` handler of the app factory the
INFO reasons were dropped by Python's last-resort handler (WARNING and above only).
"""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time

import pytest

from benchmarks.run import production_gunicorn_args
from benchmarks.servers import Gunicorn, free_port, wait_http
from tests.security.jwt_clients import PUBLIC_BASE, SERVICE_URL, SigningClient, clients_document

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def jwt_env(tmp_path):
    trusted = [SigningClient("ES384", iss=f"https://trusted-{i}.example.test") for i in range(3)]
    clients = tmp_path / "clients.json"
    clients.write_text(json.dumps(clients_document(*trusted)))
    return {**os.environ, "CDS_AUTH": "jwt", "CDS_TRUSTED_CLIENTS": str(clients),
            "CDS_PUBLIC_BASE_URL": PUBLIC_BASE, "CDS_DATABASE_URL": f"sqlite:///{tmp_path}/log.sqlite",
            "PYTHONPATH": REPO}


def call_with_untrusted_token(port: int) -> tuple[int, str]:
    stranger = SigningClient("ES384", iss="https://stranger.example.test")
    token = stranger.token(SERVICE_URL)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/cds-services/myeloma-relapse", b"{}",
                 {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    status = conn.getresponse().status
    conn.close()
    return status, token


def wait_for(path, text: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        log = path.read_text(errors="replace") if path.exists() else ""
        if text in log or time.monotonic() > deadline:
            return log


def assert_reason_logged(log: str, token: str) -> None:
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    reasons = [entry for entry in lines if entry.get("logger") == "cds_service.security.flask_auth"
               and entry.get("level") == "INFO"]
    assert any(entry["message"] == "client authentication failed: issuer not trusted"
               for entry in reasons), log[-2000:]
    assert token not in log and token.split(".")[1] not in log


def test_401_reason_is_logged_at_info_under_gunicorn(jwt_env, tmp_path):
    env = {k: v for k, v in jwt_env.items() if k != "CDS_LOG_LEVEL"}
    with Gunicorn("cds_service.wsgi:app", extra_args=production_gunicorn_args(), env=env,
                  log_dir=tmp_path) as server:
        status, token = call_with_untrusted_token(server.port)
        log_path = tmp_path / f"gunicorn-{server.port}.log"
        log = wait_for(log_path, "issuer not trusted")
    assert status == 401
    assert_reason_logged(log, token)


def test_401_reason_is_logged_at_info_under_the_dev_server(jwt_env, tmp_path):
    port = free_port()
    log_path = tmp_path / "dev.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "cds_service.cli", "serve", "--port", str(port)],
                                cwd=REPO, env={**jwt_env, "CDS_LOG_LEVEL": "INFO"}, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_http(port, "/healthz", 30, proc)
        status, token = call_with_untrusted_token(port)
        log = wait_for(log_path, "issuer not trusted")
    finally:
        proc.terminate()
        proc.wait(10)
    assert status == 401
    assert_reason_logged(log, token)


def test_an_oversized_token_gets_the_services_bare_401_under_gunicorn(jwt_env, tmp_path):
    """A 12,000-character bearer token is over the service's 8,192-character cap but within the
    16 KiB header line that gunicorn (cds_service/gunicorn_config.py) and the proxy accept: the
    service refuses it with a bare 401, not gunicorn with a 431."""
    token = "a" * 12_000
    with Gunicorn("cds_service.wsgi:app", extra_args=production_gunicorn_args(), env=jwt_env,
                  log_dir=tmp_path) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("POST", "/cds-services/myeloma-relapse", b"{}",
                     {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
    assert resp.status == 401
    assert body == b""
    assert resp.getheader("WWW-Authenticate", "").startswith("Bearer")
