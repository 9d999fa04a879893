"""Render a benchmark result file as the Markdown tables of the README's Performance section,
so that the figures there are copied from a run, never typed.

    .venv/bin/python -m benchmarks.report [benchmarks/results/latest.json] [--model-cost FILE]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def f(v, spec=".0f"):
    return "–" if v is None else format(v, spec)


def main_table(res: dict) -> str:
    rows = ["| N Observations | request | assessment p50 / p99 (in-process) | hook p50 / p99 | floor p50 / p99 "
            "| hook / floor p50, p99 | hook / floor req/s | fallback p50 / p99 | round trips (pages needed) "
            "| worker peak RSS: 1 request / under load |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, r in res["sizes"].items():
        ip, hk, fl, fb = (r.get(k) or {} for k in ("in_process", "hook", "floor", "fallback"))
        a = ip.get("assessment") or {}
        status = lambda x: "" if x.get("ok", True) else " (errors: " + json.dumps(x.get("statuses")) + ")"
        rows.append(
            f"| {int(n):,} | {r['body_bytes'] / 1e6:.1f} MB | {f(a.get('p50_ms'), '.1f')} / {f(a.get('p99_ms'), '.1f')} ms "
            f"| {f(hk.get('p50_ms'))} / {f(hk.get('p99_ms'))} ms{status(hk)} "
            f"| {f(fl.get('p50_ms'))} / {f(fl.get('p99_ms'))} ms "
            f"| {f(r.get('ratio_p50'), '.2f')}, {f(r.get('ratio_p99'), '.2f')} "
            f"| {f(hk.get('throughput_rps'), '.1f')} / {f(fl.get('throughput_rps'), '.1f')} "
            f"({f(r.get('throughput_share') and 100 * r['throughput_share'])} %) "
            f"| {f(fb.get('p50_ms'))} / {f(fb.get('p99_ms'))} ms{status(fb)} "
            f"| {f(fb.get('round_trips'))} ({f(fb.get('pages_needed_at_max_page'))}) "
            f"| {f(hk.get('single_request_peak_rss_mb'))} / {f(hk.get('worker_peak_rss_mb'))} MB |")
    return "\n".join(rows)


def stage_table(res: dict) -> str:
    rows = ["| N | parse | schema validation | prefetch checks | mapping | model | cards | whole handler "
            "| json.loads, GC running / paused |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, r in res["sizes"].items():
        ip = r.get("in_process") or {}
        if "handler" not in ip:
            continue
        p = lambda k, ip=ip: f(ip[k]["p50_ms"], ".1f") if isinstance(ip.get(k), dict) else "–"
        g = ip.get("json_loads_gc_on_vs_off_ms") or {}
        rows.append(f"| {int(n):,} | {p('parse')} | {p('validate')} | {p('resolve')} | {p('map')} | {p('assess')} "
                    f"| {p('cards')} | {p('handler')} | {f(g.get('gc_on'), '.1f')} / {f(g.get('gc_off'), '.1f')} |")
    return "\n".join(rows)


def checks(res: dict) -> str:
    out = []
    for name, c in res["checks"].items():
        state = "n/a" if c["ok"] is None else ("met" if c["ok"] else "**not met**")
        v = c["value"]
        out.append(f"- {name}: {f(v, '.2f') if isinstance(v, float) else v} (target {c['limit']}): {state}"
                   + (f" ({c['note']})" if c.get("note") else ""))
    return "\n".join(out)


def model_cost(mc: dict) -> str:
    ip = mc["in_process"]
    rows = ["| 1,000-Observation searchset Bundle (%.2f MB) | median |" % (ip["bundle_bytes"] / 1e6), "|---|---:|"]
    names = {"json_loads": "json.loads", "dict_extraction": "plain dict extraction (parsed)",
             "json_loads_plus_dict_extraction": "json.loads + dict extraction",
             "models_bundle_validate": "fhir.resources R4B `Bundle.model_validate(dict)`",
             "models_bundle_validate_json": "fhir.resources R4B `Bundle.model_validate_json(bytes)`",
             "models_per_observation_validate": "fhir.resources R4B `Observation.model_validate` x 1,000"}
    for k, label in names.items():
        rows.append(f"| {label} | {ip[k]['median_ms']:.1f} ms |")
    if "http" in mc:
        h = mc["http"]
        rows.append(f"| gunicorn (2 workers), N = 1,000 hook request: JSON only / models on every request "
                    f"| {h['json_only']['throughput_rps']:.1f} / {h['models_validate']['throughput_rps']:.1f} req/s |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", nargs="?", default=str(RESULTS / "latest.json"))
    p.add_argument("--model-cost", default=str(RESULTS / "model_cost.json"))
    a = p.parse_args(argv)
    res = json.loads(Path(a.results).read_text())
    m = res["machine"]
    print(f"Run {res['started']} (commit {m['git_commit']}), {m['cpus']} CPUs {m['cpu_model']}, "
          f"load average {m['loadavg_start'][0]:.2f} at start / {m['loadavg_end'][0]:.2f} at end, "
          f"CPU steal {f((m.get('cpu_steal_share') or 0) * 100, '.1f')} %, "
          f"{'quick' if res['options']['quick'] else 'full'} run, concurrency {res['options']['concurrency']}, "
          f"gunicorn {res['options']['workers']} workers {' '.join(res['options']['gunicorn_args'])}\n")
    print(main_table(res), "\n")
    print(stage_table(res), "\n")
    print(checks(res), "\n")
    if Path(a.model_cost).exists():
        print(model_cost(json.loads(Path(a.model_cost).read_text())))


if __name__ == "__main__":
    main()
