"""How old the record is (docs/clinical-model.md s10): the latest myeloma marker result and the
freshness class, and `active` medications whose evidence is old."""
from __future__ import annotations

from datetime import date

from myeloma_model.markers import MarkerBook
from myeloma_model.records import DrugExposure
from myeloma_model.thresholds import AGING_MAX_DAYS, DAYS_PER_MONTH, FRESH_MAX_DAYS, STALE_ACTIVE_MEDICATION_DAYS

MARKER_ANALYTES = ("serum_m_protein", "urine_m_protein", "kappa_flc", "lambda_flc")


def latest_marker_date(book: MarkerBook) -> date | None:
    """Date of the latest usable SPEP, urine M-protein or FLC result (None: no markers)."""
    return max((book.points(a)[-1].when for a in MARKER_ANALYTES if book.points(a)), default=None)


def data_freshness(latest: date | None, as_of: date) -> str:
    """`fresh` <= 90 days before as-of, `aging` 91-180 days, `stale` older, `none` without markers."""
    if latest is None:
        return "none"
    age = (as_of - latest).days
    if age <= FRESH_MAX_DAYS:
        return "fresh"
    if age <= AGING_MAX_DAYS:
        return "aging"
    return "stale"


def age_in_months(latest: date, as_of: date) -> int:
    """Whole months (30.44 days each, rounded down) from `latest` to the as-of date: the age the
    cards and the timeline show."""
    return int((as_of - latest).days / DAYS_PER_MONTH)


def stale_active_exposures(exposures: list[DrugExposure], as_of: date) -> list[tuple[str, date]]:
    """(drug, latest evidence) of `active` open exposures whose latest evidence (effective
    start, dateAsserted, authoredOn, last administration) is more than 12 months before as-of;
    one entry per drug, judged on its most recent evidence."""
    latest: dict[str, date] = {}
    for e in exposures:
        if not e.active or e.end is not None:
            continue
        seen = e.evidence or e.start
        if seen is not None and (e.drug not in latest or seen > latest[e.drug]):
            latest[e.drug] = seen
    return [(d, when) for d, when in sorted(latest.items())
            if (as_of - when).days > STALE_ACTIVE_MEDICATION_DAYS]
