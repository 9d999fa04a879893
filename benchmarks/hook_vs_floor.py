"""The hook against the floors at one size: is the service within 1.5x of merely parsing?

Starts four gunicorn apps with the production options (Dockerfile CMD): the hook
(`cds_service.wsgi:app`), the floor (`benchmarks.floor_app:app`, parse the body, answer
`{"cards": []}`), the same floor with the cyclic GC paused while it parses and frees the
body, as the hook does (BENCH_FLOOR_GC_PAUSED=1), and that one parsing with the hook's own
parser, msgspec (floor_msgspec). The same synthetic hook request (N Observations,
benchmarks/synthetic.py) is sent to each in alternating rounds, so background load on a
shared machine weighs on all alike; p50 and p99 and the ratios are printed
and written as JSON. Takes about a minute at N = 5,000.

    .venv/bin/python -m benchmarks.hook_vs_floor [--n 5000] [--rounds 4] [--requests 40]

With `--baseline DIR` (another checkout, e.g. `git worktree add /tmp/base <commit>`) a fifth
app runs that checkout's hook (gunicorn started in DIR, with DIR's Dockerfile options) in the
same alternating rounds: before and after under the same background load. (Until 2026-11-30
05:50 UTC the baseline was started with `--chdir DIR` from this checkout: the gunicorn master
then imported this checkout's `cds_service` for `--config python:cds_service.gunicorn_config`
and every worker inherited it, so "baseline" figures since that option came in measured this
checkout's code; see the README, Performance.) Without it, another checkout can
also be measured alone: copy this file and floor_app.py into it and run it from there with
PYTHONPATH pointing at it.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import date
from pathlib import Path

from .run import discovery_prefetch, load, post_once, production_gunicorn_args
from .servers import REPO, Gunicorn
from .stats import percentile, ratio
from .synthetic import DEFAULT_SEED, heavy_patient, hook_request

APPS = {
    "hook": ("cds_service.wsgi:app", {"CDS_AUTH": "off", "CDS_LOG_LEVEL": "WARNING"}),
    "floor": ("benchmarks.floor_app:app", {}),
    "floor_gc_paused": ("benchmarks.floor_app:app", {"BENCH_FLOOR_GC_PAUSED": "1"}),
    # the same with the hook's own parser (msgspec): what is left is the hook's work after parsing
    "floor_msgspec": ("benchmarks.floor_app:app", {"BENCH_FLOOR_GC_PAUSED": "1", "BENCH_FLOOR_PARSER": "msgspec"}),
}


def apps(baseline: str | None) -> dict[str, tuple[str, dict, Path]]:
    """label -> (gunicorn app, extra environment, checkout it runs from)."""
    out = {label: (app, env, REPO) for label, (app, env) in APPS.items()}
    if baseline:
        # started in DIR, DIR is first on sys.path (master and workers); an inherited
        # PYTHONPATH naming this checkout would win over it
        out["hook_baseline"] = (APPS["hook"][0], {**APPS["hook"][1], "PYTHONPATH": ""}, Path(baseline).resolve())
    return out



def measure(body_file: Path, raw: bytes, *, rounds: int, requests: int, concurrency: int, workers: int,
            log_dir: Path, baseline: str | None = None) -> dict[str, dict]:
    """p50/p99 per app over `rounds` alternating rounds of `requests` requests each."""
    chosen = apps(baseline)
    latencies: dict[str, list[float]] = {label: [] for label in chosen}
    statuses: dict[str, dict] = {label: {} for label in chosen}
    servers = {label: Gunicorn(app, workers=workers, env=env, extra_args=production_gunicorn_args(checkout),
                               log_dir=log_dir, cwd=checkout) for label, (app, env, checkout) in chosen.items()}
    for server in servers.values():
        server.__enter__()
    try:
        for label, server in servers.items():
            for _ in range(2 * workers):  # every worker parses one body before the clock starts
                status, _, _ = post_once(server.port, raw)
                if status != 200:
                    raise SystemExit(f"{label} answered HTTP {status}")
        for _ in range(rounds):
            for label, server in servers.items():
                res = load(server.port, body_file, requests, concurrency, warmup=concurrency)
                latencies[label] += res["latencies_ms"]
                for k, v in res["statuses"].items():
                    statuses[label][k] = statuses[label].get(k, 0) + v
    finally:
        for server in servers.values():
            server.stop()
    return {label: {"requests": len(lat), "statuses": statuses[label], "p50_ms": percentile(lat, 50),
                    "p99_ms": percentile(lat, 99)} for label, lat in latencies.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=5000, help="Observations in the request (default 5000)")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--requests", type=int, default=40, help="requests per app per round")
    p.add_argument("--concurrency", type=int, default=4, help="as benchmarks/run.py (default 4)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--baseline", default=None, help="another checkout whose hook runs alongside (before/after)")
    p.add_argument("--label", default="", help="a name for this run in the JSON (e.g. before/after)")
    p.add_argument("--out", default=None, help="JSON file (default benchmarks/results/hook-vs-floor-<label>.json)")
    a = p.parse_args(argv)

    as_of = date.today()
    templates = discovery_prefetch()
    raw = json.dumps(hook_request(heavy_patient(a.n, seed=DEFAULT_SEED, end=as_of), f"bench-{a.n}", templates,
                                  seed=DEFAULT_SEED)).encode()
    log_dir = Path(tempfile.mkdtemp(prefix="bench-hvf-"))
    body_file = log_dir / "hook.json"
    body_file.write_bytes(raw)
    load_before = os.getloadavg()
    started = time.monotonic()
    res = measure(body_file, raw, rounds=a.rounds, requests=a.requests, concurrency=a.concurrency,
                  workers=a.workers, log_dir=log_dir, baseline=a.baseline)
    out = {"label": a.label, "code": str(REPO), "baseline": a.baseline, "n": a.n, "body_bytes": len(raw), "rounds": a.rounds,
           "concurrency": a.concurrency, "workers": a.workers, "gunicorn_args": production_gunicorn_args(),
           "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
           "wall_s": round(time.monotonic() - started, 1), "apps": res}
    hooks = [h for h in ("hook", "hook_baseline") if h in res]
    pairs = [(h, floor) for h in hooks for floor in ("floor", "floor_gc_paused", "floor_msgspec")]
    for h, floor in pairs:
        out[f"{h}/{floor}"] = {"p50": ratio(res[h]["p50_ms"], res[floor]["p50_ms"]),
                               "p99": ratio(res[h]["p99_ms"], res[floor]["p99_ms"])}
    print(f"N={a.n} ({len(raw) / 1e6:.1f} MB), {a.rounds} rounds x {a.requests} requests, concurrency "
          f"{a.concurrency}, load average {load_before[0]:.1f} -> {out['loadavg_after'][0]:.1f}, code {REPO}")
    for label, r in res.items():
        print(f"  {label:<16} p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  statuses {r['statuses']}")
    for h, floor in pairs:
        q = out[f"{h}/{floor}"]
        print(f"  {h + '/' + floor:<30} p50 {q['p50']:.2f}x  p99 {q['p99']:.2f}x")
    path = Path(a.out) if a.out else REPO / "benchmarks" / "results" / f"hook-vs-floor-{a.label or 'run'}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    return 0 if all(set(r["statuses"]) == {"200"} for r in res.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
