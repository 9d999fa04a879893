"""The performance benchmark of issue 6, in one run on one machine.

    .venv/bin/python -m benchmarks.run            # full run (2-6 minutes on 2 cores)
    .venv/bin/python -m benchmarks.run --quick    # fewer repetitions, for a smoke check

For synthetic heavy patients with N = 100, 1,000, 5,000 and 20,000 Observations
(benchmarks/synthetic.py) it measures:
 1. in-process: request parsing, schema validation, prefetch resolution, then the assessment
    proper (fhir_mappings.build_patient_record + myeloma_model.assess + card rendering);
    median and p99 over repeated runs;
 2. the patient-view hook over HTTP with full prefetch, the service under gunicorn as in
    production (2 workers, 127.0.0.1, free port, CDS_AUTH=off) at a fixed concurrency, driven
    by a load generator in its own process: p50/p99 latency and throughput;
 3. the floor (benchmarks/floor_app.py: parse the JSON body, answer {"cards": []}) under the
    same gunicorn settings, and the hook/floor ratios;
 4. the fallback path: no prefetch, the same patient loaded by transaction into a real FHIR
    server on a loopback port (`--fhir-server sekmet|hapi|both`: sekmet-fhir, and/or a HAPI
    FHIR JPA server built by scripts/setup, at N = 1,000 and 5,000 by default); latency and
    HTTP round trips (counted from the server's access log) against the pages needed at the
    server's largest page;
 5. the RSS high-water mark (VmHWM) of the gunicorn workers, a fresh gunicorn per N.
It prints one table and writes benchmarks/results/latest.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from .servers import REPO, Gunicorn, Hapi, Sekmet
from .stats import percentile, ratio
from .synthetic import DEFAULT_SEED, heavy_patient, hook_request, satisfy_template, transaction_bundle

SERVICE_ID = "myeloma-relapse"
HOOK_PATH = f"/cds-services/{SERVICE_ID}"
SIZES = (100, 1000, 5000, 20000)
FHIR_SERVERS = {"sekmet": Sekmet, "hapi": Hapi}
FALLBACK_KEY = {"sekmet": "fallback", "hapi": "fallback_hapi"}  # per-N result key of each server
HAPI_SIZES = (1000, 5000)  # loading N=20,000 into HAPI by transaction takes minutes
HAPI_WARMUP = 3  # unmeasured requests per N: HAPI's JIT-compiled paths are several times faster
HTTP_ROUNDS = 3  # hook and floor alternate this many times per N

# Repetitions per N: (in-process runs, HTTP requests per app, fallback requests)
FULL = {100: (200, 400, 20), 1000: (100, 300, 15), 5000: (30, 120, 10), 20000: (12, 60, 6)}
QUICK = {100: (30, 60, 5), 1000: (20, 60, 5), 5000: (8, 30, 4), 20000: (4, 16, 3)}

TARGETS = {
    "ratio_p50_n5000_max": 3.0,
    "ratio_p99_n5000_max": 4.0,
    "growth_20000_over_5000_max": 4.5,
    "throughput_share_n1000_min": 0.60,
    "fallback_p50_n5000_max_ms": 1000.0,
    "fallback_hapi_p50_n5000_max_ms": 2500.0,  # within the service's request deadline (CDS_REQUEST_DEADLINE_S)
    "worker_peak_mb_n20000_max": 300.0,
}


def production_gunicorn_args(repo: Path = REPO) -> list[str]:
    """Gunicorn options the service uses in production, minus bind and workers (set here).

    Read from the Dockerfile's `CMD ["gunicorn", ...]` of `repo` (default this checkout) so the
    benchmark follows production; the floor gets the same options. A gunicorn.conf.py in the
    repo root would be read by gunicorn itself (cwd is the repo root), for both alike.
    """
    dockerfile = Path(repo) / "Dockerfile"
    if not dockerfile.exists():
        return []
    for line in dockerfile.read_text().splitlines():
        line = line.strip()
        if line.startswith("CMD") and "gunicorn" in line:
            try:
                argv = json.loads(line[3:].strip())
            except ValueError:
                return []
            args, skip_next = [], False
            for i, tok in enumerate(argv[1:], 1):
                if skip_next:
                    skip_next = False
                    continue
                if tok in ("--bind", "-b", "--workers", "-w"):
                    skip_next = True
                    continue
                if tok.startswith(("--bind=", "--workers=")) or i == len(argv) - 1 and ":" in tok:
                    continue  # the app itself is the last argument
                args.append(tok)
            return args
    return []


# --------------------------------------------------------------------------- in-process
def discovery_prefetch() -> dict[str, str]:
    from cds_service import create_app
    from cds_service.config import Config

    app = create_app(Config(auth="off"))
    resp = app.test_client().get("/cds-services")
    for svc in resp.get_json()["services"]:
        if svc["id"] == SERVICE_ID:
            return svc.get("prefetch") or {}
    raise RuntimeError(f"service {SERVICE_ID} not in discovery")


def in_process(raw: bytes, patient_id: str, as_of: date, reps: int) -> dict:
    """Time each stage of the hook handler without HTTP, on fresh parses of the same body."""
    from cds_service.fhir import prefetch
    from cds_service.cards import render_patient_view
    from cds_service.config import Config
    from cds_service.hooks.services import find_service
    from cds_service.http.validation import validate_hook_request
    from fhir_mappings import build_patient_record
    from myeloma_model import evaluate

    try:  # run each repetition with the GC as the hook endpoint runs it (paused, if it does)
        from cds_service.http.gc_pause import gc_paused
    except ImportError:
        from contextlib import nullcontext as gc_paused

    cfg = Config(auth="off")
    svc = find_service(SERVICE_ID)
    stages: dict[str, list[float]] = {k: [] for k in
                                      ("parse", "validate", "resolve", "map", "assess", "cards",
                                       "assessment", "handler")}
    cards = None
    for _ in range(reps):
        with gc_paused():
            t = [time.perf_counter()]
            body = json.loads(raw)
            t.append(time.perf_counter())
            validate_hook_request(body)
            t.append(time.perf_counter())
            data = prefetch.resolve(body, svc.prefetch, required=svc.required_prefetch, config=cfg)
            resources = getattr(data, "resource_set", None) or data.all_resources()  # as the hook
            t.append(time.perf_counter())
            record = build_patient_record(resources, patient_id=patient_id, as_of=as_of)
            t.append(time.perf_counter())
            assessment = evaluate(record, as_of)  # the typed assessment the hook's cards read
            t.append(time.perf_counter())
            cards = render_patient_view(assessment, config=cfg)
            t.append(time.perf_counter())
            for name, a, b in zip(("parse", "validate", "resolve", "map", "assess", "cards"), t, t[1:], strict=False):
                stages[name].append((b - a) * 1000)
            stages["assessment"].append((t[6] - t[3]) * 1000)
            stages["handler"].append((t[6] - t[0]) * 1000)
            del body, data, resources, record  # freed before the GC resumes, as in the endpoint
    out = {name: {"p50_ms": percentile(v, 50), "p99_ms": percentile(v, 99)} for name, v in stages.items()}
    out["reps"] = reps
    out["gc_paused_like_the_endpoint"] = gc_paused.__name__ == "gc_paused"
    out["json_loads_gc_on_vs_off_ms"] = parse_cost_by_gc(raw, max(3, min(reps, 20)))
    out["card_count"] = len(cards or [])
    out["relapse_status"] = assessment.relapse.status if assessment else None
    out["data_gaps"] = len(assessment.data_gaps) if assessment else 0
    return out


def parse_cost_by_gc(raw: bytes, reps: int) -> dict:
    """json.loads of the body with the cyclic GC running (what the floor does) and paused."""
    import gc

    out = {}
    for label in ("gc_on", "gc_off"):
        samples = []
        for _ in range(reps):
            if label == "gc_off":
                gc.disable()
            t0 = time.perf_counter()
            body = json.loads(raw)
            samples.append((time.perf_counter() - t0) * 1000)
            gc.enable()
            del body
        out[label] = percentile(samples, 50)
    return out


# --------------------------------------------------------------------------- HTTP
def post_once(port: int, raw: bytes, timeout: float = 120) -> tuple[int, dict | None, float]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    t0 = time.perf_counter()
    conn.request("POST", HOOK_PATH, raw, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    dt = (time.perf_counter() - t0) * 1000
    conn.close()
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = None
    return resp.status, parsed, dt


def load(port: int, body_file: Path, requests: int, concurrency: int, warmup: int) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.loadgen", "--port", str(port), "--path", HOOK_PATH,
         "--body", str(body_file), "--concurrency", str(concurrency), "--requests", str(requests),
         "--warmup", str(warmup)],
        capture_output=True, text=True, cwd=REPO, check=True)
    return json.loads(proc.stdout)


def describe_probe(status: int, parsed, ms: float) -> dict:
    cards = parsed.get("cards") if isinstance(parsed, dict) else None
    out = {"probe_status": status, "probe_ms": ms, "cards": len(cards) if isinstance(cards, list) else None,
           "card_summaries": [c.get("summary") for c in cards] if cards else []}
    if status != 200:
        out["probe_body"] = json.dumps(parsed)[:400] if parsed is not None else None
    return out


def peak_mb(server: Gunicorn) -> float:
    return max((v for v in server.worker_peak_rss_kb().values() if v), default=0) / 1024


def http_phase(body_file: Path, raw: bytes, requests: int, concurrency: int, workers: int, env: dict,
               log_dir: Path, rounds: int = HTTP_ROUNDS) -> dict[str, dict]:
    """Hook and floor, both up at once, measured in alternating rounds so that background load
    on a shared machine weighs on both alike. Worker memory is read twice: after sequential
    single requests (one request in a worker at a time) and after the concurrent load."""
    apps = {"hook": ("cds_service.wsgi:app", env), "floor": ("benchmarks.floor_app:app", {})}
    out: dict[str, dict] = {}
    with Gunicorn(apps["hook"][0], workers=workers, env=apps["hook"][1], extra_args=production_gunicorn_args(),
                  log_dir=log_dir) as hook, \
            Gunicorn(apps["floor"][0], workers=workers, env=apps["floor"][1],
                     extra_args=production_gunicorn_args(), log_dir=log_dir) as floor:
        servers = {"hook": hook, "floor": floor}
        for label, server in servers.items():
            probes = [post_once(server.port, raw) for _ in range(2 * workers)]  # every worker sees one
            out[label] = describe_probe(*probes[0])
            out[label]["single_request_peak_rss_mb"] = peak_mb(server)
            out[label].update(latencies=[], statuses={}, wall_s=0.0, completed=0)
        per_round = max(concurrency, math.ceil(requests / rounds))
        for _ in range(rounds):
            for label, server in servers.items():
                res = load(server.port, body_file, per_round, concurrency, warmup=concurrency)
                o = out[label]
                o["latencies"] += res["latencies_ms"]
                for k, v in res["statuses"].items():
                    o["statuses"][k] = o["statuses"].get(k, 0) + v
                o["wall_s"] += res["wall_s"]
                o["completed"] += res["throughput_rps"] * res["wall_s"]
                if res["errors"]:
                    o.setdefault("errors", {}).update(res["errors"])
        for label, server in servers.items():
            o = out[label]
            o["worker_peak_rss_mb"] = peak_mb(server)
            lat = o.pop("latencies")
            o.update(requests=len(lat), concurrency=concurrency, rounds=rounds,
                     p50_ms=percentile(lat, 50), p99_ms=percentile(lat, 99),
                     throughput_rps=o.pop("completed") / o["wall_s"] if o["wall_s"] else None)
    return out


# --------------------------------------------------------------------------- fallback
def expected_pages(templates: dict[str, str], resources: list[dict], patient_id: str,
                   page_size: int) -> dict[str, int]:
    out = {}
    for key, tpl in templates.items():
        got = satisfy_template(tpl, resources, patient_id)
        if isinstance(got, dict) and got.get("resourceType") == "Bundle":
            out[key] = max(1, math.ceil(len(got["entry"]) / page_size))
        else:
            out[key] = 1
    return out


def requested_page_size(lines: list[str]) -> int | None:
    sizes = []
    for line in lines:
        q = parse_qs(urlsplit(line.split(" ")[1]).query)
        if "_count" in q:
            sizes.append(int(q["_count"][-1]))
    return max(sizes) if sizes else None


def fallback_phase(sizes, patients: dict, templates: dict, reps: dict, env: dict, workers: int,
                   as_of: date, seed: int, log_dir: Path, server_cls=Sekmet, warmup: int = 1) -> dict:
    out: dict = {}
    with server_cls() as fhir:
        for n in sizes:
            t0 = time.perf_counter()
            fhir.post_json("", transaction_bundle(patients[n]))
            out[n] = {"load_s": time.perf_counter() - t0}
        with Gunicorn("cds_service.wsgi:app", workers=workers, env=env, extra_args=production_gunicorn_args(),
                      log_dir=log_dir) as g:
            for n in sizes:
                pid = f"bench-{n}"
                raw = json.dumps(hook_request(patients[n], pid, None, fhir_server=fhir.base_url, seed=seed)).encode()
                lat, trips, statuses, by_type, cards = [], [], Counter(), Counter(), None
                page_size = None
                for i in range(reps[n] + warmup):  # the first requests warm the worker and are not counted
                    mark = fhir.log_mark()
                    status, parsed, ms = post_once(g.port, raw)
                    lines = settle(fhir, mark)
                    if i < warmup:
                        continue
                    lat.append(ms)
                    trips.append(len(lines))
                    statuses[status] += 1
                    page_size = requested_page_size(lines) or page_size
                    if i == warmup:
                        by_type = Counter(urlsplit(ln.split(" ")[1]).path.rsplit("/", 1)[-1] if "?" in ln.split(" ")[1]
                                          else "read:" + urlsplit(ln.split(" ")[1]).path.split("/")[2] for ln in lines)
                        c = (parsed or {}).get("cards") if isinstance(parsed, dict) else None
                        cards = len(c) if isinstance(c, list) else None
                        if status != 200:
                            out[n]["error_body"] = json.dumps(parsed)[:400]
                effective = min(page_size or fhir.max_page, fhir.max_page)
                exp = expected_pages(templates, patients[n], pid, effective)
                out[n].update({
                    "requests": len(lat), "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99),
                    "statuses": {str(k): v for k, v in statuses.items()},
                    "round_trips": percentile(trips, 50), "round_trips_max": max(trips) if trips else None,
                    "round_trips_by_type": dict(by_type), "requested_page_size": page_size,
                    "pages_needed": sum(exp.values()), "pages_needed_by_key": exp,
                    "pages_needed_at_max_page": sum(expected_pages(templates, patients[n], pid,
                                                                   fhir.max_page).values()),
                    "server": fhir.label, "max_page": fhir.max_page, "warmup_requests": warmup,
                    "cards": cards,
                })
    return out


def settle(fhir, mark: int, quiet_s: float = 0.15, limit_s: float = 3.0) -> list[str]:
    """FHIR request lines logged since `mark`, once the log has stopped growing."""
    deadline = time.monotonic() + limit_s
    last = -1
    while time.monotonic() < deadline:
        size = fhir.log_mark()
        if size == last:
            break
        last = size
        time.sleep(quiet_s)
    return fhir.requests_since(mark)


# --------------------------------------------------------------------------- report
def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = ""
    return {"cpus": os.cpu_count(), "cpu_model": cpu, "python": platform.python_version(),
            "platform": platform.platform(), "git_commit": commit, "loadavg_start": os.getloadavg()}


def cpu_times() -> list[int]:
    """Aggregate /proc/stat cpu line: user nice system idle iowait irq softirq steal."""
    try:
        return [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    except (OSError, ValueError):
        return []


def steal_share(start: list[int], end: list[int]) -> float | None:
    """Share of CPU time the hypervisor gave to others during the run (noise indicator)."""
    if len(start) < 8 or len(end) < 8:
        return None
    delta = [b - a for a, b in zip(start, end, strict=False)]
    return delta[7] / sum(delta) if sum(delta) else None


def fmt(v, spec=".0f", dash="-"):
    return dash if v is None else format(v, spec)


def table(res: dict) -> str:
    head = ["N obs", "body MB", "assess p50/p99 ms", "handler p50/p99 ms", "hook p50/p99 ms",
            "floor p50/p99 ms", "ratio p50/p99", "hook rps", "floor rps", "rps %",
            "fallback p50/p99 ms", "trips (needed)", "worker MB 1/load"]
    rows = []
    for n, r in res["sizes"].items():
        ip, hk, fl, fb = r.get("in_process", {}), r.get("hook", {}), r.get("floor", {}), r.get("fallback", {})
        a, h = ip.get("assessment", {}), ip.get("handler", {})
        rows.append([
            f"{int(n):,}" + ("" if r.get("observations_in_request") == int(n) else f" ({r.get('observations_in_request')})"),
            fmt(r.get("body_bytes", 0) / 1e6, ".1f"),
            f"{fmt(a.get('p50_ms'), '.1f')}/{fmt(a.get('p99_ms'), '.1f')}",
            f"{fmt(h.get('p50_ms'), '.1f')}/{fmt(h.get('p99_ms'), '.1f')}",
            f"{fmt(hk.get('p50_ms'))}/{fmt(hk.get('p99_ms'))}" + ("" if hk.get("ok", True) else " ERR"),
            f"{fmt(fl.get('p50_ms'))}/{fmt(fl.get('p99_ms'))}",
            f"{fmt(r.get('ratio_p50'), '.2f')}/{fmt(r.get('ratio_p99'), '.2f')}",
            fmt(hk.get("throughput_rps"), ".1f"), fmt(fl.get("throughput_rps"), ".1f"),
            fmt(r.get("throughput_share") and 100 * r["throughput_share"]),
            f"{fmt(fb.get('p50_ms'))}/{fmt(fb.get('p99_ms'))}" + ("" if fb.get("ok", True) else " ERR"),
            f"{fmt(fb.get('round_trips'))} ({fmt(fb.get('pages_needed_at_max_page'))})",
            f"{fmt(hk.get('single_request_peak_rss_mb'))}/{fmt(hk.get('worker_peak_rss_mb'))}",
        ])
    widths = [max(len(head[i]), *(len(row[i]) for row in rows)) for i in range(len(head))]
    line = lambda cells: " | ".join(c.rjust(w) for c, w in zip(cells, widths, strict=False))
    return "\n".join([line(head), "-+-".join("-" * w for w in widths), *map(line, rows)])


def fallback_table(res: dict) -> str:
    """One row per (FHIR server, N): the fallback path's latency and round trips."""
    head = ["FHIR server", "N obs", "p50 ms", "p99 ms", "round trips", "pages needed", "max page", "statuses"]
    rows = []
    for server, key in FALLBACK_KEY.items():
        for n, r in res["sizes"].items():
            fb = r.get(key)
            if not fb:
                continue
            rows.append([fb.get("server", server), f"{int(n):,}", fmt(fb.get("p50_ms")), fmt(fb.get("p99_ms")),
                         fmt(fb.get("round_trips")), fmt(fb.get("pages_needed_at_max_page")),
                         fmt(fb.get("max_page")), json.dumps(fb.get("statuses") or fb.get("error", "-"))])
    if not rows:
        return ""
    widths = [max(len(head[i]), *(len(row[i]) for row in rows)) for i in range(len(head))]
    line = lambda cells: " | ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True))
    return "\n".join([line(head), "-+-".join("-" * w for w in widths), *map(line, rows)])


