"""A tiny threaded FHIR-ish HTTP server on loopback for fault and SSRF tests.

Each test gives it a `respond(path_and_query) -> Reply` function; every request received is
recorded (method, path, Authorization present) so tests can assert that a refused server got
NO request at all. Replies can be slow, drip bytes, be garbage or loop their next links:
faults a real FHIR server will not produce on demand.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterable


@dataclass
class Reply:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict = field(default_factory=lambda: {"Content-Type": "application/fhir+json"})
    delay_s: float = 0.0  # before the status line
    chunk_pause_s: float = 0.0  # between body chunks (drip)

    @classmethod
    def json(cls, doc, status: int = 200, **kw) -> "Reply":
        return cls(status=status, body=json.dumps(doc).encode(), **kw)


@dataclass
class Seen:
    method: str
    path: str
    authorization: str | None


class FakeFhirServer:
    def __init__(self, respond: Callable[[str], Reply] | None = None, host: str = "127.0.0.1"):
        self.respond = respond or (lambda path: Reply.json({"resourceType": "Bundle",
                                                            "type": "searchset", "entry": []}))
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                with fake._lock:
                    fake.seen.append(Seen("GET", self.path, self.headers.get("Authorization")))
                reply = fake.respond(self.path)
                try:
                    if reply.delay_s:
                        time.sleep(reply.delay_s)
                    body = reply.body
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    if isinstance(body, bytes):
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                    else:
                        self.send_header("Connection", "close")
                        self.end_headers()
                        for chunk in body:
                            self.wfile.write(chunk)
                            self.wfile.flush()
                            if reply.chunk_pause_s:
                                time.sleep(reply.chunk_pause_s)
                        self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_POST = do_GET

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.origin = f"http://{host}:{self.port}"
        self.base_url = self.origin + "/fhir"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    def __enter__(self) -> "FakeFhirServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def patient_and_empty_searches(patient_id: str, origin: str) -> Callable[[str], Reply]:
    """A healthy server: the Patient, and empty searchsets for everything else."""

    def respond(path: str) -> Reply:
        if path.split("?")[0].endswith(f"/Patient/{patient_id}"):
            return Reply.json({"resourceType": "Patient", "id": patient_id,
                               "birthDate": "1955-03-01"})
        return Reply.json({"resourceType": "Bundle", "type": "searchset", "total": 0,
                           "link": [{"relation": "self", "url": origin + path}]})

    return respond
