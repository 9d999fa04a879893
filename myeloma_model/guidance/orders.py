"""Checks for one ordered anti-myeloma drug (order-select / order-sign; docs/clinical-model.md 7.3).

Pure: reads the assessment (with advise()'s `regimens` and `guidance.investigationStatus`) and
returns findings as codes and values; cds_service/cards/orders.py words them. The drug is judged
by options.appraise_drug, the same appraisal that builds the patient-view options, so an order
the options card would not offer always gets a card, and one it offers gets no eligibility card.
- refractory: refractory to the drug without the retreatment signal -> warning; the signal holds
  (a drug stopped before the relapse) -> info with the Goel 2024 caveat.
- eligibility (7.1): no regimen containing the drug is offered -> warning for a CAR-T or
  bispecific in a frail patient or one not triple-class exposed, info otherwise.
- comorbidity (6): a caution for the drug -> warning for the warning-level ones, else info.
- prerequisite (8, Table 1): drug-specific baseline tests missing or stale -> warning.
Every warning carries the alternative: the first ranked regimen without the ordered drug.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from myeloma_model.contract import Assessment, MissingInvestigation, NotOffered, TestStatus
from myeloma_model.drug_classes import T_CELL_REDIRECTING_CLASSES, drug_class, is_steroid
from myeloma_model.guidance.investigations import MAX_AGE_DAYS, drug_prerequisites
from myeloma_model.guidance.options import FRAILTY, NOT_TCE, REASON_ORDER, appraise_drug
from myeloma_model.guidance.regimens import WARNING_CAUTIONS


@dataclass(frozen=True)
class RefractoryValues:
    """The ordered drug's times against the retreatment signal (section 5)."""

    months_on_drug: float | None = None
    months_since_last_dose: float | None = None
    active_at_relapse: bool | None = None
    last_dose: date | None = None


@dataclass(frozen=True)
class EligibilityValues:
    """Why no regimen with the drug is offered (section 7.1), and the patient facts behind it."""

    reasons: tuple[str, ...]
    regimens: tuple[NotOffered, ...]
    prior_lines: int
    frailty: str
    ecog: int | None
    age: int | None


@dataclass(frozen=True)
class ComorbidityValues:
    cautions: tuple[str, ...]


@dataclass
class Finding:
    kind: str  # "refractory" | "eligibility" | "comorbidity" | "prerequisite"
    indicator: str  # "warning" | "info"
    drug: str
    values: RefractoryValues | EligibilityValues | ComorbidityValues | None = None  # what the card words
    tests: list[MissingInvestigation] = field(default_factory=list)  # prerequisite items
    alternative: str | None = None  # regimen code offered instead (warnings only)


def alternative_for(assessment: Assessment, drug: str) -> str | None:
    """The strategy's first eligible regimen that does not contain the ordered drug."""
    for r in assessment.regimens:
        if drug not in r.drugs:
            return r.code
    return None


def refractory_finding(assessment: Assessment, drug: str, appraisal) -> Finding | None:
    if not (appraisal.refractory or appraisal.signal):
        return None
    entry = assessment.drugs.get(drug)
    values = RefractoryValues(entry.months_on_drug, entry.months_since_last_dose, entry.active_at_relapse,
                              entry.last_dose) if entry else RefractoryValues()
    return Finding("refractory", "warning" if appraisal.refractory else "info", drug, values)


def eligibility_finding(assessment: Assessment, drug: str, appraisal) -> Finding | None:
    if appraisal.eligible is not False or appraisal.refractory:
        return None  # eligible, no listed regimen, or already refused as refractory
    reasons = [FRAILTY] if appraisal.frailty else []
    reasons += [n.reason for n in appraisal.not_offered if n.reason not in reasons]
    reasons.sort(key=REASON_ORDER.index)
    t_cell = drug_class(drug) in T_CELL_REDIRECTING_CLASSES
    warn = t_cell and bool({FRAILTY, NOT_TCE} & set(reasons))
    fit = assessment.fitness
    return Finding("eligibility", "warning" if warn else "info", drug, EligibilityValues(
        reasons=tuple(reasons), regimens=tuple(appraisal.not_offered), prior_lines=assessment.prior_lines,
        frailty=fit.frailty, ecog=fit.ecog, age=fit.age))


def comorbidity_finding(assessment: Assessment, drug: str, appraisal) -> Finding | None:
    if not appraisal.cautions:
        return None
    warn = [c for c in appraisal.cautions if c in WARNING_CAUTIONS]
    return Finding("comorbidity", "warning" if warn else "info", drug, ComorbidityValues(tuple(appraisal.cautions)))


def prerequisite_finding(assessment: Assessment, drug: str) -> Finding | None:
    status = assessment.guidance.investigation_status if assessment.guidance else {}
    items = []
    for test in drug_prerequisites(drug):
        s = status.get(test.code) or TestStatus("missing")
        if s.status == "current":
            continue
        items.append(MissingInvestigation(test.code, s.status, s.last_done, MAX_AGE_DAYS[test.category],
                                          test.assessment, for_drugs=(drug,)))
    if not items:
        return None
    return Finding("prerequisite", "warning", drug, None, items)


def order_findings(assessment: Assessment, drug: str) -> list[Finding]:
    """Every finding for one ordered drug, most urgent kind first."""
    if not assessment.in_scope or is_steroid(drug):
        return []
    appraisal = appraise_drug(drug, assessment)
    out = [f for f in (refractory_finding(assessment, drug, appraisal),
                       eligibility_finding(assessment, drug, appraisal),
                       comorbidity_finding(assessment, drug, appraisal)) if f]
    against = [f for f in out if f.indicator == "warning"]
    for f in against:
        f.alternative = alternative_for(assessment, drug)
    # Baseline tests for a drug that should not be given (progressed on it, or outside the
    # patients it was studied in) would not change the decision: no card for them then. A
    # comorbidity warning keeps them (an echocardiogram before carfilzomib in heart failure).
    not_appropriate = any(f.kind in ("refractory", "eligibility") for f in against)
    prerequisite = None if not_appropriate else prerequisite_finding(assessment, drug)
    return out + ([prerequisite] if prerequisite else [])
