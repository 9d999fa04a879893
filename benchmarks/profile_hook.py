"""Where the hook's time goes: cProfile of POST /cds-services/myeloma-relapse in-process.

Runs the real Flask app (CDS_AUTH off) through its test client with the benchmark's full
prefetch request, so request parsing, schema validation, prefetch resolution, mapping, the
model, card rendering and response serialisation are all in the profile.

    .venv/bin/python -m benchmarks.profile_hook [--sizes 5000,20000] [--runs 3] [--top 25]

Writes benchmarks/results/profile-<N>.prof (open with `python -m pstats` or snakeviz).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import time
from datetime import date
from pathlib import Path

from .run import HOOK_PATH, discovery_prefetch
from .synthetic import DEFAULT_SEED, heavy_patient, hook_request

RESULTS = Path(__file__).parent / "results"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="5000,20000")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--sort", default="tottime", choices=("tottime", "cumulative"))
    a = p.parse_args(argv)

    from cds_service import create_app
    from cds_service.config import Config

    client = create_app(Config(auth="off", log_level="WARNING")).test_client()
    templates = discovery_prefetch()
    RESULTS.mkdir(exist_ok=True)
    for n in (int(x) for x in a.sizes.split(",")):
        raw = json.dumps(hook_request(heavy_patient(n, end=date.today()), f"bench-{n}", templates,
                                      seed=DEFAULT_SEED)).encode()
        post = lambda raw=raw: client.post(HOOK_PATH, data=raw, content_type="application/json")
        resp = post()  # warm caches and imports outside the profile
        if resp.status_code != 200:
            print(f"N={n}: status {resp.status_code}: {resp.get_data(as_text=True)[:300]}")
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        for _ in range(a.runs):
            post()
        prof.disable()
        wall = (time.perf_counter() - t0) / a.runs * 1000
        out = RESULTS / f"profile-{n}.prof"
        prof.dump_stats(out)
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(a.sort).print_stats(a.top)
        print(f"===== N={n}: {wall:.0f} ms per request under the profiler ({a.runs} runs), {out}")
        print(buf.getvalue())


if __name__ == "__main__":
    main()
