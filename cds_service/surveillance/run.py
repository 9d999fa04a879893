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
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from pathlib import Path

import dask
import dask.bag as db
from dask.diagnostics import ProgressBar
from dask.utils import parse_bytes

from cds_service.hooks.pipeline import assess_resources
from cds_service.surveillance.ndjson import (
    RESOURCE,
    STATS_KEY,
    UNREADABLE,
    BadLine,
    number_bad_lines,
    parse_partition,
    read_medications,
    split_medication_files,
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


def assess_or_stats(group: tuple[str, list[tuple]], *, as_of: date, medications: dict[str, str]):
    """A patient's row, or for the STATS_KEY group the partitions' stats (a list)."""
    if group[0] == STATS_KEY:
        return [payload for _, _, payload in group[1]]
    return assess_group(group, as_of=as_of, medications=medications)


def build_graph(paths: list[Path], *, as_of: date, partition_size: str | int, shuffle: str, medications):
    """(bag of rows and stats lists, input partitions). One consumer per parsed partition:
    the shuffle; the partitions' stats go through it under STATS_KEY."""
    blocksize = parse_bytes(partition_size) if isinstance(partition_size, str) else int(partition_size)
    lines = db.read_text([str(p) for p in paths], blocksize=blocksize, include_path=True, errors="replace")
    numbers = db.from_sequence(range(lines.npartitions), npartitions=lines.npartitions)
    parsed = lines.map_partitions(parse_partition, numbers)
    grouped = parsed.groupby(itemgetter(1), shuffle=shuffle, npartitions=lines.npartitions)
    out = grouped.map(assess_or_stats, as_of=as_of, medications=dask.delayed(medications, pure=True))
    return out, lines.npartitions


def _compute_local(collections, scheduler: str, progress: bool):
    with dask.config.set(scheduler=scheduler):
        if progress:
            with ProgressBar(minimum=1.0, out=sys.stderr):
                return dask.compute(*collections)
        return dask.compute(*collections)


def _compute_distributed(collections, client, progress: bool):
    futures = client.compute(list(collections))
    if progress:
        # Imported here (start-up cost): distributed costs ~0.5 s to import and is needed only on a cluster.
        from distributed import progress as distributed_progress

        distributed_progress(futures, scheduler=client.scheduler.address)  # not the default client
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
        from distributed import Client  # start-up cost: see _compute_distributed for why it is imported here

        own_client = client = Client(scheduler, set_as_default=False)
    try:
        medication_files, data_files = split_medication_files(paths)
        medications, stats = read_medications(medication_files)
        if not data_files:  # only Medication files: nobody to assess
            bad, files = number_bad_lines(stats)
            return SurveillanceResult(rows=[], bad_lines=bad, files=files, partitions=0,
                                      elapsed_s=time.perf_counter() - started, scheduler="none",
                                      medications=len(medications))
        shuffle = "tasks" if client is not None else "disk"
        bag, partitions = build_graph(data_files, as_of=as_of, partition_size=partition_size, shuffle=shuffle,
                                      medications=medications)
        if client is not None:
            (items,) = _compute_distributed((bag,), client, progress)
            where = f"distributed ({len(client.scheduler_info().get('workers', {}))} workers)"
        else:
            (items,) = _compute_local((bag,), scheduler, progress)
            where = f"in-process ({scheduler})"
    finally:
        if own_client is not None:
            own_client.close()
    rows = [item for item in items if isinstance(item, dict)]
    for item in items:
        if isinstance(item, list):
            stats.extend(item)
    bad, files = number_bad_lines(stats)
    return SurveillanceResult(
        rows=sort_rows(rows), bad_lines=bad, files=files, partitions=partitions,
        elapsed_s=time.perf_counter() - started, scheduler=where, medications=len(medications),
    )
