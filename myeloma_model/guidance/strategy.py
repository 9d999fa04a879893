"""Switch class or retreat (docs/clinical-model.md#strategy; the review's Figure 2).

Precedence when several hold: novel-mechanism (triple-class refractory, or triple-class exposed
with >= 3 prior lines) > switch-class (refractory to lenalidomide) > retreat-same-class.
Lenalidomide exposed and not refractory: retreat when the response to it was durable (section
3a: PR or better lasting >= 12 months on the most recent line that contained it) or of unknown
durability, or when the retreatment signal holds for it; switch class when the response was not
durable and the signal does not hold. The reasons are codes with values, listed with the value
(the card layer words them), each stated only when its condition holds.

Where the rules are silent (docs/clinical-model.md#assumptions) the choice made is stated in
`assumptions` (codes):
- lenalidomide never given, no refractoriness: lenalidomide-based triplets (retreat-same-class);
- lenalidomide never given, refractory to another class: switch-class (away from that class).
"""
from __future__ import annotations

from datetime import date

from myeloma_model.contract import Assessment, DrugEntry, Durability, LineCourse, Reason, StrategyAdvice, reason
from myeloma_model.response import response_durability
from myeloma_model.thresholds import (
    DAYS_PER_MONTH,
    LONG_REMISSION_MONTHS,
    NOVEL_MECHANISM_MIN_PRIOR_LINES,
    SOON_AFTER_IMID_MONTHS,
)

RETREAT, SWITCH, NOVEL, NONE = "retreat-same-class", "switch-class", "novel-mechanism", "none"
INDEX_DRUG = "lenalidomide"
DURABLE, NOT_DURABLE, UNKNOWN = "durable", "not-durable", "unknown"


def refractory_drugs(assessment: Assessment) -> list[str]:
    return [d for d, info in assessment.drugs.items() if info.refractory]


def refractory_classes(assessment: Assessment) -> list[str]:
    out: list[str] = []
    for d in refractory_drugs(assessment):
        cls = assessment.drugs[d].drug_class
        if cls and cls not in out:
            out.append(cls)
    return out


def lines_before_relapse(assessment: Assessment) -> list[LineCourse]:
    """The assessment's `lines` (section 3a) that started before the relapse being treated."""
    lines = list(assessment.lines)
    relapse = assessment.relapse.date
    if relapse is None:
        return lines
    return [ln for ln in lines if (ln.start or date.min) < relapse]


def durability(assessment: Assessment, drug: str = INDEX_DRUG) -> Durability:
    """Section 3a, last bullet: the response to `drug` on the most recent line that contained it;
    unknown when no line holds the drug or its line carries no judged response (lines from an
    older model)."""
    containing = [ln for ln in lines_before_relapse(assessment) if drug in ln.drugs]
    if not containing:
        return Durability(UNKNOWN)
    ln = containing[-1]
    return Durability(response_durability(ln.best_response, ln.duration_months), ln.number, ln.best_response,
                      ln.duration_months)


def remission_months(assessment: Assessment) -> float | None:
    """Length of the remission the relapse ended: the response duration of the line it happened on."""
    lines = lines_before_relapse(assessment)
    if not lines:
        return None
    return lines[-1].duration_months


def imid_stopped_recently(assessment: Assessment) -> bool:
    """An IMiD ran at the relapse, or its last dose was < SOON_AFTER_IMID_MONTHS before it."""
    relapse = assessment.relapse.date
    for info in assessment.drugs.values():
        if info.drug_class != "IMiD":
            continue
        last = info.last_dose
        if info.active_at_relapse or (
                relapse and last and (relapse - last).days / DAYS_PER_MONTH < SOON_AFTER_IMID_MONTHS):
            return True
    return False


def _novel_mechanism_applies(assessment: Assessment) -> bool:
    return assessment.refractory_category in ("triple-class", "penta") or (
        assessment.triple_class_exposed and assessment.prior_lines >= NOVEL_MECHANISM_MIN_PRIOR_LINES
    )


def _context_reasons(assessment: Assessment) -> list[Reason]:
    """b2m trend, high risk, fitness: listed whatever the strategy, each only when it holds."""
    out: list[Reason] = []
    risk = assessment.risk
    trend = risk.b2m_trend
    remission = remission_months(assessment)
    if trend == "rising" and imid_stopped_recently(assessment):
        out.append(reason("b2m-rising-after-imid"))
    elif trend == "rising":
        out.append(reason("b2m-rising"))
    elif trend == "stable" and remission is not None and remission >= LONG_REMISSION_MONTHS:
        out.append(reason("b2m-stable-long-remission", remissionMonths=round(remission, 1)))
    elif trend == "stable":
        out.append(reason("b2m-stable"))
    else:
        out.append(reason("b2m-unknown"))
    cyto = tuple(risk.high_risk_cytogenetics)
    if cyto or risk.riss == "III":
        out.append(reason("high-risk", cytogenetics=cyto, rissIII=risk.riss == "III"))
    fit = assessment.fitness
    out.append(reason("fitness", frailty=fit.frailty, age=fit.age, ecog=fit.ecog))
    return out


