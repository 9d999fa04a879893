"""Benchmark of `myeloma-cds surveil`: patients per second and peak memory.

    python -m benchmarks.surveil_bench                      # 1,000 and 10,000 patients
    python -m benchmarks.surveil_bench --sizes 1000 --obs 0,200,800 --no-cluster

For each export size: the in-process run (threads scheduler, disk shuffle) and a 2-worker
LocalCluster (worker processes, 1 thread each, task shuffle), each in a fresh subprocess so
that peak RSS (getrusage ru_maxrss) belongs to that run alone. Then the cost per patient as
Observations per patient grow (myeloma patients given N extra haemoglobin results). The
export is generated once per configuration by benchmarks/surveil_export.py (seeded) under
--workdir. `--verify` checks every worklist row against the per-patient assessment
(pipeline.assessment_from_input, what `myeloma-cds assess` runs) after the timing.
The machine's load average is printed with the figures: other work on it slows every run.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

AS_OF = date(2026, 11, 30)
SEED = 15


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def run_one(export: Path, mode: str, partition_size: str) -> dict:
    """One timed run in this (fresh) process; prints nothing but the JSON result."""
    from cds_service.surveillance.ndjson import export_files
    from cds_service.surveillance.run import run_surveillance

    paths = export_files(export)
    baseline = _peak_rss_mb()
    workers_peak = []
    startup = 0.0
    if mode == "cluster":
        from distributed import Client, LocalCluster

        t0 = time.perf_counter()
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                          memory_limit="1.5GiB") as cluster, Client(cluster) as client:
            client.wait_for_workers(2)
            startup = time.perf_counter() - t0
            started = time.perf_counter()
            result = run_surveillance(paths, as_of=AS_OF, partition_size=partition_size, client=client)
            seconds = time.perf_counter() - started
            peaks = client.run(_peak_rss_mb)
            workers_peak = sorted(round(v) for v in peaks.values())
    else:
        started = time.perf_counter()
        result = run_surveillance(paths, as_of=AS_OF, partition_size=partition_size, scheduler=mode)
        seconds = time.perf_counter() - started
    export_mb = sum(p.stat().st_size for p in paths) / 1e6
    return {
        "mode": mode, "patients": len(result.rows), "seconds": round(seconds, 2),
        "patientsPerSecond": round(len(result.rows) / seconds, 1), "exportMB": round(export_mb, 1),
        "partitions": result.partitions, "peakRssMB": round(_peak_rss_mb()), "baselineRssMB": round(baseline),
        "workersPeakRssMB": workers_peak, "clusterStartSeconds": round(startup, 1), "toReview": sum(1 for r in result.rows if r["urgency"]),
    }


def _subprocess(export: Path, mode: str, partition_size: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    out = subprocess.run([sys.executable, "-m", "benchmarks.surveil_bench", "--one", str(export), "--mode", mode,
                          "--partition-size", partition_size], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _export(workdir: Path, n: int, extra_obs: int) -> Path:
    from benchmarks.surveil_export import write_export

    folder = workdir / f"export-{n}-x{extra_obs}"
    if not (folder / "Patient.ndjson").exists():
        write_export(folder, n, as_of=AS_OF, seed=SEED, extra_observations=extra_obs)
    return folder


def verify(export: Path, n: int, extra_obs: int) -> int:
    """Rows that differ from the per-patient `assess` (0 expected)."""
    from benchmarks.surveil_export import generate
    from cds_service.config import Config
    from cds_service.hooks.pipeline import assessment_from_input
    from cds_service.surveillance.ndjson import export_files
    from cds_service.surveillance.run import run_surveillance
    from cds_service.surveillance.worklist import row_from_assessment

    rows = {r["patientId"]: r for r in run_surveillance(export_files(export), as_of=AS_OF).rows}
    bad = 0
    for _, resources in generate(n, as_of=AS_OF, seed=SEED, extra_observations=extra_obs):
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
        a = assessment_from_input(bundle, config=Config(), as_of=AS_OF, fetch=False)
        expected = row_from_assessment(a["patientId"], a)
        bad += rows.pop(a["patientId"], None) != expected
    return bad + len(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="surveil benchmark")
    p.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--mode", default="threads", help=argparse.SUPPRESS)
    p.add_argument("--sizes", default="1000,10000")
    p.add_argument("--obs", default="0,200,800", help="extra Observations per myeloma patient")
    p.add_argument("--obs-patients", type=int, default=500, help="patients in the Observations series")
    p.add_argument("--partition-size", default="16MiB")
    p.add_argument("--no-cluster", action="store_true")
    p.add_argument("--verify", action="store_true", help="check the largest export's worklist against assess")
    p.add_argument("--workdir", type=Path, default=Path("/tmp/myeloma-cds-surveil-bench"))
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.mode, args.partition_size)))
        return 0

    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {os.getloadavg()}  cpus: {os.cpu_count()}", flush=True)
    modes = ["threads"] + ([] if args.no_cluster else ["cluster"])
    sizes = [int(s) for s in args.sizes.split(",") if s]
    for n in sizes:
        export = _export(args.workdir, n, 0)
        for mode in modes:
            r = _subprocess(export, mode, args.partition_size)
            print(json.dumps({"series": "patients", **r, "load": os.getloadavg()}), flush=True)
    for extra in [int(s) for s in args.obs.split(",") if s]:
        export = _export(args.workdir, args.obs_patients, extra)
        r = _subprocess(export, "threads", args.partition_size)
        per_patient_ms = 1000 * r["seconds"] / r["patients"]
        print(json.dumps({"series": "observations", "extraObservations": extra, **r,
                          "msPerPatient": round(per_patient_ms, 1), "load": os.getloadavg()}), flush=True)
    if args.verify and sizes:
        n = max(sizes)
        print(json.dumps({"verify": n, "rowsDifferingFromAssess": verify(_export(args.workdir, n, 0), n, 0)}))
    print(f"load average after: {os.getloadavg()}", flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
