"""Treatment guidance: fills the assessment's `timing`, `strategy`, `regimens`,
`missingInvestigations` and `safety` (docs/clinical-model.md#timing, #strategy,
#investigations, #safety).

Modules: timing.py (section 4), strategy.py (section 7 precedence), options.py (every filter
and ranking rule), regimens.py (regimen knowledge as data), investigations.py (section 8,
Table 1), safety.py (section 9). `advise` returns typed values (`contract.Advice`), with the
non-contract `guidance` object (the contract allows added fields): the reasons, assumptions and
details the cards show, as codes and values (the card layer words them).
"""
from __future__ import annotations

from datetime import date

from myeloma_model.contract import Advice, Assessment, Guidance, Intensity
from myeloma_model.guidance.investigations import check_all, investigation_status, missing_investigations
from myeloma_model.guidance.options import rank_regimens
from myeloma_model.guidance.safety import safety_findings
from myeloma_model.guidance.strategy import advise_strategy
from myeloma_model.guidance.timing import advise_timing
from myeloma_model.records import PatientRecord


def empty_guidance() -> Advice:
    """The contract's guidance fields when there is nothing to advise."""
    return Advice()


def advise(assessment: Assessment, record: PatientRecord, as_of: date) -> Advice:
    """The guidance fields (docs/assessment-contract.md) for a typed assessment whose other
    fields are filled."""
    if not assessment.in_scope:
        return empty_guidance()
    timing = advise_timing(assessment)
    # Stale data: timing is "confirm", but the strategy the status calls for is still worked out
    # and shown as provisional (docs/clinical-model.md, data freshness).
    strategy = advise_strategy(assessment, timing.status_value)
    regimens, not_offered, reduced = rank_regimens(assessment, strategy.value)

    regimens_by_drug: dict[str, list[str]] = {}
    for r in regimens:
        for d in r.drugs:
            regimens_by_drug.setdefault(d, []).append(r.code)
    offered_drugs = list(regimens_by_drug)
    relapse_date = assessment.relapse.date
    checked = check_all(record, as_of, relapse_date)
    investigations = missing_investigations(offered_drugs, record, as_of, regimens_by_drug, checked, relapse_date)
    safety = safety_findings(assessment, record, as_of)

    assumptions = list(strategy.assumptions)
    for s in safety:
        assumptions.extend(a for a in s.assumptions if a not in assumptions)
    if any(i.code in ("ecog", "neuropathy-assessment") for i in investigations):
        assumptions.append("clinical-assessments-dated-like-labs")  # current for STALE_LAB_DAYS, like labs
    if timing.value == "treat-now" and assessment.fitness.frailty == "unknown":
        assumptions.append("fitness-unknown-not-frail")
    risk = assessment.risk
    if timing.value == "treat-now" and risk.riss == "unknown" and not risk.high_risk_cytogenetics:
        assumptions.append("riss-unknown-not-high-risk")

    return Advice(
        timing=timing.value,
        strategy=strategy.value,
        regimens=regimens,
        not_offered=not_offered,
        missing_investigations=tuple(i.code for i in investigations),
        safety=tuple(s.code for s in safety),
        guidance=Guidance(
            timing=timing,
            provisional=timing.stale and strategy.value != "none",
            strategy=strategy,
            intensity=Intensity(reduced),
            durability=strategy.durability,
            investigations=tuple(investigations),
            investigation_status=investigation_status(checked),
            safety=tuple(safety),
            assumptions=tuple(assumptions),
        ),
    )