def _index_drug_reason(info: DrugEntry) -> Reason:
    """Time on and off lenalidomide against the Goel 2024 retreatment signal (section 5)."""
    return reason("index-drug-times", drug=INDEX_DRUG,
                  monthsOnDrug=info.months_on_drug, monthsSinceLastDose=info.months_since_last_dose,
                  activeAtRelapse=bool(info.active_at_relapse or (info.active and not info.retreatment_signal)),
                  retreatmentSignal=bool(info.retreatment_signal))


def _response_reason(dur: Durability) -> Reason:
    return reason("earlier-response", drug=INDEX_DRUG, line=dur.line, bestResponse=dur.best_response,
                  durationMonths=dur.duration_months, durability=dur.value)


def advise_strategy(assessment: Assessment, timing: str) -> StrategyAdvice:
    """The contract's `strategy` (`value`) with its reasons, assumptions and durability.

    `reasons` are codes with values (the card layer words them), the deciding one first:
    `novel-mechanism-criteria`, `lenalidomide-refractory`, `lenalidomide-durable`,
    `lenalidomide-durability-unknown`, `lenalidomide-signal-short-response`,
    `lenalidomide-not-durable`, `other-class-refractory` {classes}, `lenalidomide-naive`; then
    `refractory` {drugs, category} or `no-refractoriness`, `exposure` {priorLines,
    tripleClassExposed}, `index-drug-times` {monthsOnDrug, monthsSinceLastDose,
    activeAtRelapse, retreatmentSignal}, `earlier-response` {line, bestResponse,
    durationMonths, durability}, the b2m code, `high-risk` {cytogenetics, rissIII}, `fitness`
    {frailty, age, ecog}. `assumptions` are codes too (`lenalidomide-naive-triplets`,
    `lenalidomide-naive-switch`)."""
    if timing != "treat-now":
        return StrategyAdvice()
    reasons: list[Reason] = []
    assumptions: list[str] = []
    refr = refractory_drugs(assessment)
    if refr:
        reasons.append(reason("refractory", drugs=tuple(refr), category=assessment.refractory_category))
    else:
        reasons.append(reason("no-refractoriness"))
    reasons.append(reason("exposure", priorLines=assessment.prior_lines,
                          tripleClassExposed=assessment.triple_class_exposed))

    len_info = assessment.drugs.get(INDEX_DRUG)
    if len_info:
        reasons.append(_index_drug_reason(len_info))

    if _novel_mechanism_applies(assessment):
        value = NOVEL
        reasons.insert(0, reason("novel-mechanism-criteria", minPriorLines=NOVEL_MECHANISM_MIN_PRIOR_LINES))
    elif len_info and len_info.refractory:
        value = SWITCH
        reasons.insert(0, reason("lenalidomide-refractory"))
    elif len_info:
        dur = durability(assessment)
        signal = len_info.retreatment_signal
        if dur.value == DURABLE:
            value = RETREAT
            reasons.insert(0, reason("lenalidomide-durable"))
            reasons.append(_response_reason(dur))
        elif dur.value == UNKNOWN:
            value = RETREAT
            reasons.insert(0, reason("lenalidomide-durability-unknown"))
        elif signal:
            value = RETREAT
            reasons.insert(0, reason("lenalidomide-signal-short-response"))
            reasons.append(_response_reason(dur))
        else:
            value = SWITCH
            reasons.insert(0, reason("lenalidomide-not-durable"))
            reasons.append(_response_reason(dur))
    elif refr:
        value = SWITCH
        assumptions.append("lenalidomide-naive-switch")
        reasons.insert(0, reason("other-class-refractory", classes=tuple(refractory_classes(assessment))))
    else:
        value = RETREAT
        assumptions.append("lenalidomide-naive-triplets")
        reasons.insert(0, reason("lenalidomide-naive"))
    reasons.extend(_context_reasons(assessment))
    return StrategyAdvice(reasons=tuple(reasons), value=value, assumptions=tuple(assumptions),
                          durability=durability(assessment) if len_info else None)
