"""The hook's stages in-process at one size, for this checkout and optionally another.

Times, with the GC paused as the endpoint runs them, on fresh parses of the same synthetic
request (N Observations, benchmarks/synthetic.py): the bounded parse (`safe_json`), the
prefetch step (`prefetch.resolve`: checks of every supplied key; since the Observations are
read as they are sorted, it includes reading them into lab series), the mapping
(`build_patient_record`: the rest) and the model (`assess`), plus the floor's parse
(`json.loads`). Compare checkouts on the sum of the prefetch step and the mapping. With
`--baseline DIR` the same measurement runs alternately in this checkout and in DIR (each round
a fresh interpreter with that checkout first on the path), so background load on a shared
machine weighs on both alike. Reports p50 and the minimum per stage (the minimum is the
figure least moved by other work on the machine).

    .venv/bin/python benchmarks/hook_stages.py [--n 5000] [--rounds 3] [--reps 10] [--baseline /tmp/base]

Run it as a file (not with -m), so that each round imports the checkout it measures.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
STAGES = ("json.loads", "parse", "resolve", "map", "assess")


def measure(n: int, reps: int) -> dict[str, list[float]]:
    """One round in this interpreter: the checkout first on sys.path is the one measured."""
    # Imported here so that the checkout under test (PYTHONPATH of this round) is the one
    # loaded, not the one this file sits in: a start-up choice, not a cost.
    from benchmarks.run import SERVICE_ID
    from benchmarks.synthetic import DEFAULT_SEED, heavy_patient, hook_request
    from cds_service.fhir import prefetch
    from cds_service.config import Config
    from cds_service.http.safe_json import loads_bounded
    from cds_service.hooks.services import find_service
    from fhir_mappings import build_patient_record
    from myeloma_model import assess

    svc = find_service(SERVICE_ID)
    as_of = date.today()
    raw = json.dumps(hook_request(heavy_patient(n, seed=DEFAULT_SEED, end=as_of), f"bench-{n}", svc.prefetch,
                                  seed=DEFAULT_SEED)).encode()
    cfg = Config(auth="off")
    out: dict[str, list[float]] = {s: [] for s in STAGES}
    for _ in range(reps):
        gc.disable()
        t0 = time.perf_counter()
        floor_body = json.loads(raw)
        t1 = time.perf_counter()
        del floor_body
        t2 = time.perf_counter()
        body = loads_bounded(raw)
        t3 = time.perf_counter()
        data = prefetch.resolve(body, svc.prefetch, required=svc.required_prefetch, config=cfg, fetch=False)
        resources = getattr(data, "resource_set", None) or data.all_resources()  # as the hook
        t4 = time.perf_counter()
        record = build_patient_record(resources, patient_id=f"bench-{n}", as_of=as_of)
        t5 = time.perf_counter()
        assess(record, as_of)
        t6 = time.perf_counter()
        del body, data, resources, record
        gc.enable()
        for stage, a, b in zip(STAGES, (t0, t2, t3, t4, t5), (t1, t3, t4, t5, t6), strict=True):
            out[stage].append((b - a) * 1000)
    return out


def run_round(checkout: Path, n: int, reps: int) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": str(checkout), "CDS_LOG_LEVEL": "WARNING"}
    proc = subprocess.run([sys.executable, __file__, "--child", "--n", str(n), "--reps", str(reps)],
                          cwd=checkout, env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--baseline", default=None, help="another checkout measured alternately")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        print(json.dumps(measure(a.n, a.reps)))
        return 0
    checkouts = {"this": HERE, **({"baseline": Path(a.baseline).resolve()} if a.baseline else {})}
    samples = {label: {s: [] for s in STAGES} for label in checkouts}
    load_before = os.getloadavg()
    for _ in range(a.rounds):
        for label, checkout in checkouts.items():
            for stage, values in run_round(checkout, a.n, a.reps).items():
                samples[label][stage] += values
    print(f"N={a.n}, {a.rounds} rounds x {a.reps} reps, load average {load_before[0]:.1f} -> "
          f"{os.getloadavg()[0]:.1f}; ms p50 / min")
    print(f"  {'checkout':<9}" + "".join(f"{s:>18}" for s in (*STAGES, "own work")))
    for label, stages in samples.items():
        own = [sum(v) for v in zip(*(stages[s] for s in STAGES[1:]), strict=True)]
        cells = [(sorted(v)[len(v) // 2], min(v)) for v in (*(stages[s] for s in STAGES), own)]
        print(f"  {label:<9}" + "".join(f"{f'{p50:.1f} / {lo:.1f}':>18}" for p50, lo in cells)
              + f"   ({checkouts[label]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
