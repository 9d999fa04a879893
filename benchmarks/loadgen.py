"""Closed-loop HTTP load generator, run in its own process so it does not share the GIL with
the measuring script: `concurrency` threads, each with its own keep-alive http.client
connection (re-opened when the server closes it, as gunicorn's sync workers do), POST the
same body until `requests` responses have arrived. Prints one JSON object on stdout:
latencies in ms (in completion order), status counts, wall time and throughput.

    python -m benchmarks.loadgen --port P --path /cds-services/x --body FILE \
        --concurrency 4 --requests 200 --warmup 4
"""
from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from collections import Counter


def run(port: int, path: str, body: bytes, concurrency: int, requests: int, warmup: int,
        timeout: float = 120.0) -> dict:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    lock = threading.Lock()
    issued = 0
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors: Counter = Counter()
    total = warmup + requests
    start_barrier = threading.Barrier(concurrency + 1)
    completions: list[float] = []

    def worker() -> None:
        nonlocal issued
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        start_barrier.wait()
        while True:
            with lock:
                if issued >= total:
                    break
                issued += 1
                seq = issued
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body, headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                if resp.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
                with lock:
                    errors[type(exc).__name__] += 1
                continue
            t1 = time.perf_counter()
            with lock:
                completions.append(t1)
                if seq > warmup:
                    latencies.append((t1 - t0) * 1000.0)
                    statuses[status] += 1
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    start_barrier.wait()
    for t in threads:
        t.join()
    # Throughput over the window between the warmup-th and the last completion.
    completions.sort()
    first = max(0, min(warmup, len(completions)) - 1)
    counted = len(completions) - 1 - first
    wall = completions[-1] - completions[first] if counted > 0 else 0.0
    return {
        "concurrency": concurrency,
        "requests": len(latencies),
        "warmup": warmup,
        "latencies_ms": latencies,
        "statuses": {str(k): v for k, v in statuses.items()},
        "errors": dict(errors),
        "wall_s": wall,
        "throughput_rps": counted / wall if wall > 0 else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", required=True)
    p.add_argument("--body", required=True, help="file holding the request body")
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--requests", type=int, default=100)
    p.add_argument("--warmup", type=int, default=4)
    a = p.parse_args(argv)
    with open(a.body, "rb") as f:
        body = f.read()
    json.dump(run(a.port, a.path, body, a.concurrency, a.requests, a.warmup), sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
