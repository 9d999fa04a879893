"""What fhir.resources models cost against plain JSON, on a 1,000-Observation Bundle (issue 6).

In-process (median of repeated runs, same Bundle):
  - json.loads of the Bundle bytes;
  - plain dict extraction: the fields the mapping needs (code, value, unit, date, status)
    from the parsed dict, for every Observation;
  - fhir.resources 8 R4B: Bundle.model_validate(parsed dict), Bundle.model_validate_json(bytes)
    and Observation.model_validate for each entry's resource.
Over HTTP (unless --no-http): two minimal Flask endpoints under gunicorn (2 workers, as the
benchmark runs the service, with the Dockerfile's gunicorn options), one only parsing the JSON body (benchmarks.floor_app), one also
validating every prefetch Bundle with the R4B models (BENCH_FLOOR_MODELS=1); throughput at
the benchmark's concurrency with the N = 1,000 hook request.

    .venv/bin/python -m benchmarks.model_cost [--repeat 30] [--no-http]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .synthetic import DEFAULT_SEED, heavy_patient, hook_request, searchset

PREFETCH_ALL_OBSERVATIONS = {
    "patient": "Patient/{{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
}


def extract_plain(bundle: dict) -> list[tuple]:
    """What the mapping reads from each Observation, with plain dict access."""
    out = []
    for entry in bundle.get("entry", ()):
        r = entry.get("resource") or {}
        if r.get("resourceType") != "Observation":
            continue
        codings = (r.get("code") or {}).get("coding") or ()
        code = next(((c.get("system"), c.get("code")) for c in codings), None)
        q = r.get("valueQuantity") or {}
        out.append((code, q.get("value"), q.get("code") or q.get("unit"), r.get("effectiveDateTime"),
                    r.get("status")))
    return out


def timed(fn, repeat: int) -> dict:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000.0)
    return {"median_ms": statistics.median(samples), "min_ms": min(samples), "repeat": repeat}


def in_process(repeat: int, n: int = 1000) -> dict:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.observation import Observation

    observations = [r for r in heavy_patient(n) if r["resourceType"] == "Observation"]
    bundle = searchset(observations)
    raw = json.dumps(bundle).encode()
    parsed = json.loads(raw)
    Bundle.model_validate(parsed)  # warm the model classes (imports, schema build)
    results = {
        "observations": n,
        "bundle_bytes": len(raw),
        "json_loads": timed(lambda: json.loads(raw), repeat),
        "dict_extraction": timed(lambda: extract_plain(parsed), repeat),
        "json_loads_plus_dict_extraction": timed(lambda: extract_plain(json.loads(raw)), repeat),
        "models_bundle_validate": timed(lambda: Bundle.model_validate(parsed), max(5, repeat // 3)),
        "models_bundle_validate_json": timed(lambda: Bundle.model_validate_json(raw), max(5, repeat // 3)),
        "models_per_observation_validate": timed(
            lambda: [Observation.model_validate(o) for o in observations], max(5, repeat // 3)),
    }
    return results


def over_http(requests: int, concurrency: int) -> dict:
    from .run import production_gunicorn_args
    from .servers import Gunicorn

    resources = heavy_patient(1000)
    body = json.dumps(hook_request(resources, "bench-1000", PREFETCH_ALL_OBSERVATIONS, seed=DEFAULT_SEED)).encode()
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        f.write(body)
    out = {}
    for label, env in (("json_only", {}), ("models_validate", {"BENCH_FLOOR_MODELS": "1"})):
        with Gunicorn("benchmarks.floor_app:app", env=env, extra_args=production_gunicorn_args()) as g:
            reqs = requests if label == "json_only" else max(20, requests // 10)
            proc = subprocess.run([sys.executable, "-m", "benchmarks.loadgen", "--port", str(g.port),
                                   "--path", "/cds-services/myeloma-relapse", "--body", f.name,
                                   "--concurrency", str(concurrency), "--requests", str(reqs),
                                   "--warmup", str(2 * concurrency)],
                                  capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent)
            res = json.loads(proc.stdout)
            lat = sorted(res.pop("latencies_ms"))
            res["p50_ms"] = lat[len(lat) // 2] if lat else None
            out[label] = res
    Path(f.name).unlink()
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description="fhir.resources model cost vs json/dicts")
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--no-http", action="store_true")
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--concurrency", type=int, default=4)
    a = p.parse_args(argv)
    res = {"in_process": in_process(a.repeat)}
    if not a.no_http:
        res["http"] = over_http(a.requests, a.concurrency)
    print_report(res)
    return res


def print_report(res: dict) -> None:
    ip = res["in_process"]
    print(f"1,000-Observation searchset Bundle ({ip['bundle_bytes'] / 1e6:.2f} MB), median ms:")
    for key in ("json_loads", "dict_extraction", "json_loads_plus_dict_extraction", "models_bundle_validate",
                "models_bundle_validate_json", "models_per_observation_validate"):
        print(f"  {key:<36} {ip[key]['median_ms']:8.1f}")
    if "http" in res:
        for label, r in res["http"].items():
            print(f"  gunicorn 2 workers, {label:<16} {r['throughput_rps']:7.1f} req/s  p50 {r['p50_ms']:.1f} ms"
                  f"  (statuses {r['statuses']})")


if __name__ == "__main__":
    out = main()
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / "model_cost.json").write_text(json.dumps(out, indent=2))
