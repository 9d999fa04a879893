"""IMWG progression criteria and significant paraprotein relapse (clinical-rules.md section 3),
evaluated per marker over one window of time (one line of therapy).

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

from myeloma_model.markers import EPS, FlcPoint, Point, daily_points, flc_points, measurable_disease
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
    """Rise >= 25 % above nadir AND >= 5 g/L (>= 10 g/L when the nadir was >= 50 g/L)."""
    needed = PD_SERUM_ABSOLUTE_RISE_HIGH_NADIR_G_L if nadir >= PD_SERUM_HIGH_NADIR_G_L - EPS else PD_SERUM_ABSOLUTE_RISE_G_L
    rise = current - nadir
    return rise >= needed - EPS and rise >= PD_RELATIVE_RISE * nadir - EPS


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


def _window(points: list, start: date | None, end: date | None) -> list:
    return [p for p in points if (start is None or p.when >= start) and (end is None or p.when < end)]


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
    def first_hold(self) -> date | None:
        """Earliest measurement on which any criterion held (used to split lines)."""
        dates = [t.points[i].when for t in self.trends.values() for i, h in enumerate(t.holds) if h]
        return min(dates, default=None)

    @property
    def spr(self) -> bool:
        return any(t.confirmed_at is not None for t in self.spr_trends)


def evaluate_window(record: PatientRecord, start: date | None, end: date | None,
                    flc: list[FlcPoint] | None = None) -> WindowProgression:
    """Progression criteria and SPR over [start, end); nadirs since `start` only.

    dFLC is eligible only when neither serum nor urine M-protein is measurable at `start`
    (earliest results when `start` is None); marrow plasma cells only when nothing is.
    """
    flc = flc_points(record) if flc is None else flc
    meas = measurable_disease(record, start, flc)
    out = WindowProgression(start, end)
    serum = _window(daily_points(record.series("serum_m_protein")), start, end)
    urine = _window(daily_points(record.series("urine_m_protein")), start, end)
    if serum:
        out.trends["serum-m-protein"] = trend(serum, serum_m_protein_progression, "serum-m-protein")
        out.spr_trends.append(trend(serum, serum_spr, "serum-m-protein"))
    if urine:
        out.trends["urine-m-protein"] = trend(urine, urine_m_protein_progression, "urine-m-protein")
        out.spr_trends.append(trend(urine, urine_spr, "urine-m-protein"))
    fl = _window(flc, start, end)
    if fl:
        if not meas.serum and not meas.urine:
            d = [f.dflc for f in fl if f.dflc is not None]
            if d:
                out.trends["dflc"] = trend(d, dflc_progression, "dflc")
        out.spr_trends.append(
            trend([f.involved for f in fl], involved_flc_spr, "involved-flc", extra=lambda i: fl[i].ratio_abnormal)
        )
    if not meas.any:
        marrow = _window(daily_points(record.series("marrow_plasma_cells")), start, end)
        if marrow:
            out.trends["marrow-plasma-cells"] = trend(marrow, marrow_plasma_cell_progression, "marrow-plasma-cells")
    return out
