"""Fitness and comorbidity cautions (docs/clinical-model.md#fitness, #comorbidity-cautions).

Frailty: ECOG >= 3 or age > 80 -> frail; ECOG 2 or age 76-80 -> intermediate; else fit.
Either input alone decides; `unknown` only when neither age nor ECOG is known.
"""
from __future__ import annotations

from datetime import date

from myeloma_model.contract import Fitness
from myeloma_model.markers import surely_below
from myeloma_model.records import EcogScore, PatientRecord
from myeloma_model.thresholds import (
    FRAIL_AGE_OVER,
    FRAIL_ECOG_MIN,
    INTERMEDIATE_AGE_MIN,
    INTERMEDIATE_ECOG,
    RENAL_DOSE_ADJUST_EGFR,
    RENAL_SEVERE_EGFR,
)


def age_on(birth: date | None, day: date) -> int | None:
    """Completed years on `day`."""
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def latest_ecog(scores: list[EcogScore]) -> int | None:
    dated = max(scores, key=lambda s: s.when, default=None)
    return dated.score if dated else None


def frailty(age: int | None, ecog: int | None) -> str:
    if age is None and ecog is None:
        return "unknown"
    if (ecog is not None and ecog >= FRAIL_ECOG_MIN) or (age is not None and age > FRAIL_AGE_OVER):
        return "frail"
    if (ecog is not None and ecog == INTERMEDIATE_ECOG) or (age is not None and age >= INTERMEDIATE_AGE_MIN):
        return "intermediate"
    return "fit"


def comorbidity_cautions(record: PatientRecord) -> list[str]:
    """carfilzomib-cardiac, neuropathy, renal-dose-adjust (eGFR < 60), renal-severe (eGFR < 30),
    vte-prophylaxis (any history of VTE), from active Conditions and the latest eGFR."""
    kinds = {c.kind for c in record.conditions if c.active}
    out = []
    if "heart-failure" in kinds:
        out.append("carfilzomib-cardiac")
    if "peripheral-neuropathy" in kinds:
        out.append("neuropathy")
    egfr = record.series("egfr")
    latest = egfr[-1] if egfr else None
    if surely_below(latest, RENAL_DOSE_ADJUST_EGFR):
        out.append("renal-dose-adjust")
    if surely_below(latest, RENAL_SEVERE_EGFR):
        out.append("renal-severe")
    if any(c.kind == "venous-thromboembolism" for c in record.conditions):
        out.append("vte-prophylaxis")
    return out


def fitness(record: PatientRecord, as_of: date) -> Fitness:
    """The contract's `fitness` object."""
    age = age_on(record.birth_date, as_of)
    ecog = latest_ecog(record.ecog)
    return Fitness(age=age, ecog=ecog, frailty=frailty(age, ecog), cautions=tuple(comorbidity_cautions(record)))
