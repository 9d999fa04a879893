"""Worker memory while hook calls read from a hostile FHIR server (issue 13).

A FHIR server on loopback answers every search with a 50 MB body streamed without
Content-Length (a Bundle whose entries never end). The service runs under gunicorn with the
Dockerfile's options (2 workers x 2 threads), `CDS_AUTH=off`, and a long deadline so that the
byte caps, not the clock, end each read (the worst case for memory). Rounds of 4 concurrent
patient-view calls without prefetch (each fetches its 8 keys concurrently) are sent; the
workers' RSS is sampled every 20 ms, their high-water mark (VmHWM) read at the end, and their
RSS read again after each round to show that they return to their baseline.

    .venv/bin/python -m benchmarks.hostile_memory                 # defaults: 3 rounds
    .venv/bin/python -m benchmarks.hostile_memory --max-call-bytes 0   # 0: no per-call budget

Target: every worker under 600 MB at all times; every answer a 412 (never a 5xx).
"""
from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from benchmarks.run import production_gunicorn_args
from benchmarks.servers import Gunicorn, proc_status_kb
from tests.faults.fake_fhir import FakeFhirServer, Reply

BODY_MB = 50
CHUNK = 64 * 1024
LIMIT_MB = 600


def endless_bundle(total_bytes: int):
    """A syntactically plausible searchset Bundle, streamed, never closed."""
    entry = json.dumps({"resource": {"resourceType": "Observation", "id": "x" * 32, "status": "final",
                                     "subject": {"reference": "Patient/p1"},
                                     "valueQuantity": {"value": 1.5, "unit": "g/L"}}}).encode() + b","
    chunk = b'{"resourceType":"Bundle","type":"searchset","entry":[' + entry * (CHUNK // len(entry))
    sent = 0
    while sent < total_bytes:
        yield chunk
        sent += len(chunk)
        chunk = entry * (CHUNK // len(entry))


def hostile(path: str) -> Reply:
    if "/Patient/" in path:
        return Reply.json({"resourceType": "Patient", "id": "p1", "birthDate": "1950-01-01"})
    return Reply(body=endless_bundle(BODY_MB * 1024 * 1024))


def hook_body(fhir_base: str) -> bytes:
    return json.dumps({"hook": "patient-view", "hookInstance": "hostile-1", "fhirServer": fhir_base,
                       "context": {"userId": "Practitioner/u", "patientId": "p1"}}).encode()


def post(port: int, body: bytes) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("POST", "/cds-services/myeloma-relapse", body, {"Content-Type": "application/json"})
    status = conn.getresponse().status
    conn.close()
    return status


class RssSampler(threading.Thread):
    def __init__(self, server: Gunicorn, every_s: float = 0.02):
        super().__init__(daemon=True)
        self.server, self.every_s = server, every_s
        self.peak_kb: dict[int, int] = {}
        self.stop_flag = threading.Event()

    def run(self) -> None:
        while not self.stop_flag.is_set():
            for pid in self.server.worker_pids():
                rss = proc_status_kb(pid, "VmRSS") or 0
                self.peak_kb[pid] = max(self.peak_kb.get(pid, 0), rss)
            time.sleep(self.every_s)


def rss_mb(server: Gunicorn, field: str = "VmRSS") -> dict[int, float]:
    return {pid: round((proc_status_kb(pid, field) or 0) / 1024, 1) for pid in server.worker_pids()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--max-call-bytes", type=int, default=None,
                    help="CDS_FHIR_MAX_CALL_BYTES for the service (default: the service's default)")
    args = ap.parse_args(argv)
    env = {"CDS_AUTH": "off", "CDS_REQUEST_DEADLINE_S": "30", "CDS_FHIR_READ_TIMEOUT_S": "10",
           "CDS_FHIR_MAX_RETRIES": "0", "CDS_LOG_LEVEL": "WARNING"}
    if args.max_call_bytes is not None:
        env["CDS_FHIR_MAX_CALL_BYTES"] = str(args.max_call_bytes or 10**15)
    statuses: list[int] = []
    with FakeFhirServer(hostile) as fhir, \
            Gunicorn("cds_service.wsgi:app", extra_args=production_gunicorn_args(), env=env) as server:
        body = hook_body(fhir.base_url)
        baseline = rss_mb(server)
        print(f"workers at start (MB): {baseline}")
        sampler = RssSampler(server)
        sampler.start()
        after_rounds = []
        for rnd in range(args.rounds):
            started = time.monotonic()
            with ThreadPoolExecutor(args.concurrency) as pool:
                got = list(pool.map(lambda _: post(server.port, body), range(args.concurrency)))
            statuses += got
            time.sleep(0.5)  # let call_on_close release memory
            after = rss_mb(server)
            after_rounds.append(after)
            print(f"round {rnd + 1}: statuses {got} in {time.monotonic() - started:.1f} s; "
                  f"worker RSS after (MB): {after}")
        sampler.stop_flag.set()
        sampler.join()
        hwm = rss_mb(server, "VmHWM")
    peak = {pid: round(kb / 1024, 1) for pid, kb in sampler.peak_kb.items()}
    worst = max([*hwm.values(), *peak.values()], default=0.0)
    five_xx = sum(1 for s in statuses if s >= 500)
    print(f"sampled peak RSS (MB): {peak}; VmHWM (MB): {hwm}")
    print(f"worst worker peak: {worst:.0f} MB (limit {LIMIT_MB} MB); 5xx answers: {five_xx} of {len(statuses)}")
    return 0 if worst < LIMIT_MB and five_xx == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
