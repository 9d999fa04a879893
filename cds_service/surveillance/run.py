"""The Dask graph: NDJSON lines -> tagged items -> grouped by patient -> one worklist row each.

- Reading: dask.bag.read_text with a blocksize, so a task holds one block of one file (memory
  per worker follows the partition size, not the export size).
- Grouping: Bag.groupby, Dask's own shuffle: `disk` (partd files) on the in-process
  scheduler, `tasks` on a distributed cluster (workers spill to disk under their memory limit).
- Per patient: pipeline.assess_resources, the one resolve-then-assess core the hooks, POST
  /assessment and `myeloma-cds assess` share.
The same graph runs on the in-process scheduler (default: threads, nothing to start) or on a
`distributed.Client`.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from pathlib import Path

import dask
import dask.bag as db
from dask.diagnostics import ProgressBar
from dask.utils import parse_bytes

from cds_service.pipeline import assess_resources
from cds_service.surveillance.ndjson import (
    MEDICATION,
    PARTITION_STATS,
    RESOURCE,
    UNREADABLE,
    BadLine,
    number_bad_lines,
    parse_partition,
)
from cds_service.surveillance.worklist import error_row, row_from_assessment, sort_rows

log = logging.getLogger(__name__)

DEFAULT_PARTITION_SIZE = "16MiB"
LOCAL_SCHEDULERS = ("threads", "sync", "processes")
NO_PATIENT_GAP = "The export holds no Patient resource for this patient; the record may be incomplete."


@dataclass
class SurveillanceResult:
    rows: list[dict]  # sorted by urgency (worklist.sort_rows)
    bad_lines: list[BadLine]
    files: dict[str, dict]  # file name -> line counts
    partitions: int
    elapsed_s: float
    scheduler: str
    medications: int = 0
    extra: dict = field(default_factory=dict)


def _is(tag: str):
    def check(item: tuple) -> bool:
        return item[0] == tag
    check.__name__ = f"is_{tag}"
    return check


def _medications_of_partition(items) -> dict[str, str]:
    return {key: text for _, key, text in items}


def _merge(dicts) -> dict[str, str]:
    out: dict[str, str] = {}
    for d in dicts:
        out.update(d)
    return out


def _referenced_medications(resources: list[dict], medications: dict[str, str]) -> list[dict]:
    """The export's Medication resources this patient's medication resources point to."""
    wanted = set()
    for res in resources:
        ref = res.get("medicationReference")
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            reference = ref["reference"]
            if "/Medication/" in reference:
                reference = "Medication/" + reference.rsplit("/Medication/", 1)[1].split("/_history")[0]
            wanted.add(reference)
    return [json.loads(medications[w]) for w in sorted(wanted) if w in medications]


def assess_group(group: tuple[str, list[tuple]], *, as_of: date, medications: dict[str, str]) -> dict:
    """One patient's worklist row: their resources through the hooks' assessment."""
    patient_id, items = group
    resources = [json.loads(text) for tag, _, text in items if tag == RESOURCE]
    unreadable = sum(1 for tag, _, _ in items if tag == UNREADABLE)
    gaps = []
    if unreadable:
        gaps.append(f"{unreadable} line(s) of the export for this patient could not be read; "
                    "the record is incomplete.")
    if not any(r.get("resourceType") == "Patient" for r in resources):
        gaps.append(NO_PATIENT_GAP)
    if medications:
        resources += _referenced_medications(resources, medications)
    try:
        assessment = assess_resources(resources, patient_id=patient_id, as_of=as_of, data_gaps=gaps)
    except Exception as exc:  # one patient's bug must not stop a clinic's run, nor hide the patient
        log.error("surveil: the assessment of one patient failed (%s)", type(exc).__name__)
        return error_row(patient_id, f"assessment failed ({type(exc).__name__})", unreadable_lines=unreadable)
    return row_from_assessment(patient_id, assessment, unreadable_lines=unreadable)


def build_graph(paths: list[Path], *, as_of: date, partition_size: str | int, shuffle: str):
    """(rows bag, partition-stats bag, medication-count item, input partitions) for `paths`."""
    blocksize = parse_bytes(partition_size) if isinstance(partition_size, str) else int(partition_size)
    lines = db.read_text([str(p) for p in paths], blocksize=blocksize, include_path=True, errors="replace")
    parsed = lines.map_partitions(parse_partition)
    stats = parsed.filter(_is(PARTITION_STATS)).map(itemgetter(1))
    medications = parsed.filter(_is(MEDICATION)).reduction(_medications_of_partition, _merge)
    patient_items = parsed.filter(lambda item: item[0] in (RESOURCE, UNREADABLE))
    grouped = patient_items.groupby(itemgetter(1), shuffle=shuffle, npartitions=lines.npartitions)
    rows = grouped.map(assess_group, as_of=as_of, medications=medications)
    return rows, stats, medications.apply(len), lines.npartitions


def _compute_local(collections, scheduler: str, progress: bool):
    with dask.config.set(scheduler=scheduler):
        if progress:
            with ProgressBar(minimum=1.0, out=sys.stderr):
                return dask.compute(*collections)
        return dask.compute(*collections)


def _compute_distributed(collections, client, progress: bool):
    futures = client.compute(list(collections))
    if progress:
        # Imported here: distributed costs ~0.5 s to import and is needed only on a cluster.
        from distributed import progress as distributed_progress

        distributed_progress(futures)
        print(file=sys.stderr)
    return client.gather(futures)


def run_surveillance(
    paths: list[Path],
    *,
    as_of: date,
    partition_size: str | int = DEFAULT_PARTITION_SIZE,
    scheduler: str = "threads",
    client=None,
    progress: bool = False,
) -> SurveillanceResult:
    """Assess every patient of an export. `client` (a distributed.Client) wins over
    `scheduler`; a `tcp://` scheduler address opens a Client for the run."""
    started = time.perf_counter()
    own_client = None
    if client is None and scheduler not in LOCAL_SCHEDULERS:
        from distributed import Client  # see _compute_distributed for why it is imported here

        own_client = client = Client(scheduler, set_as_default=False)
    try:
        shuffle = "tasks" if client is not None else "disk"
        rows_bag, stats_bag, n_meds, partitions = build_graph(
            paths, as_of=as_of, partition_size=partition_size, shuffle=shuffle)
        collections = (rows_bag, stats_bag, n_meds)
        if client is not None:
            rows, stats, meds = _compute_distributed(collections, client, progress)
            where = f"distributed ({len(client.scheduler_info().get('workers', {}))} workers)"
        else:
            rows, stats, meds = _compute_local(collections, scheduler, progress)
            where = f"in-process ({scheduler})"
    finally:
        if own_client is not None:
            own_client.close()
    bad, files = number_bad_lines(list(stats))
    return SurveillanceResult(
        rows=sort_rows(rows), bad_lines=bad, files=files, partitions=partitions,
        elapsed_s=time.perf_counter() - started, scheduler=where, medications=int(meds),
    )
