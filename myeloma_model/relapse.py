"""Relapse status (docs/clinical-model.md#relapse-status): one value, the highest that holds.

Precedence: clinical > biochemical > suspected > none > unknown.
- clinical: a progression criterion is present (confirmed, or holding on the latest
  measurement) AND a CRAB / clinical feature is new since the nadir;
- biochemical: a criterion is confirmed on two consecutive measurements, no CRAB feature;
- suspected: a criterion holds on the latest measurement only;
- none: a marker has >= 2 measurements in the current line and no criterion holds;
- unknown: no usable marker series.
`date` is the first measurement that met a criterion (of the first confirmed pair; for a
criterion holding only on the latest measurement, that measurement).

The status is judged in the current line (nadir reset at its start). Every earlier line is
judged the same way at its end, which gives the dated progression events that refractoriness
and the high-risk relapse features use.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from myeloma_model.contract import CrabEvidence
from myeloma_model.contract import InvolvedMarker, Marker
from myeloma_model.crab import crab_evidence
from myeloma_model.lines import Line, build_lines
from myeloma_model.markers import MarkerBook, Point, involved_chain, nadir
from myeloma_model.progression import WindowProgression, evaluate_window, first_progression_since
from myeloma_model.records import ANALYTE_UNITS, PatientRecord

PROGRESSION_STATUSES = ("clinical", "biochemical")  # "progression" for refractoriness


@dataclass(frozen=True, slots=True)
class WindowStatus:
    status: str
    date: date | None
    criteria: list[str]
    crab: list[str]
    spr: bool
    crab_evidence: dict[str, CrabEvidence] = field(default_factory=dict)  # feature -> first day + values

    @property
    def crab_date(self) -> date | None:
        """First day a CRAB / clinical feature held (s3 `relapse.crabDate`)."""
        return min((e.date for e in self.crab_evidence.values()), default=None)


@dataclass(frozen=True, slots=True)
class ProgressionEvent:
    """A biochemical or clinical progression, dated by its first qualifying measurement."""

    date: date
    status: str
    line: int | None  # number of the line it happened in (None: no line known)


@dataclass(slots=True)
class RelapseAnalysis:
    lines: list[Line]
    current: WindowStatus
    window: WindowProgression
    events: list[ProgressionEvent] = field(default_factory=list)
    markers: dict[str, Marker] = field(default_factory=dict)
    line_status: list[WindowStatus] = field(default_factory=list)  # one per line, in order

    @property
    def current_line(self) -> Line | None:
        return self.lines[-1] if self.lines else None

    @property
    def first_progression(self) -> date | None:
        return min((e.date for e in self.events), default=None)


def crab_reference(window: WindowProgression, present: set[str]) -> date | None:
    """Day from which CRAB features count as new: the nadir of the progressing marker(s),
    else of any marker, else the line's start."""
    pool = [t.nadir.when for c, t in window.trends.items() if c in present and t.nadir]
    if not pool:
        pool = [t.nadir.when for t in window.trends.values() if t.nadir]
    return min(pool, default=window.start)


def window_status(record: PatientRecord | MarkerBook, window: WindowProgression) -> WindowStatus:
    """Classify one window (see module docstring)."""
    confirmed = window.confirmed
    latest = window.latest_holding
    present = set(confirmed) | set(latest)
    evidence = crab_evidence(record, window.start, crab_reference(window, present), window.end)
    crab = list(evidence)
    spr = window.spr
    dates = {c: confirmed.get(c, latest.get(c)) for c in present}
    if present and crab:
        return WindowStatus("clinical", min(dates.values()), sorted(present), crab, spr, evidence)
    if confirmed:
        return WindowStatus("biochemical", min(confirmed.values()), sorted(confirmed), crab, spr, evidence)
    if latest:
        return WindowStatus("suspected", min(latest.values()), sorted(latest), crab, spr, evidence)
    return WindowStatus("none" if window.usable else "unknown", None, [], crab, spr, evidence)


def _marker(points: list[Point], since: date | None, unit: str, involved: bool = False,
            chain: str | None = None) -> Marker | None:
    if not points:
        return None
    latest = points[-1]
    low = nadir(points, since)
    return (InvolvedMarker if involved else Marker)(
        latest=round(latest.value, 3),
        nadir=round(low.value, 3) if low else None,
        unit=unit,
        latest_date=latest.when,
        nadir_date=low.when if low else None,
        # e.g. "<": the value is a quantitation limit, not a measurement
        latest_comparator=latest.comparator or None,
        nadir_comparator=(low.comparator or None) if low is not None else None,
        **({"chain": chain} if involved else {}),
    )


def marker_summaries(book: MarkerBook, since: date | None) -> dict[str, Marker]:
    """`relapse.markers`: latest value on record and nadir since the current line's start.

    Names: serumMProtein, urineMProtein, kappaFlc, lambdaFlc, involvedFlc (the involved chain,
    with "chain"), dFlc (involved minus uninvolved, same-day pairs), marrowPlasmaCells.
    """
    out: dict[str, Marker] = {}
    for name, key in (("serumMProtein", "serum_m_protein"), ("urineMProtein", "urine_m_protein"),
                      ("kappaFlc", "kappa_flc"), ("lambdaFlc", "lambda_flc"),
                      ("marrowPlasmaCells", "marrow_plasma_cells")):
        m = _marker(book.points(key), since, ANALYTE_UNITS[key])
        if m:
            out[name] = m
    flc = book.flc()
    if flc:
        m = _marker([f.involved for f in flc], since, "mg/L", True, involved_chain(book.record))
        if m:
            out["involvedFlc"] = m
        m = _marker([f.dflc for f in flc if f.dflc is not None], since, "mg/L")
        if m:
            out["dFlc"] = m
    return out


def analyse_relapse(record: PatientRecord, as_of: date, book: MarkerBook | None = None) -> RelapseAnalysis:
    """Lines of therapy, the current relapse status and every dated progression event.

    `record` must already be limited to data on or before `as_of`.
    """
    book = book or MarkerBook(record)
    lines = build_lines(
        record.exposures, record.transplants, as_of,
        lambda start: first_progression_since(book, start),
    )
    events: list[ProgressionEvent] = []
    per_line: list[WindowStatus] = []
    if not lines:
        window = evaluate_window(book, None, None)
        current = window_status(book, window)
        if current.status in PROGRESSION_STATUSES and current.date is not None:
            events.append(ProgressionEvent(current.date, current.status, None))
    else:
        for i, line in enumerate(lines):
            end = lines[i + 1].start if i + 1 < len(lines) else None
            window = evaluate_window(book, line.start, end)
            current = window_status(book, window)
            per_line.append(current)
            if current.status in PROGRESSION_STATUSES and current.date is not None:
                events.append(ProgressionEvent(current.date, current.status, line.number))
    since = lines[-1].start if lines else None
    return RelapseAnalysis(lines, current, window, events, marker_summaries(book, since), per_line)
