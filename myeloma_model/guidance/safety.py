"""On-treatment safety (docs/clinical-model.md#safety): findings as codes and values (drugs, the
IgG result, the infections); the card layer words them.

- ivig-indicated: on a bispecific antibody, or after CAR-T, with IgG < 4 g/L (latest result since
  that therapy began) or recurrent infections (>= 2 infection Conditions within a year, since that
  therapy began: the rules name no number, so this is stated as an assumption).
- blood-group-before-transfusion: on an anti-CD38 antibody with no blood group on record.
"""
from __future__ import annotations

from datetime import date, timedelta

from myeloma_model.contract import Assessment, BloodGroupBeforeTransfusion, IggResult, IvigIndicated, SafetyFinding
from myeloma_model.drug_classes import BISPECIFIC_CLASSES, CAR_T_CLASSES
from myeloma_model.markers import surely_below
from myeloma_model.records import PatientRecord
from myeloma_model.thresholds import (
    IVIG_IGG_G_L,
    RECURRENT_INFECTION_MIN_EPISODES,
    RECURRENT_INFECTION_WINDOW_DAYS,
)

# The rules give no number for "recurrent": RECURRENT_INFECTION_MIN_EPISODES within
# RECURRENT_INFECTION_WINDOW_DAYS (docs/clinical-model.md#assumptions); stated as this code.
RECURRENT_ASSUMPTION = "recurrent-infections-definition"


def _t_cell_therapy(assessment: Assessment) -> tuple[list[str], date | None]:
    """Drugs that put the patient at risk (active bispecific, any CAR-T) and the earliest start."""
    drugs = assessment.drugs
    names = [d for d, i in drugs.items()
             if (i.drug_class in BISPECIFIC_CLASSES and i.active) or i.drug_class in CAR_T_CLASSES]
    starts = [s for s in (drugs[d].first_start for d in names) if s]
    return names, (min(starts) if starts else None)


def _infections_since(record: PatientRecord, since: date | None, as_of: date) -> list[date]:
    window_start = as_of - timedelta(days=RECURRENT_INFECTION_WINDOW_DAYS)
    return sorted(
        c.onset for c in record.conditions
        if c.kind == "infection" and c.onset is not None and window_start <= c.onset <= as_of
        and (since is None or c.onset >= since)
    )


def ivig_indicated(assessment: Assessment, record: PatientRecord, as_of: date) -> IvigIndicated | None:
    names, since = _t_cell_therapy(assessment)
    if not names:
        return None
    igg = [r for r in record.series("igg") if r.when <= as_of and (since is None or r.when >= since)]
    latest = igg[-1] if igg else None
    low_igg = surely_below(latest, IVIG_IGG_G_L)
    infections = _infections_since(record, since, as_of)
    recurrent = len(infections) >= RECURRENT_INFECTION_MIN_EPISODES
    if not (low_igg or recurrent):
        return None
    return IvigIndicated(
        code="ivig-indicated",
        drugs=tuple(names),
        # values: the card layer words them
        igg=IggResult(latest.value, "g/L", latest.when) if low_igg else None,
        infections=len(infections) if recurrent else 0,
        infections_since=infections[0] if recurrent else None,
        assumptions=(RECURRENT_ASSUMPTION,) if recurrent else (),
    )


def blood_group_before_transfusion(assessment: Assessment, record: PatientRecord,
                                   as_of: date) -> BloodGroupBeforeTransfusion | None:
    on = [d for d, i in assessment.drugs.items() if i.drug_class == "anti-CD38" and i.active]
    if not on:
        return None
    if any(i.code == "blood-group" and (i.when is None or i.when <= as_of) for i in record.investigations):
        return None
    return BloodGroupBeforeTransfusion(code="blood-group-before-transfusion", drugs=tuple(on))


def safety_findings(assessment: Assessment, record: PatientRecord, as_of: date) -> list[SafetyFinding]:
    out = []
    for rule in (ivig_indicated, blood_group_before_transfusion):
        found = rule(assessment, record, as_of)
        if found:
            out.append(found)
    return out
