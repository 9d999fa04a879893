"""Disease-marker series (docs/clinical-model.md#markers): daily points, nadir, involved FLC,
dFLC, the FLC ratio and measurable disease.

Comparator rule (conservative: a censored value never manufactures progression). A result is
turned into bounds on its true value: "<x"/"<=x" has no known lower bound and an upper bound
x, except for the myeloma markers (M-protein, free light chains: docs/clinical-model.md s2), where
"below the reporting limit" counts as 0 for the nadir and for PR/VGPR; ">x"/">=x" has a lower
bound x and no known upper bound; a plain value is both.
- A rise is judged on the current result's LOWER bound, so "<1 g/L" can never create a rise.
- A nadir is the lowest UPPER bound, so "<1 g/L" of M-protein is a nadir at 0 (a rise from it
  then needs the absolute amount only) but ">60 g/L" never is.
- Several results of one marker on the same day are one measurement (a duplicate never
  "confirms" itself); the day keeps the smallest lower bound and the largest upper bound.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date
from typing import Iterable, NamedTuple

from myeloma_model.records import LabResult, PatientRecord
from myeloma_model.thresholds import (
    BASELINE_WINDOW_DAYS,
    FLC_RATIO_NORMAL_HIGH,
    FLC_RATIO_NORMAL_LOW,
    MEASURABLE_INVOLVED_FLC_MG_L,
    MEASURABLE_SERUM_M_PROTEIN_G_L,
    MEASURABLE_URINE_M_PROTEIN_MG_24H,
)

# Numeric tolerance for threshold comparisons on converted floats (0.7 g/dL * 10 - 2 g/L must
# equal 5 g/L). Not a clinical number.
EPS = 1e-9


class Point(NamedTuple):
    """One measurement (one day) of a marker, as bounds on its true value (a NamedTuple: the
    hot path builds one per result)."""

    when: date
    value: float  # as reported (for display)
    low: float | None  # None: no known lower bound ("<x")
    high: float | None  # None: no known upper bound (">x")
    comparator: str | None = None


def lower_bound(r: LabResult) -> float | None:
    return None if r.comparator in ("<", "<=") else r.value


def upper_bound(r: LabResult) -> float | None:
    return None if r.comparator in (">", ">=") else r.value


def at_least(r: LabResult | Point | None, threshold: float) -> bool:
    """True only when the result is surely >= threshold."""
    if r is None:
        return False
    low = r.low if isinstance(r, Point) else lower_bound(r)
    return low is not None and low >= threshold - EPS


def surely_below(r: LabResult | Point | None, threshold: float) -> bool:
    """True only when the result is surely < threshold."""
    if r is None:
        return False
    high = r.high if isinstance(r, Point) else upper_bound(r)
    return high is not None and high < threshold - EPS


def surely_above(r: LabResult | Point | None, threshold: float) -> bool:
    """True only when the result is surely > threshold."""
    if r is None:
        return False
    low = r.low if isinstance(r, Point) else lower_bound(r)
    return low is not None and low > threshold + EPS


# Markers whose "<x" result counts as 0 (docs/clinical-model.md s2 comparators).
BELOW_LIMIT_IS_ZERO = frozenset({"serum_m_protein", "urine_m_protein", "kappa_flc", "lambda_flc"})


def daily_points(series: Iterable[LabResult], below_limit_is_zero: bool = False) -> list[Point]:
    """Collapse a time-ordered series into one Point per day (see module docstring)."""
    out: list[Point] = []
    for r in series:
        c = r.comparator
        if c is None:
            low = high = r.value
        else:
            low, high = lower_bound(r), upper_bound(r)
            if below_limit_is_zero and c in ("<", "<="):
                high = 0.0
        if out and out[-1].when == r.when:
            prev = out[-1]
            low = None if prev.low is None or low is None else min(prev.low, low)
            high = None if prev.high is None or high is None else max(prev.high, high)
            out[-1] = Point(r.when, min(prev.value, r.value), low, high, prev.comparator or r.comparator)
        else:
            out.append(Point(r.when, r.value, low, high, r.comparator))
    return out


def nadir(points: list[Point], since: date | None = None) -> Point | None:
    """Lowest measurement since `since` (the start of the most recent line; None: on record).

    Only points with a known upper bound qualify (">x" is never a nadir); ties keep the
    earliest, so the nadir date is when the low was first reached.
    """
    best: Point | None = None
    for p in points:
        if since is not None and p.when < since:
            continue
        if p.high is not None and (best is None or p.high < best.high - EPS):
            best = p
    return best


def value_at(points: list, ref: date | None):
    """The measurement that stands for the value at `ref` (start of a line): the last one on or
    before it, else the first after it; with `ref` None, the earliest on record. (Binary search:
    points are in date order.)"""
    if not points:
        return None
    if ref is None:
        return points[0]
    i = bisect.bisect_right(points, ref, key=lambda p: p.when)
    return points[i - 1] if i else points[0]


def between(points: list, start: date | None, end: date | None) -> list:
    """Points with start <= when < end (None: open), by binary search."""
    lo = 0 if start is None else bisect.bisect_left(points, start, key=lambda p: p.when)
    hi = len(points) if end is None else bisect.bisect_left(points, end, key=lambda p: p.when)
    return points[lo:hi]


def line_series(points: list, start: date | None, end: date | None) -> list:
    """A line's series (docs/clinical-model.md s2): the points in [start, end), preceded by the
    line's baseline, the latest point in the BASELINE_WINDOW_DAYS before the start, so the
    nadir and the response of a new line are judged from every result drawn for it."""
    inside = between(points, start, end)
    if start is None:
        return inside
    base = baseline(points, start)
    if base is not None and base.when < start:
        return [base] + inside
    return inside


def baseline(points: list, start: date):
    """The latest point in the BASELINE_WINDOW_DAYS before `start` or on it; None if none."""
    i = bisect.bisect_right(points, start, key=lambda p: p.when)
    if i and (start - points[i - 1].when).days <= BASELINE_WINDOW_DAYS:
        return points[i - 1]
    return None


class MarkerBook:
    """Daily points of one record's series, computed once per assessment so that every rule
    family reads them without re-scanning (keeps `assess` linear in the number of results)."""

    __slots__ = ("record", "_points", "_flc")

    def __init__(self, record: PatientRecord):
        self.record = record
        self._points: dict[str, list[Point]] = {}
        self._flc: list[FlcPoint] | None = None

    def points(self, analyte: str) -> list[Point]:
        if analyte not in self._points:
            self._points[analyte] = daily_points(self.record.series(analyte), analyte in BELOW_LIMIT_IS_ZERO)
        return self._points[analyte]

    def flc(self) -> list[FlcPoint]:
        if self._flc is None:
            self._flc = flc_points(self.record, book=self)
        return self._flc


def as_book(source: "PatientRecord | MarkerBook") -> MarkerBook:
    """Rule functions accept a record (tests, one-off use) or a shared MarkerBook."""
    return source if isinstance(source, MarkerBook) else MarkerBook(source)


# --- free light chains ------------------------------------------------------------------------

def involved_chain(record: PatientRecord) -> str | None:
    """The involved light chain: from the record (Condition isotype) if known, else the chain
    that is larger on most same-day kappa/lambda pairs (ties: the larger single value).
    Conditions that name both chains say nothing: the data decide (never the first one seen)."""
    if record.light_chain:
        return record.light_chain
    named = {c.light_chain for c in record.conditions if c.kind == "multiple-myeloma" and c.light_chain}
    if len(named) == 1:
        return named.pop()
    kappa = {r.when: r.value for r in record.series("kappa_flc")}
    lam = {r.when: r.value for r in record.series("lambda_flc")}
    votes = 0
    for d, k in kappa.items():
        if d in lam:
            votes += (k > lam[d]) - (k < lam[d])
    if votes:
        return "kappa" if votes > 0 else "lambda"
    kmax = max(kappa.values(), default=None)
    lmax = max(lam.values(), default=None)
    if kmax is None and lmax is None:
        return None
    if lmax is None or (kmax is not None and kmax >= lmax):
        return "kappa"
    return "lambda"


@dataclass(frozen=True, slots=True)
class FlcPoint:
    """Same-day involved / uninvolved pair; ratio is kappa/lambda (None when not computable)."""

    when: date
    involved: Point
    uninvolved: Point | None
    dflc: Point | None
    ratio: float | None

    @property
    def ratio_abnormal(self) -> bool:
        return self.ratio is not None and (
            self.ratio < FLC_RATIO_NORMAL_LOW - EPS or self.ratio > FLC_RATIO_NORMAL_HIGH + EPS
        )


def flc_points(record: PatientRecord, chain: str | None = None, book: "MarkerBook | None" = None) -> list[FlcPoint]:
    """Involved FLC per day with its uninvolved partner, dFLC and ratio (linear in results).

    dFLC bounds: low = involved.low - uninvolved.high, high = involved.high - uninvolved.low
    (an unknown lower bound of a concentration is 0). The ratio is computed from the pair,
    else taken from a same-day reported ratio.
    """
    chain = chain or involved_chain(record)
    if chain is None:
        return []
    inv_key, uninv_key = ("kappa_flc", "lambda_flc") if chain == "kappa" else ("lambda_flc", "kappa_flc")
    book = book or MarkerBook(record)
    uninv = {p.when: p for p in book.points(uninv_key)}
    reported_ratio = {r.when: r.value for r in record.series("flc_ratio") if r.comparator is None}
    out: list[FlcPoint] = []
    for inv in book.points(inv_key):
        u = uninv.get(inv.when)
        dflc = ratio = None
        if u is not None:
            low = None if inv.low is None or u.high is None else inv.low - u.high
            high = None if inv.high is None else inv.high - (u.low or 0.0)
            dflc = Point(inv.when, inv.value - u.value, low, high)
            k, lam = (inv.value, u.value) if chain == "kappa" else (u.value, inv.value)
            ratio = k / lam if lam > 0 else None
        if ratio is None:
            ratio = reported_ratio.get(inv.when)
        out.append(FlcPoint(inv.when, inv, u, dflc, ratio))
    return out


# --- measurable disease ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Measurability:
    serum: bool
    urine: bool
    flc: bool

    @property
    def any(self) -> bool:
        return self.serum or self.urine or self.flc


def measurable_disease(source: "PatientRecord | MarkerBook", ref: date | None) -> Measurability:
    """Measurable disease at `ref` (start of the current line; None: the earliest results):
    serum M-protein >= 10 g/L, urine M-protein >= 200 mg/24h, or involved FLC >= 100 mg/L with
    an abnormal ratio. A marker never measured is not measurable."""
    book = as_book(source)
    serum = value_at(book.points("serum_m_protein"), ref)
    urine = value_at(book.points("urine_m_protein"), ref)
    f = value_at(book.flc(), ref)
    return Measurability(
        serum=at_least(serum, MEASURABLE_SERUM_M_PROTEIN_G_L),
        urine=at_least(urine, MEASURABLE_URINE_M_PROTEIN_MG_24H),
        flc=f is not None and at_least(f.involved, MEASURABLE_INVOLVED_FLC_MG_L) and f.ratio_abnormal,
    )
