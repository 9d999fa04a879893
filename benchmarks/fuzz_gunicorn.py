"""Tens of thousands of generated hostile requests against the service under gunicorn; counts 5xx.

The service runs as in production (gunicorn with the Dockerfile's options, 127.0.0.1, free
port); the requests come from benchmarks/hostile_requests.py (the fuzz test's generator),
seeded, sent over a few keep-alive connections. Every 5xx is counted and the first ones are
written to `--out` (method, path, seed) so they can be replayed with the same seed. Loopback
only, bounded by `--requests` and `--max-seconds`.

    .venv/bin/python -m benchmarks.fuzz_gunicorn                      # 20,000, auth off, SQLite
    .venv/bin/python -m benchmarks.fuzz_gunicorn --auth jwt --database postgres --requests 5000

`--database postgres` reads the test server URL from CDS_TEST_POSTGRES_URL or
/tmp/myeloma-cds-pgtest/url (scripts/postgres-test-server). Exit status 1 if any 5xx.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from benchmarks.hostile_requests import generate
from benchmarks.run import production_gunicorn_args
from benchmarks.servers import Gunicorn

PG_URL_FILE = Path(os.environ.get("CDS_PGTEST_DIR", "/tmp/myeloma-cds-pgtest")) / "url"


def service_env(auth: str, database: str, workdir: Path) -> dict[str, str]:
    env = {"CDS_AUTH": auth, "CDS_LOG_LEVEL": "WARNING"}
    if database == "postgres":
        url = os.environ.get("CDS_TEST_POSTGRES_URL") or (PG_URL_FILE.read_text().strip() if PG_URL_FILE.exists() else "")
        if not url:
            raise SystemExit("no PostgreSQL test server URL (CDS_TEST_POSTGRES_URL or scripts/postgres-test-server)")
        env["CDS_DATABASE_URL"] = url
    else:
        env["CDS_DATABASE_URL"] = f"sqlite:///{workdir}/fuzz.sqlite"
    if auth == "jwt":
        from tests.security.jwt_clients import PUBLIC_BASE, SigningClient, clients_document

        clients = workdir / "clients.json"
        clients.write_text(json.dumps(clients_document(*[SigningClient("ES384", iss=f"https://fuzz-{i}.example.test")
                                                         for i in range(3)])))
        env.update({"CDS_TRUSTED_CLIENTS": str(clients), "CDS_PUBLIC_BASE_URL": PUBLIC_BASE})
    return env


class Sender(threading.Thread):
    """One keep-alive connection sending the requests of the seeds it is given."""

    def __init__(self, port: int, seeds: list[int], with_auth: bool, deadline: float, results: Counter,
                 failures: list, lock: threading.Lock):
        super().__init__(daemon=True)
        self.port, self.seeds, self.with_auth, self.deadline = port, seeds, with_auth, deadline
        self.results, self.failures, self.lock = results, failures, lock
        self.sent = 0

    def run(self) -> None:
        conn = None
        for seed in self.seeds:
            if time.monotonic() > self.deadline:
                return
            req = generate(random.Random(seed), with_auth_headers=self.with_auth)
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                conn.request(req.method, req.path, body=req.body, headers=req.headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                status = f"connection error ({type(exc).__name__})"
                if conn is not None:
                    conn.close()
                conn = None
            with self.lock:
                self.sent += 1
                self.results[status] += 1
                if not isinstance(status, int) or status >= 500:
                    self.failures.append({"seed": seed, "method": req.method, "path": req.path[:120],
                                          "status": status})
        if conn is not None:
            conn.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--seed", type=int, default=13, help="first seed; request i uses seed + i")
    ap.add_argument("--auth", choices=("off", "jwt"), default="off")
    ap.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--max-seconds", type=float, default=900)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/fuzz-failures.json"))
    args = ap.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="myeloma-cds-fuzz-"))
    env = service_env(args.auth, args.database, workdir)
    seeds = [args.seed + i for i in range(args.requests)]
    results: Counter = Counter()
    failures: list = []
    lock = threading.Lock()
    started = time.monotonic()
    with Gunicorn("cds_service.wsgi:app", extra_args=production_gunicorn_args(), env=env, log_dir=workdir) as server:
        senders = [Sender(server.port, seeds[i::args.connections], args.auth == "jwt",
                          started + args.max_seconds, results, failures, lock)
                   for i in range(args.connections)]
        for s in senders:
            s.start()
        for s in senders:
            s.join()
    elapsed = time.monotonic() - started
    sent = sum(results.values())
    five_xx = sum(n for status, n in results.items() if not isinstance(status, int) or status >= 500)
    by_status = ", ".join(f"{k}: {v}" for k, v in sorted(results.items(), key=lambda kv: str(kv[0])))
    print(f"{sent} requests in {elapsed:.0f} s (auth {args.auth}, {args.database}, seeds {args.seed}.."
          f"{args.seed + args.requests - 1}); by status: {by_status}")
    print(f"5xx or broken connections: {five_xx}; gunicorn log: {workdir}")
    if failures:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(failures[:200], indent=1))
        print(f"first failures written to {args.out}")
    return 1 if five_xx else 0


if __name__ == "__main__":
    raise SystemExit(main())
