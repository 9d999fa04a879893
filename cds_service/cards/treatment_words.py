"""Clinical wording of the treatment codes (docs/clinical-model.md sections 6, 7.1, 9), shared by the
options card and the order-hook cards so both say the same thing in the same words."""
from __future__ import annotations

from myeloma_model.guidance.regimens import REGIMENS, T_CELL_TOXICITY
from myeloma_model.thresholds import RENAL_DOSE_ADJUST_EGFR, RENAL_SEVERE_EGFR, REFRACTORY_WINDOW_DAYS, T_CELL_MAX_ECOG

CAUTION_TEXT: dict[str, str] = {
    "carfilzomib-cardiac": "heart failure or cardiomyopathy on record: carfilzomib carries a risk of cardiotoxicity",
    "neuropathy": "peripheral neuropathy: bortezomib, thalidomide and ixazomib can worsen it",
    "renal-dose-adjust": f"eGFR below {RENAL_DOSE_ADJUST_EGFR:g}: lenalidomide and pomalidomide need a renal dose "
                         "adjustment",
    "renal-severe": f"eGFR below {RENAL_SEVERE_EGFR:g} (severe renal impairment): lenalidomide and pomalidomide need "
                    "a major dose reduction",
    "vte-prophylaxis": "history of venous thromboembolism: IMiD thromboprophylaxis is needed",
}

NOT_OFFERED_TEXT: dict[str, str] = {
    "refractory": f"the disease is refractory to one of its drugs (progression on it or within "
                  f"{REFRACTORY_WINDOW_DAYS} days of the last dose)",
    "frailty": f"CAR-T and bispecific antibodies are not suitable for a frail patient or ECOG above {T_CELL_MAX_ECOG} "
               "(the review)",
    "not-triple-class-exposed": "for triple-class exposed disease (a proteasome inhibitor, an IMiD and an anti-CD38 "
                                "antibody given before); not yet the case",
    "not-lenalidomide-exposed": "studied in lenalidomide-exposed patients (DREAMM-8); lenalidomide never given",
    "prior-lines": "outside the lines of therapy the review states",
}

NOTE_TEXT: dict[str, str] = {
    "thromboprophylaxis": "IMiD: higher risk of thromboembolism (more so with renal impairment); plan "
                          "thromboprophylaxis",
    "approval-withdrawn": "the US FDA had withdrawn belantamab mafodotin's approval at the time of the review "
                          "(reapproval pending)",
    "t-cell-toxicity": "T-cell redirecting therapy: see the toxicity below",
}


def caution_text(code: str) -> str:
    return CAUTION_TEXT.get(code, code.replace("-", " "))


def eligibility_text(code: str) -> str:
    """The prior-lines condition of a regimen, as the review states it."""
    el = REGIMENS[code].eligibility
    if el.min_prior_lines is not None and el.max_prior_lines is not None:
        return f"for {el.min_prior_lines}-{el.max_prior_lines} prior lines"
    if el.min_prior_lines is not None:
        return f"for {el.min_prior_lines} or more prior lines"
    return "outside the lines the review states"


def toxicity_lines() -> list[str]:
    return [f"{e.trial or 'The review'}: {e.figures}" for e in T_CELL_TOXICITY]
