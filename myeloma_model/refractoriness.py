"""Drug exposure, refractoriness and the retreatment signal
(docs/clinical-model.md#exposure, #refractoriness, #retreatment-signal).

- Refractory to a drug: a progression (biochemical or clinical), dated by its first qualifying
  measurement, while on the drug (after its start, up to its last dose) or within 60 days
  after its last dose. Corticosteroids are never refractory.
- Category from the classes PI, IMiD and anti-CD38 the disease is refractory to: one ->
  single, two -> double, three -> triple-class; penta (>= 2 PIs, >= 2 IMiDs, >= 1 anti-CD38)
  wins over triple-class. Triple-class exposed: the same three-class test on exposure.
- Retreatment signal (Goel 2024): months on the drug > 28.4 or months since its last dose
  > 46.1 (never for corticosteroids, which are not an index drug), judged on the values reported (rounded to 0.1 month) so a card never shows
  "28.4 months" next to a signal. Only for a drug stopped before the relapse being treated
  (last dose before the relapse date): Goel 2024 studied giving a drug again after a gap, so a
  drug the disease progressed on while it was being given never has the signal, and the signal
  of a running drug cannot grow with the clock. Without a relapse date: stopped drugs only.
- `activeAtRelapse`: a course of the drug ran on the relapse date (started before it, last dose
  on or after it; for a drug known only from administrations, up to 28 days after the last one);
  None without a relapse date.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from myeloma_model.contract import DrugEntry
from myeloma_model.drug_classes import ANTI_CD38, IMID, PI, REFRACTORY_CATEGORY_CLASSES, drug_class, is_steroid
from myeloma_model.lines import courses
from myeloma_model.records import DrugExposure
from myeloma_model.thresholds import (
    ADMINISTRATION_CYCLE_DAYS,
    DAYS_PER_MONTH,
    PENTA_MIN_ANTI_CD38,
    PENTA_MIN_IMID,
    PENTA_MIN_PI,
    REFRACTORY_WINDOW_DAYS,
    RETREAT_MONTHS_ON_DRUG,
    RETREAT_MONTHS_SINCE_LAST_DOSE,
)


def months(days: float) -> float:
    """Days -> months of 30.44 days, rounded to 0.1 month (the reported value)."""
    return round(days / DAYS_PER_MONTH, 1)


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # last dose (inclusive)


def periods(exposures: list[DrugExposure], as_of: date) -> list[Period]:
    """Dated exposure periods (start..last dose) of ONE drug on or before as-of, as courses:
    administrations or refills <= 30 days apart are one period (40 single-day daratumumab
    administrations are months on the drug, not 40 days). Undated exposures are dropped."""
    return [Period(c.start, c.end) for c in courses(exposures, as_of)]


def days_on_drug(ps: list[Period]) -> int:
    """Summed length of the periods, overlaps counted once (sort once, sweep)."""
    total = 0
    cur: Period | None = None
    for p in sorted(ps, key=lambda p: p.start):
        if cur is None or p.start > cur.end:
            if cur is not None:
                total += (cur.end - cur.start).days
            cur = p
        elif p.end > cur.end:
            cur = Period(cur.start, p.end)
    if cur is not None:
        total += (cur.end - cur.start).days
    return total


def progression_on_drug(ps: list[Period], progression: date) -> bool:
    """Progression after the drug's start and no later than 60 days after its last dose."""
    window = timedelta(days=REFRACTORY_WINDOW_DAYS)
    return any(p.start < progression <= p.end + window for p in ps)


def retreatment_signal(months_on_drug: float | None, months_since_last_dose: float | None) -> bool:
    """Goel 2024: > 28.4 months on the drug or > 46.1 months since its last dose."""
    return (months_on_drug is not None and months_on_drug > RETREAT_MONTHS_ON_DRUG) or (
        months_since_last_dose is not None and months_since_last_dose > RETREAT_MONTHS_SINCE_LAST_DOSE
    )


def is_active(e: DrugExposure, as_of: date) -> bool:
    """Taken on the as-of date: an open active exposure, or one whose end is on/after as-of."""
    if e.start is not None and e.start > as_of:
        return False
    return (e.active and e.end is None) or (e.end is not None and e.end >= as_of)


