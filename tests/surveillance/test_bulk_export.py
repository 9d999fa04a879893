"""`$export` against a fake Bulk Data server on loopback: kick-off 202, status 429/202/200,
file download; SSRF refusals; server errors become a clear message and exit code 3."""
from __future__ import annotations

import csv
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from cds_service.cli import main
from cds_service.surveillance.bulk_export import retry_after, split_source

from .conftest import AS_OF, N_PATIENTS

TOKEN = "s3cret-bulk-token-4711"


class FakeBulkServer:
    """Patient/$export and Group/<id>/$export on /fhir, serving the files of `export`."""

    def __init__(self, export_dir, **behaviour):
        self.export_dir = export_dir
        self.behaviour = behaviour
        self.requests: list[tuple[str, str, dict]] = []
        self.polls = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                server.requests.append(("GET", self.path, dict(self.headers)))
                server.handle(self)

            def do_DELETE(self):
                server.requests.append(("DELETE", self.path, dict(self.headers)))
                self.send_response(202)
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    @staticmethod
    def send(h, status, body=b"", headers=None):
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def outcome(self, text):
        return json.dumps({"resourceType": "OperationOutcome",
                           "issue": [{"severity": "error", "code": "processing", "details": {"text": text}}]}).encode()

    def handle(self, h):
        b = self.behaviour
        path = urlsplit(h.path).path
        if path.endswith("/$export"):
            if b.get("kickoff_error"):
                return self.send(h, 500, self.outcome(b["kickoff_error"]))
            location = b.get("content_location", f"{self.base}/$export-poll-status?_jobId=job1")
            return self.send(h, 202, headers={"Content-Location": location})
        if path.endswith("/$export-poll-status"):
            self.polls += 1
            if self.polls == 1:
                return self.send(h, 429, headers={"Retry-After": "0"})
            if self.polls == 2:
                return self.send(h, 202, headers={"Retry-After": "0", "X-Progress": "50% done"})
            if b.get("job_error"):
                return self.send(h, 500, self.outcome(b["job_error"]))
            files = sorted(p.name for p in self.export_dir.iterdir())
            output = [{"type": name.split(".")[0], "url": b.get("file_url", f"{self.base}/files/{name}")}
                      for name in files]
            manifest = {"transactionTime": "2026-11-30T00:00:00Z", "request": f"{self.base}/Patient/$export",
                        "requiresAccessToken": True, "output": output, "error": []}
            return self.send(h, 200, json.dumps(manifest).encode(), {"Content-Type": "application/json"})
        if path.startswith("/fhir/files/"):
            if b.get("check_token", True) and h.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self.send(h, 401)
            return self.send(h, 200, (self.export_dir / path.rsplit("/", 1)[1]).read_bytes(),
                             {"Content-Type": "application/fhir+ndjson"})
        return self.send(h, 404)


def _surveil(source, out, monkeypatch, *extra):
    monkeypatch.setenv("CDS_BULK_TOKEN", TOKEN)
    return main(["surveil", source, "--as-of", AS_OF.isoformat(), "--out", str(out), "--quiet",
                 "--partition-size", "64KiB", *extra])


def test_patient_export_202_then_200_then_files(small_export, tmp_path, monkeypatch, capsys):
    with FakeBulkServer(small_export) as server:
        rc = _surveil(server.base, tmp_path / "out", monkeypatch)
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    kickoff = server.requests[0]
    assert kickoff[0] == "GET" and kickoff[1].startswith("/fhir/Patient/$export?_type=Patient,")
    assert kickoff[2]["Prefer"] == "respond-async"
    assert kickoff[2]["Accept"] == "application/fhir+json"
    assert kickoff[2]["Authorization"] == f"Bearer {TOKEN}"
    assert server.polls == 3  # 429 (Retry-After), 202 (in progress), 200 (manifest)
    downloads = [r for r in server.requests if r[1].startswith("/fhir/files/")]
    assert len(downloads) == len(list(small_export.iterdir()))
    assert all(r[2]["Accept"] == "application/fhir+ndjson" for r in downloads)
    assert server.requests[-1][0] == "DELETE"  # the job is released when done
    with (tmp_path / "out" / "worklist.csv").open(newline="") as fh:
        assert len(list(csv.DictReader(fh))) == N_PATIENTS
    # The token is in no output and no message.
    assert TOKEN not in captured.err + captured.out
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert TOKEN not in path.read_text(errors="replace"), path.name
    report = (tmp_path / "out" / "report.html").read_text()
    assert "iss=http%3A%2F%2F127.0.0.1" in report or "Timeline links need" in report


def test_group_export_url(small_export, tmp_path, monkeypatch):
    with FakeBulkServer(small_export) as server:
        assert _surveil(f"{server.base}/Group/myeloma-clinic", tmp_path / "out", monkeypatch) == 0
    assert server.requests[0][1].startswith("/fhir/Group/myeloma-clinic/$export?")


@pytest.mark.parametrize("behaviour, message", [
    ({"kickoff_error": "Bulk export is disabled on this server"}, "Bulk export is disabled on this server"),
    ({"job_error": "An internal timeout has occurred"}, "An internal timeout has occurred"),
])
def test_server_errors_are_clear_messages(small_export, tmp_path, monkeypatch, capsys, behaviour, message):
    with FakeBulkServer(small_export, **behaviour) as server:
        rc = _surveil(server.base, tmp_path / "out", monkeypatch)
    err = capsys.readouterr().err
    assert rc == 3
    assert "HTTP 500" in err and message in err
    assert "Traceback" not in err and TOKEN not in err


@pytest.mark.parametrize("behaviour", [
    {"file_url": "http://169.254.169.254/latest/meta-data/Observation.ndjson"},  # cloud metadata
    {"content_location": "http://10.0.0.7:8080/fhir/$export-poll-status?_jobId=job1"},
    {"file_url": "http://127.0.0.1:1/other-base/Observation.ndjson"},  # same host, other origin
])
def test_urls_off_the_server_are_refused(small_export, tmp_path, monkeypatch, capsys, behaviour):
    with FakeBulkServer(small_export, **behaviour) as server:
        rc = _surveil(server.base, tmp_path / "out", monkeypatch)
    err = capsys.readouterr().err
    assert rc == 3
    assert "refused" in err and "Traceback" not in err
    assert not any(r[1].startswith("/fhir/files/") for r in server.requests)


def test_plain_http_to_a_remote_host_is_refused(tmp_path, monkeypatch, capsys):
    rc = _surveil("http://ehr.example.org/fhir", tmp_path / "out", monkeypatch)
    err = capsys.readouterr().err
    assert rc == 3 and "http is allowed only for loopback hosts" in err


def test_unreachable_server_is_a_clear_message(tmp_path, monkeypatch, capsys):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc = _surveil(f"http://127.0.0.1:{port}/fhir", tmp_path / "out", monkeypatch)
    err = capsys.readouterr().err
    assert rc == 3 and "could not reach the FHIR server" in err and "Traceback" not in err


def test_split_source_and_retry_after():
    assert split_source("https://h/fhir") == ("https://h/fhir", None)
    assert split_source("https://h/fhir/Patient/$export") == ("https://h/fhir", None)
    assert split_source("https://h/fhir/Group/g1") == ("https://h/fhir", "g1")
    assert split_source("https://h/fhir/Group/g1/$export") == ("https://h/fhir", "g1")
    assert retry_after("120") == 120.0
    assert retry_after(None) is None and retry_after("soon") is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: no wait
