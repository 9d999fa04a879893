"""IMWG progression criteria and significant paraprotein relapse, evaluated per marker over one
window of time (one line of therapy): docs/clinical-model.md#progression-criteria,
#significant-paraprotein-relapse.

A criterion "holds" on a measurement when that measurement's lower bound meets it against the
nadir of the earlier measurements of the same window (the running nadir: a later low never
rewrites the past). It is "confirmed" when it holds on two consecutive measurements of the same
marker. The nadir is reset at the start of each line because each window starts empty.

Criterion codes are the contract's: serum-m-protein, urine-m-protein, dflc, marrow-plasma-cells.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from myeloma_model.markers import EPS, MarkerBook, Point, as_book, line_series, measurable_disease
from myeloma_model.records import PatientRecord
from myeloma_model.thresholds import (
    PD_DFLC_ABSOLUTE_RISE_MG_L,
    PD_MARROW_PLASMA_CELL_RISE_POINTS,
    PD_RELATIVE_RISE,
    PD_SERUM_ABSOLUTE_RISE_G_L,
    PD_SERUM_ABSOLUTE_RISE_HIGH_NADIR_G_L,
    PD_SERUM_HIGH_NADIR_G_L,
    PD_URINE_ABSOLUTE_RISE_MG_24H,
    SPR_DOUBLING_MIN_NADIR_G_L,
    SPR_FLC_ABSOLUTE_RISE_MG_L,
    SPR_FLC_RELATIVE_RISE,
    SPR_SERUM_ABSOLUTE_RISE_G_L,
    SPR_URINE_ABSOLUTE_RISE_MG_24H,
)

Rule = Callable[[float, float], bool]  # (current lower bound, nadir) -> holds


# --- IMWG progressive disease, one rule per marker ---------------------------------------------

def serum_m_protein_progression(current: float, nadir: float) -> bool:
    """Rise >= 25 % above nadir AND >= 5 g/L; when the nadir was >= 50 g/L, a rise >= 10 g/L.

    The rules write the high-nadir case as a parenthesis on the absolute floor. Read
    as "25 % AND 10 g/L" that floor could never bind (25 % of 50 g/L is already 12.5 g/L), so
    the clause would be dead; the rules cite IMWG 2016 (Kumar et al.), whose wording is that
    "increases of >= 1 g/dL are sufficient to define relapse if the starting M component is
    >= 5 g/dL". We implement that: at a high nadir the 10 g/L rise alone suffices."""
    rise = current - nadir
    if nadir >= PD_SERUM_HIGH_NADIR_G_L - EPS:
        return rise >= PD_SERUM_ABSOLUTE_RISE_HIGH_NADIR_G_L - EPS
    return rise >= PD_SERUM_ABSOLUTE_RISE_G_L - EPS and rise >= PD_RELATIVE_RISE * nadir - EPS


def urine_m_protein_progression(current: float, nadir: float) -> bool:
    """Rise >= 25 % above nadir AND >= 200 mg/24h."""
    rise = current - nadir
    return rise >= PD_URINE_ABSOLUTE_RISE_MG_24H - EPS and rise >= PD_RELATIVE_RISE * nadir - EPS


def dflc_progression(current: float, nadir: float) -> bool:
    """dFLC rise >= 25 % above nadir AND strictly > 100 mg/L (used only when serum and urine
    M-protein are not measurable)."""
    rise = current - nadir
    return rise > PD_DFLC_ABSOLUTE_RISE_MG_L + EPS and rise >= PD_RELATIVE_RISE * abs(nadir) - EPS


def marrow_plasma_cell_progression(current: float, nadir: float) -> bool:
    """Marrow plasma cells up by >= 10 percentage points (only when nothing else is measurable)."""
    return current - nadir >= PD_MARROW_PLASMA_CELL_RISE_POINTS - EPS


# --- significant paraprotein relapse (the review's biochemical-relapse bar) ----------------------

def serum_spr(current: float, nadir: float) -> bool:
    """Doubling from a nadir >= 5 g/L, or a rise of >= 10 g/L."""
    doubled = nadir >= SPR_DOUBLING_MIN_NADIR_G_L - EPS and current >= 2 * nadir - EPS
    return doubled or current - nadir >= SPR_SERUM_ABSOLUTE_RISE_G_L - EPS


def urine_spr(current: float, nadir: float) -> bool:
    """Urine M-protein rise >= 500 mg/24h."""
    return current - nadir >= SPR_URINE_ABSOLUTE_RISE_MG_24H - EPS


def involved_flc_spr(current: float, nadir: float) -> bool:
    """Involved FLC rise >= max(200 mg/L, 25 % of its nadir) (ratio abnormality checked by caller)."""
    return current - nadir >= max(SPR_FLC_ABSOLUTE_RISE_MG_L, SPR_FLC_RELATIVE_RISE * nadir) - EPS