def running_on(ps: list[Period], day: date, extend_days: int = 0) -> bool:
    """A course started before `day` and its last dose (plus `extend_days`) is on or after it (the
    end day is a day on the drug; a drug first given on the relapse day treats that relapse)."""
    return any(p.start < day <= p.end + timedelta(days=extend_days) for p in ps)


def administration_extension(exposures: list[DrugExposure]) -> int:
    """Section 5 (v2): a drug known only from administrations is "on" until one cycle gap after
    its last administration (a patient between two doses is on the drug); its last dose stays the
    last administration."""
    only_given = bool(exposures) and all(e.source == "MedicationAdministration" for e in exposures)
    return ADMINISTRATION_CYCLE_DAYS if only_given else 0


def stopped_before(ps: list[Period], relapse: date | None, active: bool, extend_days: int = 0) -> bool:
    """Section 5: the signal's precondition. With a relapse date: no course runs on it and the last
    dose is before it. Without one: the drug is not being taken on the as-of date."""
    if not ps:
        return False
    if relapse is None:
        return not active
    return max(p.end for p in ps) < relapse and not running_on(ps, relapse, extend_days)


def drug_summary(drug: str, exposures: list[DrugExposure], progressions: list[date], as_of: date,
                 relapse: date | None = None) -> DrugEntry:
    """One `drugs` entry of the contract (plus firstStart / lastDose for guidance).

    `relapse`: the date of the relapse being treated (the contract's relapse.date), or None."""
    ps = periods(exposures, as_of)
    active = any(is_active(e, as_of) for e in exposures)
    extend = administration_extension(exposures)
    refractory = not is_steroid(drug) and any(progression_on_drug(ps, d) for d in progressions)
    if ps:
        on = months(days_on_drug(ps))
        last = max(p.end for p in ps)
        since = 0.0 if active else months((as_of - last).days)
    else:
        on = since = None
        last = None
    return DrugEntry(
        drug_class=drug_class(drug),
        exposed=True,
        active=active,
        refractory=refractory,
        months_on_drug=on,
        months_since_last_dose=since,
        retreatment_signal=(not is_steroid(drug) and stopped_before(ps, relapse, active, extend)
                            and retreatment_signal(on, since)),
        active_at_relapse=None if relapse is None else running_on(ps, relapse, extend),
        first_start=min(p.start for p in ps) if ps else None,
        last_dose=last,
    )


def drugs_summary(exposures: list[DrugExposure], progressions: list[date], as_of: date,
                  relapse: date | None = None) -> dict[str, DrugEntry]:
    """`drugs`: one entry per drug ever exposed (known drug keys only), sorted by key."""
    by_drug: dict[str, list[DrugExposure]] = {}
    for e in exposures:
        if drug_class(e.drug) is not None and (e.start is None or e.start <= as_of):
            by_drug.setdefault(e.drug, []).append(e)
    return {d: drug_summary(d, es, progressions, as_of, relapse) for d, es in sorted(by_drug.items())}


def _class_counts(drugs: dict[str, DrugEntry], flag: str) -> dict[str, int]:
    counts = dict.fromkeys(REFRACTORY_CATEGORY_CLASSES, 0)
    for info in drugs.values():
        if getattr(info, flag) and info.drug_class in counts:
            counts[info.drug_class] += 1
    return counts


def refractory_category(drugs: dict[str, DrugEntry]) -> str:
    """none | single | double | triple-class | penta (penta wins)."""
    n = _class_counts(drugs, "refractory")
    if n[PI] >= PENTA_MIN_PI and n[IMID] >= PENTA_MIN_IMID and n[ANTI_CD38] >= PENTA_MIN_ANTI_CD38:
        return "penta"
    return ("none", "single", "double", "triple-class")[sum(1 for v in n.values() if v)]


def triple_class_exposed(drugs: dict[str, DrugEntry]) -> bool:
    """Exposed to at least one PI, one IMiD and one anti-CD38 antibody."""
    return all(_class_counts(drugs, "exposed").values())


def on_therapy(exposures: list[DrugExposure], day: date, as_of: date) -> bool:
    """A non-steroid anti-myeloma drug course was running on `day` (relapse on therapy)."""
    return any(
        c.start <= day <= c.end
        for c in courses([e for e in exposures if drug_class(e.drug) and not is_steroid(e.drug)], as_of)
    )
