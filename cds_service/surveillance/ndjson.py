"""Reading Bulk Data NDJSON: one resource per line, tied to its patient.

A partition of lines (from dask.bag.read_text with include_path) becomes tagged items:
- RESOURCE (patient id, the line as text): kept as text through the shuffle, because a string
  is several times smaller than the dicts json.loads makes of it and pickles faster;
- MEDICATION ("Medication/<id>", text): from the Medication files (see below);
- UNREADABLE (patient id, reason): a bad line that still names its patient, so that patient's
  row says its record is incomplete (never judged as if whole);
- one PARTITION_STATS item per partition (key STATS_KEY, which no FHIR id can equal): its
  index, file, line count and bad lines by index, from which the report gives file and line
  numbers. It travels through the same shuffle as the patients' items, so every parsed
  partition has a single consumer and is freed as soon as it is shuffled.
Medication resources (what `medicationReference` points to) come from the export's
Medication files, read once up front (`read_medications`): their size is the formulary's.
Bad lines never stop a run; the report counts every one of them.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from fhir_mappings.resource_set import is_fhir_id
from fhir_mappings.resource_set import patient_of as referenced_patient

RESOURCE = "r"
MEDICATION = "m"
UNREADABLE = "b"
PARTITION_STATS = "s"
STATS_KEY = "#partition-stats"

# A patient key that is not a valid FHIR id (is_fhir_id) is refused: it would also be unsafe to
# write into CSV or a URL as is.
_PATIENT_REF = re.compile(r'"reference"\s*:\s*"(?:[^"]*/)?Patient/([A-Za-z0-9\-.]{1,64})"')
_PATIENT_LINE = re.compile(r'"resourceType"\s*:\s*"Patient"')
_ID_FIELD = re.compile(r'"id"\s*:\s*"([A-Za-z0-9\-.]{1,64})"')
# read_text decodes with errors="replace"; a line holding U+FFFD is reported as not UTF-8 (a
# resource that really contains U+FFFD is rare enough to be listed rather than guessed at).
_NOT_UTF8 = "\ufffd"
MAX_REASON = 160


def export_files(folder: Path) -> list[Path]:
    """The NDJSON files of an export folder (sorted, so runs are reproducible)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".ndjson", ".jsonl"))


def patient_of(resource: dict) -> str | None:
    """The patient a resource belongs to: a Patient's own id, else the id its subject or
    patient reference names (fhir_mappings' one reading of a patient reference)."""
    if resource.get("resourceType") == "Patient":
        rid = resource.get("id")
        return rid if isinstance(rid, str) else None
    return referenced_patient(resource)


def patient_hint(line: str) -> str | None:
    """The patient an unreadable line most likely belongs to, or None (best effort)."""
    if _PATIENT_LINE.search(line):
        m = _ID_FIELD.search(line)
        return m.group(1) if m else None
    m = _PATIENT_REF.search(line)
    return m.group(1) if m else None


_OTHER = "o"  # not patient data (Practitioner, Organization, ...): counted, not used
_BAD = "x"


def _classify(line: str) -> tuple[str, str, str]:
    """(tag, key, text): RESOURCE/MEDICATION with their key, _OTHER, or _BAD with the reason."""
    if _NOT_UTF8 in line:
        return _BAD, "not valid UTF-8", ""
    try:
        resource = json.loads(line)
    except ValueError as exc:
        return _BAD, f"not JSON ({str(exc)[:MAX_REASON]})", ""
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return _BAD, "not a FHIR resource (no resourceType)", ""
    if resource["resourceType"] == "Medication":
        rid = resource.get("id")
        if not isinstance(rid, str):
            return _BAD, "a Medication without an id", ""
        return MEDICATION, f"Medication/{rid}", line
    pid = patient_of(resource)
    if pid is None:
        return _OTHER, "", ""
    if not is_fhir_id(pid):
        return _BAD, "the patient id is not a valid FHIR id", ""
    return RESOURCE, pid, line


