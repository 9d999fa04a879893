"""On-treatment safety (docs/clinical-model.md#safety; the review's CAR-T / bispecific and
Table 1 notes): ONE card, only
when a safety finding exists, worded from the finding's codes and values."""
from __future__ import annotations

from cds_service.cards.common import ADVISORY, REVIEW, REVIEW_SHORT, make_card, md_list
from cds_service.cards.words import day, drug_names, num, plural
from myeloma_model.contract import Assessment, BloodGroupBeforeTransfusion, IvigIndicated
from myeloma_model.thresholds import (
    IVIG_IGG_G_L,
    RECURRENT_INFECTION_MIN_EPISODES,
    RECURRENT_INFECTION_WINDOW_DAYS,
)

SHORT = {"ivig-indicated": "IVIG recommended", "blood-group-before-transfusion": "no blood group on anti-CD38"}


def _ivig(finding: IvigIndicated | None) -> str:
    why = []
    if finding and finding.igg:
        igg = finding.igg
        why.append(f"IgG {num(igg.value, igg.unit or 'g/L')} on {day(igg.date)} "
                   f"(below {IVIG_IGG_G_L:g} g/L)")
    if finding and finding.infections:
        why.append(f"{plural(finding.infections, 'infection')} since {day(finding.infections_since)} "
                   f"(recurrent: {RECURRENT_INFECTION_MIN_EPISODES} or more within {RECURRENT_INFECTION_WINDOW_DAYS} days, "
                   "the service's reading)")
    on = drug_names(finding.drugs if finding else ()) or "a bispecific antibody or after CAR-T"
    reason = " and ".join(why) or f"IgG below {IVIG_IGG_G_L:g} g/L or recurrent infections"
    return f"**IVIG recommended.** On {on} with {reason}."


def _blood_group(finding: BloodGroupBeforeTransfusion | None) -> str:
    on = drug_names(finding.drugs if finding else ()) or "an anti-CD38 antibody"
    return (f"**No blood group on record while on {on}.** The antibody interferes with cross-matching: "
            "send a blood group and antibody screen and tell the transfusion laboratory before any transfusion.")


WORDING = {"ivig-indicated": _ivig, "blood-group-before-transfusion": _blood_group}


def safety_card(assessment: Assessment, *, config=None) -> dict | None:
    codes = [c for c in assessment.safety if c in WORDING]
    if not codes:
        return None
    details = {s.code: s for s in (assessment.guidance.safety if assessment.guidance else ())}
    lines = [WORDING[c](details.get(c)) for c in codes]
    if len(codes) == 1:
        first = details.get(codes[0])
        on = drug_names(first.drugs if first else ())
        summary = {
            "ivig-indicated": f"IVIG recommended: low IgG or recurrent infections on {on or 'T-cell redirecting therapy'}",
            "blood-group-before-transfusion": f"On {on or 'an anti-CD38 antibody'} with no blood group on record: "
                                              "warn the transfusion laboratory",
        }[codes[0]]
    else:
        summary = "Safety: " + "; ".join(SHORT[c] for c in codes)
    detail = "\n\n".join([md_list(lines),
                          f"Source: {REVIEW_SHORT} (CAR-T and bispecific safety; Table 1).", ADVISORY])
    return make_card(summary=summary, indicator="warning", topic="safety", source=REVIEW, detail=detail,
                     override_reason_codes=("already-addressed", "clinical-judgement", "data-incomplete"),
                     config=config)