def evaluate(res: dict) -> dict:
    s = res["sizes"]
    get = lambda n, *path: _dig(s.get(str(n)) or s.get(n) or {}, path)
    checks = {}

    def check(name, value, limit, le=True, valid=True):
        ok = None if value is None else (value <= limit if le else value >= limit)
        checks[name] = {"value": value, "limit": limit, "ok": ok}
        if not valid and ok is not None:  # a number from failed requests proves nothing
            checks[name].update(ok=False, note="requests failed (non-200); see the table")

    good = lambda n, phase: bool(get(n, phase, "ok"))

    check("hook/floor p50 at N=5,000", get(5000, "ratio_p50"), TARGETS["ratio_p50_n5000_max"],
          valid=good(5000, "hook"))
    check("hook/floor p99 at N=5,000", get(5000, "ratio_p99"), TARGETS["ratio_p99_n5000_max"],
          valid=good(5000, "hook"))
    check("hook p50 N=20,000 / N=5,000", ratio(get(20000, "hook", "p50_ms"), get(5000, "hook", "p50_ms")),
          TARGETS["growth_20000_over_5000_max"], valid=good(5000, "hook") and good(20000, "hook"))
    check("assessment p50 N=20,000 / N=5,000",
          ratio(get(20000, "in_process", "assessment", "p50_ms"), get(5000, "in_process", "assessment", "p50_ms")),
          TARGETS["growth_20000_over_5000_max"])
    check("throughput hook/floor at N=1,000", get(1000, "throughput_share"), TARGETS["throughput_share_n1000_min"],
          le=False, valid=good(1000, "hook"))
    check("fallback p50 at N=5,000 (ms)", get(5000, "fallback", "p50_ms"), TARGETS["fallback_p50_n5000_max_ms"],
          valid=good(5000, "fallback"))
    rt, need = get(5000, "fallback", "round_trips"), get(5000, "fallback", "pages_needed_at_max_page")
    checks["fallback round trips at N=5,000 = pages needed (largest pages)"] = {
        "value": rt, "limit": need, "ok": None if rt is None or need is None else rt <= need}
    if not good(5000, "fallback") and rt is not None:
        checks["fallback round trips at N=5,000 = pages needed (largest pages)"].update(
            ok=False, note="requests failed (non-200); see the table")
    check("fallback against HAPI p50 at N=5,000 (ms)", get(5000, "fallback_hapi", "p50_ms"),
          TARGETS["fallback_hapi_p50_n5000_max_ms"], valid=good(5000, "fallback_hapi"))
    rt, need = get(5000, "fallback_hapi", "round_trips"), get(5000, "fallback_hapi", "pages_needed_at_max_page")
    if rt is not None:
        checks["fallback against HAPI round trips at N=5,000 = pages needed (largest pages)"] = {
            "value": rt, "limit": need, "ok": None if need is None else rt <= need}
    check("worker peak RSS at N=20,000, one request at a time (MB)",
          get(20000, "hook", "single_request_peak_rss_mb"), TARGETS["worker_peak_mb_n20000_max"],
          valid=good(20000, "hook"))
    check("worker peak RSS at N=20,000 under the concurrent load (MB)", get(20000, "hook", "worker_peak_rss_mb"),
          TARGETS["worker_peak_mb_n20000_max"], valid=good(20000, "hook"))
    return checks