@dataclass(slots=True)
class MarkerTrend:
    """How one marker behaved in one window."""

    criterion: str
    points: list[Point]
    holds: list[bool]
    nadir: Point | None  # lowest measurement in the window (reporting)

    @property
    def confirmed_at(self) -> date | None:
        """First measurement of the first pair of consecutive holding measurements."""
        for i in range(len(self.holds) - 1):
            if self.holds[i] and self.holds[i + 1]:
                return self.points[i].when
        return None

    @property
    def latest_holds(self) -> bool:
        return bool(self.holds) and self.holds[-1]

    @property
    def usable(self) -> bool:
        return len(self.points) >= 2


def trend(points: list[Point], rule: Rule, criterion: str, extra: Callable[[int], bool] | None = None) -> MarkerTrend:
    """Evaluate `rule` on each point against the running nadir of the earlier points (linear)."""
    holds: list[bool] = []
    running: Point | None = None
    for i, p in enumerate(points):
        ok = (
            running is not None
            and p.low is not None
            and rule(p.low, running.high)
            and (extra is None or extra(i))
        )
        holds.append(ok)
        if p.high is not None and (running is None or p.high < running.high - EPS):
            running = p
    return MarkerTrend(criterion, points, holds, running)


@dataclass(slots=True)
class WindowProgression:
    """Progression evidence within one window [start, end) (a line of therapy)."""

    start: date | None
    end: date | None
    trends: dict[str, MarkerTrend] = field(default_factory=dict)  # by criterion, eligible only
    spr_trends: list[MarkerTrend] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return any(t.usable for t in self.trends.values())

    @property
    def confirmed(self) -> dict[str, date]:
        """Criterion -> date of its first confirmed rise."""
        return {c: t.confirmed_at for c, t in self.trends.items() if t.confirmed_at is not None}

    @property
    def latest_holding(self) -> dict[str, date]:
        """Criterion -> date of the latest measurement, for criteria holding on it."""
        return {c: t.points[-1].when for c, t in self.trends.items() if t.latest_holds}

    @property
    def spr(self) -> bool:
        return any(t.confirmed_at is not None for t in self.spr_trends)


def first_hold_date(points: list[Point], rule: Rule) -> date | None:
    """First measurement on which `rule` holds against the running nadir (stops there)."""
    running: float | None = None
    for p in points:
        if running is not None and p.low is not None and rule(p.low, running):
            return p.when
        if p.high is not None and (running is None or p.high < running - EPS):
            running = p.high
    return None


def first_progression_since(source: PatientRecord | MarkerBook, start: date) -> date | None:
    """First measurement on/after `start` on which any eligible progression criterion held,
    with nadirs since `start` (what splits a line: a drug started after it opens a new one).
    Same eligibility as evaluate_window; stops at the first hold of each marker."""
    book = as_book(source)
    meas = measurable_disease(book, start)
    found = [
        first_hold_date(line_series(book.points("serum_m_protein"), start, None), serum_m_protein_progression),
        first_hold_date(line_series(book.points("urine_m_protein"), start, None), urine_m_protein_progression),
    ]
    if not meas.serum and not meas.urine:
        found.append(first_hold_date([f.dflc for f in line_series(book.flc(), start, None) if f.dflc is not None],
                                     dflc_progression))
    if not meas.any:
        found.append(first_hold_date(line_series(book.points("marrow_plasma_cells"), start, None),
                                     marrow_plasma_cell_progression))
    return min((d for d in found if d is not None), default=None)


def evaluate_window(source: PatientRecord | MarkerBook, start: date | None, end: date | None) -> WindowProgression:
    """Progression criteria and SPR over [start, end); nadirs since `start` only.

    dFLC is eligible only when neither serum nor urine M-protein is measurable at `start`
    (earliest results when `start` is None); marrow plasma cells only when nothing is.
    """
    book = as_book(source)
    meas = measurable_disease(book, start)
    out = WindowProgression(start, end)
    serum = line_series(book.points("serum_m_protein"), start, end)
    urine = line_series(book.points("urine_m_protein"), start, end)
    if serum:
        out.trends["serum-m-protein"] = trend(serum, serum_m_protein_progression, "serum-m-protein")
        out.spr_trends.append(trend(serum, serum_spr, "serum-m-protein"))
    if urine:
        out.trends["urine-m-protein"] = trend(urine, urine_m_protein_progression, "urine-m-protein")
        out.spr_trends.append(trend(urine, urine_spr, "urine-m-protein"))
    fl = line_series(book.flc(), start, end)
    if fl:
        if not meas.serum and not meas.urine:
            d = [f.dflc for f in fl if f.dflc is not None]
            if d:
                out.trends["dflc"] = trend(d, dflc_progression, "dflc")
        out.spr_trends.append(
            trend([f.involved for f in fl], involved_flc_spr, "involved-flc", extra=lambda i: fl[i].ratio_abnormal)
        )
    if not meas.any:
        marrow = line_series(book.points("marrow_plasma_cells"), start, end)
        if marrow:
            out.trends["marrow-plasma-cells"] = trend(marrow, marrow_plasma_cell_progression, "marrow-plasma-cells")
    return out
