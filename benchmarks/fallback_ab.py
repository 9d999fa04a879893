"""Side by side: the fallback path reading pages one by one vs concurrently, same server, same run.

    .venv/bin/python -m benchmarks.fallback_ab --fhir-server hapi   # 4-6 minutes on 2 cores
    .venv/bin/python -m benchmarks.fallback_ab --fhir-server sekmet

Loads the synthetic patients (N = 1,000 and 5,000 Observations by default) into one FHIR
server, then calls the patient-view hook in-process (Flask test client, no prefetch, the
service fetching from that server) alternating CDS_FHIR_PAGE_WORKERS=1 and the default, so
that background load weighs on both. Reports p50/p90 latency and round trips (from the
server's access log) per variant. A long fetch deadline is used so that slow calls are
measured rather than cut off at CDS_REQUEST_DEADLINE_S.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from datetime import date

from cds_service import create_app
from cds_service.config import Config

from .servers import Hapi, Sekmet
from .stats import percentile
from .synthetic import DEFAULT_SEED, heavy_patient, hook_request, transaction_bundle

SERVERS = {"hapi": Hapi, "sekmet": Sekmet}
VARIANTS = {"one by one (CDS_FHIR_PAGE_WORKERS=1)": 1, f"concurrent (default, {Config().fhir_page_workers})":
            Config().fhir_page_workers}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--fhir-server", choices=tuple(SERVERS), default="hapi")
    p.add_argument("--sizes", default="1000,5000")
    p.add_argument("--reps", type=int, default=8, help="measured calls per variant and N (default 8)")
    p.add_argument("--warmup", type=int, default=3, help="unmeasured calls per variant and N (default 3)")
    a = p.parse_args(argv)
    sizes = [int(x) for x in a.sizes.split(",") if x]
    as_of = date.today()
    apps = {label: create_app(Config(auth="off", log_level="WARNING", request_deadline_s=30.0,
                                     fhir_read_timeout_s=20.0, fhir_page_workers=w)).test_client()
            for label, w in VARIANTS.items()}
    results: dict = {"server": None, "loadavg_start": os.getloadavg(), "sizes": {}}
    with SERVERS[a.fhir_server]() as fhir:
        results["server"] = fhir.label
        for n in sizes:
            fhir.post_json("", transaction_bundle(heavy_patient(n, seed=DEFAULT_SEED, end=as_of)))
        for n in sizes:
            body = hook_request(heavy_patient(n, seed=DEFAULT_SEED, end=as_of), f"bench-{n}", None,
                                fhir_server=fhir.base_url)
            lat: dict[str, list[float]] = {k: [] for k in VARIANTS}
            trips: dict[str, list[int]] = {k: [] for k in VARIANTS}
            for i in range(a.warmup + a.reps):
                for label, client in apps.items():
                    mark = fhir.log_mark()
                    t0 = time.perf_counter()
                    resp = client.post("/cds-services/myeloma-relapse", json=body)
                    ms = (time.perf_counter() - t0) * 1000
                    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
                    time.sleep(0.3)  # let the access log catch up
                    if i >= a.warmup:
                        lat[label].append(ms)
                        trips[label].append(len(fhir.requests_since(mark)))
            results["sizes"][n] = {label: {"p50_ms": percentile(lat[label], 50), "p90_ms": percentile(lat[label], 90),
                                           "round_trips": percentile(trips[label], 50)} for label in VARIANTS}
            for label, r in results["sizes"][n].items():
                print(f"{fhir.label}, N={n:,}: {label}: p50 {r['p50_ms']:.0f} ms, p90 {r['p90_ms']:.0f} ms, "
                      f"round trips {r['round_trips']:.0f}", flush=True)
    results["loadavg_end"] = os.getloadavg()
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
