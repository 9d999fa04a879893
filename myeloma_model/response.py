"""Response to each line of therapy (docs/clinical-model.md s3a, IMWG 2016 uniform response criteria).

For a line with measurable disease at its baseline (the line's baseline result, else the first
result within 30 days after its start), each later result of the deciding marker gets a
category; a category counts when it holds on two consecutive results (dated by the first), and
the best counted category is the line's best response:

- serum M-protein: CR = undetectable with a negative serum immunofixation; VGPR = reduction
  >= 90 % or undetectable with a positive or no immunofixation; PR >= 50 %; MR 25-49 %;
- urine M-protein: VGPR < 100 mg/24h; PR = reduction >= 90 % or < 200 mg/24h; MR 50-89 %;
  CR = undetectable with a negative serum immunofixation;
- only FLC measurable: CR = normal ratio; PR = dFLC reduction >= 50 %;
- serum and urine both measurable: each serum result is paired with the urine result closest
  in time within 30 days and gets the lower of the two categories (unpaired: SD);
- CR needs marrow plasma cells < 5 % when a marrow result is recorded during the line (>= 5 %:
  VGPR); an undetectable M-protein without immunofixation stays VGPR. Both give data gaps.

"Undetectable" is a value of 0 or a result below the reporting limit ("<", counted as 0, s2).
Where the rules are silent: the immunofixation paired with a result is the closest within 30
days; the marrow result that decides CR is one within 30 days before the confirming pair or
later in the line; a line with a measurable baseline and no later result is `not-evaluable`;
SD is dated by the line's first result after the baseline.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from myeloma_model.contract import LineCourse
from myeloma_model.markers import EPS, MarkerBook, Point, at_least, baseline, between
from myeloma_model.records import ImmunofixationResult
from myeloma_model.thresholds import (
    BASELINE_AFTER_START_DAYS,
    CR_MARROW_PLASMA_CELLS_PCT,
    DAYS_PER_MONTH,
    DURABLE_RESPONSE_MONTHS,
    MEASURABLE_INVOLVED_FLC_MG_L,
    MEASURABLE_SERUM_M_PROTEIN_G_L,
    MEASURABLE_URINE_M_PROTEIN_MG_24H,
    RESPONSE_MR_REDUCTION,
    RESPONSE_PAIRING_DAYS,
    RESPONSE_PR_REDUCTION,
    RESPONSE_VGPR_REDUCTION,
    URINE_MR_REDUCTION,
    URINE_PR_MG_24H,
    URINE_PR_REDUCTION,
    URINE_VGPR_MG_24H,
)

CATEGORIES = ("SD", "MR", "PR", "VGPR", "CR")  # worst to best
RANK = {c: i for i, c in enumerate(CATEGORIES)}
NOT_EVALUABLE = "not-evaluable"

# Data-gap codes (wording in the cards): the rules name these two situations.
GAP_CR_NO_IFE = "cr-not-confirmed-no-immunofixation"
GAP_CR_NO_MARROW = "cr-without-marrow-assessment"


@dataclass(slots=True)
class LineResponse:
    best: str
    date: date | None
    gaps: list[str] = field(default_factory=list)


def _reduction(base: float, value: float) -> float:
    return (base - value) / base if base > 0 else 0.0


def _ife_near(ife: list[ImmunofixationResult], when: date) -> ImmunofixationResult | None:
    """The serum immunofixation closest in time to `when` within the pairing window."""
    best = None
    for r in ife:
        gap = abs((r.when - when).days)
        if r.specimen == "serum" and gap <= RESPONSE_PAIRING_DAYS and (best is None or gap < abs((best.when - when).days)):
            best = r
    return best


def _undetectable_category(ife: list[ImmunofixationResult], p: Point) -> tuple[str, bool]:
    """M-protein below the reporting limit: CR with a negative immunofixation near it, else VGPR
    (with the flag saying CR was missed only for want of an immunofixation result)."""
    fix = _ife_near(ife, p.when)
    if fix is not None and fix.negative:
        return "CR", False
    return "VGPR", fix is None


def serum_category(base: float, p: Point, ife: list[ImmunofixationResult]) -> tuple[str, bool]:
    """(category, CR missed only for want of an immunofixation) of one serum M-protein result."""
    v = p.high
    if v is None:  # ">x": no upper bound, no response can be claimed
        return "SD", False
    if v <= EPS:
        return _undetectable_category(ife, p)
    r = _reduction(base, v)
    if r >= RESPONSE_VGPR_REDUCTION - EPS:
        return "VGPR", False
    if r >= RESPONSE_PR_REDUCTION - EPS:
        return "PR", False
    if r >= RESPONSE_MR_REDUCTION - EPS:
        return "MR", False
    return "SD", False


def urine_category(base: float, p: Point, ife: list[ImmunofixationResult]) -> tuple[str, bool]:
    """(category, CR missed for want of an immunofixation) of one urine M-protein result."""
    v = p.high
    if v is None:
        return "SD", False
    if v <= EPS:
        return _undetectable_category(ife, p)
    r = _reduction(base, v)
    if v < URINE_VGPR_MG_24H - EPS:
        return "VGPR", False
    if r >= URINE_PR_REDUCTION - EPS or v < URINE_PR_MG_24H - EPS:
        return "PR", False
    if r >= URINE_MR_REDUCTION - EPS:
        return "MR", False
    return "SD", False


def flc_category(base_dflc: float, fp) -> tuple[str, bool]:
    """Category of one FLC result when only FLC is measurable: CR normal ratio, PR dFLC -50 %."""
    if fp.ratio is not None and not fp.ratio_abnormal:
        return "CR", False
    if fp.dflc is not None and fp.dflc.high is not None and _reduction(base_dflc, fp.dflc.high) >= RESPONSE_PR_REDUCTION - EPS:
        return "PR", False
    return "SD", False


def _first_after(points: list, start: date):
    """The baseline (latest within 60 days before start, or on it), else the first result
    within 30 days after the start."""
    base = baseline(points, start)
    if base is not None:
        return base
    for p in between(points, start, start + timedelta(days=BASELINE_AFTER_START_DAYS + 1)):
        return p
    return None


def _confirmed(cats: list[str], dates: list[date]) -> tuple[str | None, date | None]:
    """Best category holding on two consecutive results, dated by the first of the two."""
    for c in reversed(CATEGORIES[1:]):
        rank = RANK[c]
        for i in range(len(cats) - 1):
            if RANK[cats[i]] >= rank and RANK[cats[i + 1]] >= rank:
                return c, dates[i]
    return None, None


def line_response(book: MarkerBook, ife: list[ImmunofixationResult], start: date, end: date | None) -> LineResponse:
    """Best response of the line running over [start, end) (end None: to the as-of date)."""
    serum_pts = book.points("serum_m_protein")
    urine_pts = book.points("urine_m_protein")
    flc = book.flc()
    s_base = _first_after(serum_pts, start)
    u_base = _first_after(urine_pts, start)
    f_base = _first_after(flc, start)
    serum_meas = at_least(s_base, MEASURABLE_SERUM_M_PROTEIN_G_L)
    urine_meas = at_least(u_base, MEASURABLE_URINE_M_PROTEIN_MG_24H)
    flc_meas = (f_base is not None and at_least(f_base.involved, MEASURABLE_INVOLVED_FLC_MG_L)
                and f_base.ratio_abnormal and f_base.dflc is not None and f_base.dflc.low is not None)

    cats: list[str] = []
    dates: list[date] = []
    missed_ife = False
    if serum_meas:
        later = [p for p in between(serum_pts, start, end) if p.when > s_base.when]
        u_later = [p for p in between(urine_pts, start, end) if p.when > u_base.when] if urine_meas else []
        for p in later:
            c, miss = serum_category(s_base.low, p, ife)
            if urine_meas:
                near = [u for u in u_later if abs((u.when - p.when).days) <= RESPONSE_PAIRING_DAYS]
                if not near:
                    c, miss = "SD", False
                else:
                    u = min(near, key=lambda u: abs((u.when - p.when).days))
                    uc, umiss = urine_category(u_base.low, u, ife)
                    if RANK[uc] < RANK[c]:
                        c = uc
                    miss = miss and umiss
            cats.append(c)
            dates.append(p.when)
            missed_ife = missed_ife or miss
    elif urine_meas:
        for p in (p for p in between(urine_pts, start, end) if p.when > u_base.when):
            c, miss = urine_category(u_base.low, p, ife)
            cats.append(c)
            dates.append(p.when)
            missed_ife = missed_ife or miss
    elif flc_meas:
        for fp in (f for f in between(flc, start, end) if f.when > f_base.when):
            c, _ = flc_category(f_base.dflc.low, fp)
            cats.append(c)
            dates.append(fp.when)
    else:
        return LineResponse(NOT_EVALUABLE, None)
    if not cats:
        return LineResponse(NOT_EVALUABLE, None)

    best, when = _confirmed(cats, dates)
    gaps: list[str] = []
    if best is None:
        return LineResponse("SD", dates[0])
    if best == "CR":
        marrow = [p for p in between(book.points("marrow_plasma_cells"), start, end)
                  if p.when >= when - timedelta(days=RESPONSE_PAIRING_DAYS)]
        if not marrow:
            gaps.append(GAP_CR_NO_MARROW)
        elif not any(p.high is not None and p.high < CR_MARROW_PLASMA_CELLS_PCT - EPS for p in marrow):
            best = "VGPR"
    if best == "VGPR" and missed_ife:
        gaps.append(GAP_CR_NO_IFE)
    return LineResponse(best, when, gaps)


def months_between(a: date, b: date) -> float:
    return round((b - a).days / DAYS_PER_MONTH, 1)


def duration_months(response_date: date | None, progression: date | None, line_end: date | None,
                    as_of: date) -> float | None:
    """From the first result of the best response to the line's progression, else its end,
    else the as-of date (one decimal, a month being 30.44 days)."""
    if response_date is None:
        return None
    stop = progression or line_end or as_of
    return max(0.0, months_between(response_date, stop))


def response_durability(best: str | None, months: float | None) -> str:
    """Durable, not-durable or unknown for one line's best response and its duration (s3a; the
    line that decides, the most recent one with the drug, is chosen by guidance.strategy)."""
    if best not in RANK:
        return "unknown"
    if RANK[best] < RANK["PR"]:
        return "not-durable"
    if months is None:
        return "unknown"
    return "durable" if months >= DURABLE_RESPONSE_MONTHS - EPS else "not-durable"


def line_courses(rel, book: MarkerBook, ife: list[ImmunofixationResult],
                 as_of: date) -> tuple[list[LineCourse], list[tuple[int, str]]]:
    """The contract's `lines` (every line in time order, the running one last) from a
    RelapseAnalysis, and the response data-gap codes as (line number, code).

    `treats`: a line that started after the previous line's progression (biochemical or
    clinical) treats that relapse: its date. A rise that held only on the previous line's last
    result (`suspected`) also counts here when the new line started after it: the treating
    physician acted on it, and the confirming result then falls in the new line's series."""
    out: list[LineCourse] = []
    gaps: list[tuple[int, str]] = []
    for i, line in enumerate(rel.lines):
        nxt = rel.lines[i + 1].start if i + 1 < len(rel.lines) else None
        status = rel.line_status[i] if i < len(rel.line_status) else None
        progressed = status is not None and status.status in ("clinical", "biochemical") and status.date is not None
        progression = status.date if progressed else None
        resp = line_response(book, ife, line.start, nxt)
        treats = None
        if i > 0:
            prev = rel.line_status[i - 1]
            if prev.status in ("clinical", "biochemical", "suspected") and prev.date is not None and prev.date <= line.start:
                treats = prev.date
        out.append(LineCourse(
            number=line.number, start=line.start, end=line.end, drugs=tuple(line.drugs),
            transplant=line.transplant,
            best_response=resp.best,
            best_response_date=resp.date,
            duration_months=duration_months(resp.date, progression, line.end, as_of),
            progressed=progressed,
            progression_date=progression,
            treats=treats,
        ))
        gaps.extend((line.number, g) for g in resp.gaps)
    return out, gaps