def _dig(d, path):
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="myeloma-cds performance benchmark (issue 6)")
    p.add_argument("--quick", action="store_true", help="fewer repetitions (smoke check, noisier)")
    p.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated N (default all)")
    p.add_argument("--concurrency", type=int, default=4, help="load generator connections (default 4)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, as in production)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--skip", default="", help="comma-separated phases to skip: inprocess,http,fallback")
    p.add_argument("--fhir-server", choices=("sekmet", "hapi", "both"), default="sekmet",
                   help="FHIR server(s) of the fallback phase (default sekmet; hapi needs the jar scripts/setup builds)")
    p.add_argument("--hapi-sizes", default=",".join(map(str, HAPI_SIZES)),
                   help="N measured against HAPI (default 1000,5000; only those also in --sizes)")
    p.add_argument("--env", action="append", default=[], help="extra KEY=VALUE for the service (repeatable)")
    p.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "latest.json"))
    a = p.parse_args(argv)

    sizes = [int(x) for x in a.sizes.split(",") if x]
    reps = QUICK if a.quick else FULL
    skip = set(filter(None, a.skip.split(",")))
    env = {"CDS_AUTH": "off", "CDS_LOG_LEVEL": "WARNING", **dict(e.split("=", 1) for e in a.env)}
    as_of = date.today()
    res: dict = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
                 "options": {"quick": a.quick, "concurrency": a.concurrency, "workers": a.workers, "seed": a.seed,
                             "fhir_server": a.fhir_server,
                             "as_of": as_of.isoformat(), "service_env": env,
                             "gunicorn_args": production_gunicorn_args(), "reps": {n: reps[n] for n in sizes}},
                 "targets": TARGETS, "sizes": {}}
    log_dir = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    cpu_start = cpu_times()
    templates = discovery_prefetch()
    res["prefetch_templates"] = templates
    patients = {n: heavy_patient(n, seed=a.seed, end=as_of) for n in sizes}
    bodies: dict[int, Path] = {}
    for n in sizes:
        pid = f"bench-{n}"
        body = hook_request(patients[n], pid, templates, seed=a.seed)
        raw = json.dumps(body).encode()
        f = log_dir / f"hook-{n}.json"
        f.write_bytes(raw)
        bodies[n] = f
        r = res["sizes"][str(n)] = {"body_bytes": len(raw), "observations_in_request":
                                    sum(1 for v in body["prefetch"].values() if isinstance(v, dict)
                                        for e in v.get("entry", []) if e["resource"]["resourceType"] == "Observation"),
                                    "resources_in_request": sum(len(v.get("entry", [])) if v.get("resourceType") == "Bundle"
                                                                else 1 for v in body["prefetch"].values() if v)}
        print(f"N={n:>6}: request {len(raw) / 1e6:.1f} MB, {r['observations_in_request']} Observations",
              flush=True)
        if "inprocess" not in skip:
            try:
                r["in_process"] = in_process(raw, pid, as_of, reps[n][0])
                ip = r["in_process"]
                print(f"  in-process assessment p50 {ip['assessment']['p50_ms']:.1f} ms, handler p50 "
                      f"{ip['handler']['p50_ms']:.1f} ms; relapse status {ip['relapse_status']}, {ip['card_count']} cards; "
                      f"json.loads gc on/off {ip['json_loads_gc_on_vs_off_ms']['gc_on']:.1f}/"
                      f"{ip['json_loads_gc_on_vs_off_ms']['gc_off']:.1f} ms", flush=True)
            except Exception as exc:  # report and go on: the other phases still tell something
                r["in_process"] = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()[-2000:]}
                print(f"  in-process FAILED: {exc}", flush=True)
        if "http" not in skip:
            try:
                r.update(http_phase(bodies[n], raw, reps[n][1], a.concurrency, a.workers, env, log_dir))
            except Exception as exc:
                r["hook"] = {"error": f"{type(exc).__name__}: {exc}", "ok": False}
                print(f"  HTTP phase FAILED: {exc}", flush=True)
            for label in ("hook", "floor"):
                x = r.get(label, {})
                if "error" in x:
                    continue
                x["ok"] = x["probe_status"] == 200 and set(x["statuses"]) == {"200"}
                print(f"  {label:<5} p50 {fmt(x['p50_ms'])} ms p99 {fmt(x['p99_ms'])} ms "
                      f"{fmt(x['throughput_rps'], '.1f')} req/s, statuses {x['statuses']}, worker peak "
                      f"{x['single_request_peak_rss_mb']:.0f} MB single, {x['worker_peak_rss_mb']:.0f} MB loaded",
                      flush=True)
            hk, fl = r.get("hook", {}), r.get("floor", {})
            r["ratio_p50"] = ratio(hk.get("p50_ms"), fl.get("p50_ms"))
            r["ratio_p99"] = ratio(hk.get("p99_ms"), fl.get("p99_ms"))
            r["throughput_share"] = ratio(hk.get("throughput_rps"), fl.get("throughput_rps"))
    servers = ("sekmet", "hapi") if a.fhir_server == "both" else (a.fhir_server,)
    hapi_sizes = [n for n in sizes if n in {int(x) for x in a.hapi_sizes.split(",") if x}]
    for server in servers if "fallback" not in skip else ():
        key = FALLBACK_KEY[server]
        run_sizes = hapi_sizes if server == "hapi" else sizes
        try:
            fb = fallback_phase(run_sizes, patients, templates, {n: reps[n][2] for n in run_sizes}, env, a.workers,
                                as_of, a.seed, log_dir, server_cls=FHIR_SERVERS[server],
                                warmup=HAPI_WARMUP if server == "hapi" else 1)
            for n, v in fb.items():
                v["ok"] = v.get("statuses") == {"200": v.get("requests")}
                res["sizes"][str(n)][key] = v
                print(f"N={n:>6}: fallback ({v.get('server')}) p50 {fmt(v.get('p50_ms'))} ms, round trips "
                      f"{v.get('round_trips')} (pages needed at _count={v.get('requested_page_size')}: "
                      f"{v.get('pages_needed')}, at {v.get('max_page')}: {v.get('pages_needed_at_max_page')}), "
                      f"statuses {v.get('statuses')}", flush=True)
        except Exception as exc:
            res[f"{key}_error"] = f"{type(exc).__name__}: {exc}"
            print(f"fallback ({server}) FAILED: {exc}\n{traceback.format_exc()}", flush=True)
    res["machine"]["loadavg_end"] = os.getloadavg()
    res["machine"]["cpu_steal_share"] = steal_share(cpu_start, cpu_times())
    res["checks"] = evaluate(res)
    res["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2))
    print()
    print(f"myeloma-cds benchmark, {res['machine']['cpus']} CPUs ({res['machine']['cpu_model']}), "
          f"gunicorn {a.workers} workers {' '.join(production_gunicorn_args())}, concurrency {a.concurrency}, "
          f"{'quick' if a.quick else 'full'} run, load average {res['machine']['loadavg_start'][0]:.1f} at start")
    print(table(res))
    if fallback_table(res):
        print()
        print(fallback_table(res))
    print()
    for name, c in res["checks"].items():
        state = "n/a " if c["ok"] is None else ("PASS" if c["ok"] else "FAIL")
        val = c["value"]
        note = f" - {c['note']}" if c.get("note") else ""
        print(f"  [{state}] {name}: {fmt(val, '.2f') if isinstance(val, float) else val} (target {c['limit']}){note}")
    print(f"\nresults: {out}   logs: {log_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