@dataclass
class FileStats:
    """What one partition (a block of one file) held."""

    path: str
    partition: int
    lines: int = 0
    blank: int = 0
    not_patient_data: int = 0
    bad: list[tuple[int, str, str | None]] | None = None  # (index in partition, reason, patient)


def _count_and_classify(stats: FileStats, line: str) -> tuple[str, str, str] | None:
    """Count one line in `stats` and classify it; None for a blank line (counted as blank)."""
    stats.lines += 1
    text = line.strip()
    if not text:
        stats.blank += 1
        return None
    return _classify(text)


def parse_partition(pairs: Iterable[tuple[str, str]], partition_index: Iterable[int]) -> list[tuple]:
    """Tag every line of one read_text partition; the PARTITION_STATS item comes last.
    `partition_index` is a one-element partition holding this partition's number."""
    (number,) = partition_index
    out: list[tuple] = []
    stats: FileStats | None = None
    for index, (line, path) in enumerate(pairs):
        if stats is None:
            stats = FileStats(path=path, partition=number, bad=[])
        classified = _count_and_classify(stats, line)
        if classified is None:
            continue
        tag, key, kept = classified
        if tag in (_OTHER, MEDICATION):  # Medications are read from the Medication files only
            stats.not_patient_data += 1
        elif tag == _BAD:
            hint = patient_hint(line.strip())
            stats.bad.append((index, key, hint))
            if hint is not None:
                out.append((UNREADABLE, hint, key))
        else:
            out.append((tag, key, kept))
    if stats is not None:
        out.append((PARTITION_STATS, STATS_KEY, stats))
    return out


@dataclass(frozen=True)
class BadLine:
    file: str  # file name only (no directories)
    line: int  # 1-based
    reason: str
    patient_id: str | None


def number_bad_lines(partition_stats: list[FileStats]) -> tuple[list[BadLine], dict[str, dict]]:
    """Line numbers for the bad lines, and per-file counts, from the partitions' stats put in
    partition order (read_text numbers a file's blocks in order)."""
    seen: dict[str, int] = {}
    per_file: dict[str, dict] = {}
    bad: list[BadLine] = []
    for st in sorted(partition_stats, key=lambda s: s.partition):
        before = seen.get(st.path, 0)
        name = Path(st.path).name
        counts = per_file.setdefault(name, {"lines": 0, "bad": 0, "blank": 0, "notPatientData": 0})
        counts["lines"] += st.lines
        counts["blank"] += st.blank
        counts["notPatientData"] += st.not_patient_data
        counts["bad"] += len(st.bad or ())
        for index, reason, hint in st.bad or ():
            bad.append(BadLine(name, before + index + 1, reason, hint))
        seen[st.path] = before + st.lines
    bad.sort(key=lambda b: (b.file, b.line))
    return bad, per_file


def first_resource_type(path: Path) -> str | None:
    """The resourceType of a file's first non-blank line (Bulk Data: one type per file)."""
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.strip():
                try:
                    res = json.loads(line)
                except ValueError:
                    return None
                return res.get("resourceType") if isinstance(res, dict) else None
    return None


def split_medication_files(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(Medication files, the others)."""
    meds = [p for p in paths if first_resource_type(p) == "Medication"]
    return meds, [p for p in paths if p not in meds]


def read_medications(paths: list[Path]) -> tuple[dict[str, str], list[FileStats]]:
    """"Medication/<id>" -> line, and each file's stats (bad lines numbered directly)."""
    meds: dict[str, str] = {}
    stats = []
    for path in paths:
        st = FileStats(path=str(path), partition=-1, bad=[])
        with path.open(encoding="utf-8", errors="replace") as fh:
            for index, line in enumerate(fh):
                classified = _count_and_classify(st, line)
                if classified is None:
                    continue
                tag, key, kept = classified
                if tag == MEDICATION:
                    meds[key] = kept
                elif tag == _BAD:
                    st.bad.append((index, key, None))
                else:
                    st.not_patient_data += 1  # a patient's resource in a Medication file: not read
        stats.append(st)
    return meds, stats
