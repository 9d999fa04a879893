"""`myeloma-cds serve` (the dev server): the auth-off warning once, and one log line per
request (the service's JSON line; no second access line carrying the query string)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_one_warning_and_one_line_per_request(tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "CDS_AUTH": "off",
           "CDS_DATABASE_URL": f"sqlite:///{tmp_path}/dev.sqlite"}
    errors = open(tmp_path / "stderr.txt", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "cds_service.cli", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=errors, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "dev server did not start"
            time.sleep(0.2)
        resp = requests.get(f"http://127.0.0.1:{port}/app/launch?iss=x&launch=secret-launch-id", timeout=5)
        assert resp.status_code < 500
        time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        errors.close()
    text = (tmp_path / "stderr.txt").read_text()
    assert text.count("CDS_AUTH=off") == 1, text
    assert "secret-launch-id" not in text
    request_lines = [json.loads(line) for line in text.splitlines()
                     if line.startswith("{") and '"event":"request"' in line]
    assert [r["path"] for r in request_lines] == ["/healthz", "/app/launch"]
    assert text.count("/app/launch") == 1
