"""Checks for one ordered anti-myeloma drug (the order-select / order-sign services).

Pure: reads the assessment (with advise()'s `guidance.investigationStatus`) and returns
findings the card layer renders.
- refractory (sections 5, 7): the disease is refractory to the drug, or to another drug of its
  class, and the drug's own retreatment signal does not hold -> warning; refractory to the
  drug but the signal holds -> info.
- comorbidity (section 6): carfilzomib + heart failure, bortezomib + neuropathy,
  lenalidomide + eGFR < 30 -> warning; the drug's other section 6 cautions -> info.
- prerequisites (section 8, Table 1): the drug-specific baseline tests (echo before carfilzomib,
  blood group and hepatitis B/C/HIV before daratumumab / isatuximab, neuropathy examination
  before bortezomib, ...) that are missing or stale -> warning.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from myeloma_model.drug_classes import drug_class, is_steroid
from myeloma_model.guidance.investigations import drug_prerequisites, freshness_text
from myeloma_model.guidance.regimens import CAUTION_TEXT, WARNING_CAUTIONS, cautions_for
from myeloma_model.guidance.strategy import fmt_months
from myeloma_model.thresholds import REFRACTORY_WINDOW_DAYS, RETREAT_MONTHS_ON_DRUG, RETREAT_MONTHS_SINCE_LAST_DOSE


@dataclass
class Finding:
    kind: str  # "refractory" | "comorbidity" | "prerequisite"
    indicator: str  # "warning" | "info"
    drug: str
    summary: str
    reasons: list[str] = field(default_factory=list)
    tests: list[dict] = field(default_factory=list)  # prerequisite items (code, label, status, lastDone, reason)


def refractory_finding(assessment: dict, drug: str) -> Finding | None:
    if is_steroid(drug):
        return None
    drugs = assessment.get("drugs") or {}
    own = drugs.get(drug) or {}
    cls = drug_class(drug)
    same_class = [d for d, i in drugs.items() if d != drug and i.get("refractory") and i.get("class") == cls]
    signal = bool(own.get("retreatmentSignal"))
    timing = (f"{drug}: {fmt_months(own.get('monthsOnDrug'))} months on the drug, "
              f"{fmt_months(own.get('monthsSinceLastDose'))} months since the last dose; the retreatment signal needs "
              f"> {RETREAT_MONTHS_ON_DRUG:g} months on it or > {RETREAT_MONTHS_SINCE_LAST_DOSE:g} months since it.")
    if own.get("refractory"):
        if signal:
            return Finding("refractory", "info", drug,
                           f"Disease is refractory to {drug}, but the retreatment signal holds",
                           [f"Progression on {drug} or within {REFRACTORY_WINDOW_DAYS} days of its last dose.", timing,
                            "Retreatment can be considered (Goel et al. 2024, as cited in the review)."])
        return Finding("refractory", "warning", drug,
                       f"Disease is refractory to {drug}: retreatment is unlikely to work",
                       [f"Progression on {drug} or within {REFRACTORY_WINDOW_DAYS} days of its last dose.", timing,
                        "Consider a regimen from another drug class (see the treatment-options card)."])
    if same_class and not signal:
        return Finding("refractory", "warning", drug,
                       f"Disease is refractory to {', '.join(same_class)} (same class as {drug}, {cls})",
                       [f"Refractory to {', '.join(same_class)} ({cls}); {drug} may retain some activity but "
                        "class resistance is possible.", timing])
    return None


def comorbidity_finding(assessment: dict, drug: str) -> Finding | None:
    cautions = (assessment.get("fitness") or {}).get("cautions") or []
    applying = cautions_for([drug], cautions)
    if not applying:
        return None
    warn = [c for c in applying if drug in WARNING_CAUTIONS.get(c, frozenset())]
    lead = warn[0] if warn else applying[0]
    return Finding("comorbidity", "warning" if warn else "info", drug,
                   f"{drug}: {CAUTION_TEXT[lead]}",
                   [f"{c}: {CAUTION_TEXT[c]}" for c in applying])


def prerequisite_finding(assessment: dict, drug: str) -> Finding | None:
    status = (assessment.get("guidance") or {}).get("investigationStatus") or {}
    items = []
    for test in drug_prerequisites(drug):
        s = status.get(test.code) or {"status": "missing", "lastDone": None}
        if s["status"] == "current":
            continue
        items.append({
            "code": test.code, "label": test.label, "status": s["status"], "lastDone": s.get("lastDone"),
            "reason": test.reason, "needed": freshness_text(test),
            "forDrugs": [drug], "forRegimens": [],
        })
    if not items:
        return None
    names = ", ".join(i["label"] for i in items)
    return Finding("prerequisite", "warning", drug, f"Before {drug}: {names} missing or out of date",
                   [f"{i['label']}: {i['status']}" + (f" (last {i['lastDone']})" if i["lastDone"] else "")
                    + f"; {i['reason']}" for i in items], items)


def order_findings(assessment: dict, drug: str) -> list[Finding]:
    """Every finding for one ordered drug, most urgent kind first."""
    if not assessment.get("inScope"):
        return []
    out = []
    for check in (refractory_finding, comorbidity_finding, prerequisite_finding):
        f = check(assessment, drug)
        if f:
            out.append(f)
    return out
