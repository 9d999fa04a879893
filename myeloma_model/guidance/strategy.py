"""Switch class or retreat (docs/clinical-model.md#strategy; the review's Figure 2).

Precedence when several hold: novel-mechanism (triple-class refractory, or triple-class exposed
with >= 3 prior lines) > switch-class (refractory to lenalidomide) > retreat-same-class
(lenalidomide exposed, not refractory, durable prior response: relapse > 60 days after stopping
or the retreatment signal). The reasons the card shows are listed with the value.

Where the rules are silent (docs/clinical-model.md#assumptions) the choice made is stated in `assumptions`:
- lenalidomide never given, no refractoriness: lenalidomide-based triplets (retreat-same-class);
- lenalidomide never given, refractory to another class: switch-class (away from that class);
- lenalidomide given but the durability of the response cannot be established (no dates):
  switch-class, the safer choice.
"""
from __future__ import annotations

from datetime import date

from myeloma_model.thresholds import (
    DURABLE_RESPONSE_DAYS_OFF_DRUG,
    NOVEL_MECHANISM_MIN_PRIOR_LINES,
    RETREAT_MONTHS_ON_DRUG,
    RETREAT_MONTHS_SINCE_LAST_DOSE,
)

RETREAT, SWITCH, NOVEL, NONE = "retreat-same-class", "switch-class", "novel-mechanism", "none"
INDEX_DRUG = "lenalidomide"


def parse_date(s) -> date | None:
    """An assessment date string ("YYYY-MM-DD...") as a date; None when absent or unreadable."""
    if not s:
        return None
    try:
        return date.fromisoformat(str(s)[:10])
    except ValueError:
        return None


def refractory_drugs(assessment: dict) -> list[str]:
    return [d for d, info in (assessment.get("drugs") or {}).items() if info.get("refractory")]


def refractory_classes(assessment: dict) -> list[str]:
    out: list[str] = []
    for d in refractory_drugs(assessment):
        cls = assessment["drugs"][d].get("class")
        if cls and cls not in out:
            out.append(cls)
    return out


def fmt_months(m) -> str:
    return "unknown" if m is None else f"{m:.1f}"


def drug_time_reason(name: str, info: dict) -> str:
    """Time on and off a drug against the Goel 2024 retreatment signal."""
    signal = "holds" if info.get("retreatmentSignal") else "does not hold"
    return (
        f"{name}: {fmt_months(info.get('monthsOnDrug'))} months on the drug, "
        f"{fmt_months(info.get('monthsSinceLastDose'))} months since the last dose; the retreatment signal "
        f"(> {RETREAT_MONTHS_ON_DRUG:g} months on the drug or > {RETREAT_MONTHS_SINCE_LAST_DOSE:g} months since "
        f"the last dose) {signal}."
    )


def durable_response(assessment: dict) -> bool | None:
    """Lenalidomide: relapse > 60 days after the last dose, or the retreatment signal.

    None when it cannot be told (no last-dose or relapse date and no retreatment signal)."""
    info = (assessment.get("drugs") or {}).get(INDEX_DRUG) or {}
    if info.get("retreatmentSignal"):
        return True
    if info.get("active"):
        return False
    last = parse_date(info.get("lastDose"))
    relapse = parse_date((assessment.get("relapse") or {}).get("date"))
    if last is None or relapse is None:
        return None
    return (relapse - last).days > DURABLE_RESPONSE_DAYS_OFF_DRUG


def _novel_mechanism_applies(assessment: dict) -> bool:
    category = assessment.get("refractoryCategory")
    lines = assessment.get("priorLines") or 0
    return category in ("triple-class", "penta") or (
        bool(assessment.get("tripleClassExposed")) and lines >= NOVEL_MECHANISM_MIN_PRIOR_LINES
    )


def _context_reasons(assessment: dict) -> list[str]:
    """b2m trend, frailty, comorbidities, risk: listed whatever the strategy."""
    out: list[str] = []
    risk = assessment.get("risk") or {}
    trend = risk.get("b2mTrend", "unknown")
    if trend == "rising":
        out.append("Beta-2 microglobulin rising since the start of the line: favours switching class.")
    elif trend == "stable":
        out.append("Beta-2 microglobulin stable: with a long remission this favours retreatment.")
    else:
        out.append("Beta-2 microglobulin trend unknown (no value at the start of the line and a later one).")
    cyto = risk.get("highRiskCytogenetics") or []
    if cyto or risk.get("riss") == "III":
        what = ", ".join(cyto) if cyto else ""
        stage = "R-ISS III" if risk.get("riss") == "III" else ""
        out.append(f"High risk ({', '.join(x for x in (what, stage) if x)}): anti-CD38 triplets preferred, "
                   "novel mechanisms brought forward.")
    fit = assessment.get("fitness") or {}
    frailty = fit.get("frailty", "unknown")
    out.append(f"Fitness: {frailty} (age {fit.get('age') if fit.get('age') is not None else 'unknown'}, "
               f"ECOG {fit.get('ecog') if fit.get('ecog') is not None else 'unknown'}).")
    cautions = fit.get("cautions") or []
    if cautions:
        out.append("Comorbidity cautions: " + ", ".join(cautions) + ".")
    return out


def advise_strategy(assessment: dict, timing: str) -> dict:
    """{value, reasons, assumptions} for the contract's `strategy` and its card."""
    if timing != "treat-now":
        return {"value": NONE, "reasons": [], "assumptions": []}
    drugs = assessment.get("drugs") or {}
    reasons: list[str] = []
    assumptions: list[str] = []
    refr = refractory_drugs(assessment)
    if refr:
        reasons.append("Refractory to: " + ", ".join(f"{d} ({drugs[d].get('class')})" for d in refr)
                       + f"; category {assessment.get('refractoryCategory', 'none')}.")
    else:
        reasons.append("No refractoriness on record.")
    lines = assessment.get("priorLines") or 0
    tce = bool(assessment.get("tripleClassExposed"))
    reasons.append(f"{lines} prior line(s) of therapy; triple-class exposed: {'yes' if tce else 'no'}.")

    len_info = drugs.get(INDEX_DRUG)
    if len_info:
        reasons.append(drug_time_reason(INDEX_DRUG, len_info))

    if _novel_mechanism_applies(assessment):
        value = NOVEL
        reasons.insert(0, "Triple-class refractory, or triple-class exposed with >= "
                          f"{NOVEL_MECHANISM_MIN_PRIOR_LINES} prior lines: new mechanisms of action.")
    elif len_info and len_info.get("refractory"):
        value = SWITCH
        reasons.insert(0, "Refractory to lenalidomide: switch to a PI-based, anti-CD38-containing triplet; "
                          "pomalidomide-based options are next-generation IMiD retreatment.")
    elif len_info:
        durable = durable_response(assessment)
        if durable:
            value = RETREAT
            reasons.insert(0, "Lenalidomide exposed, not refractory, durable prior response: retreatment within "
                              "the IMiD class is reasonable (DRd, KRd, IRd; also ERd).")
            last, rel = parse_date(len_info.get("lastDose")), parse_date((assessment.get("relapse") or {}).get("date"))
            if last and rel and not len_info.get("active"):
                reasons.append(f"Relapse {(rel - last).days} days after the last lenalidomide dose "
                               f"(> {DURABLE_RESPONSE_DAYS_OFF_DRUG} days counts as durable).")
        else:
            value = SWITCH
            if durable is None:
                assumptions.append("The durability of the lenalidomide response could not be established "
                                   "(no last-dose or relapse date): switching class was assumed to be safer.")
            reasons.insert(0, "Lenalidomide exposed without a durable response: switching class is favoured.")
    elif refr:
        value = SWITCH
        assumptions.append("Lenalidomide never given but refractory to another class: switching away from the "
                           "refractory class was assumed (the review is silent on this case).")
        reasons.insert(0, "Refractory to " + ", ".join(refractory_classes(assessment)) + ": switch drug class.")
    else:
        value = RETREAT
        assumptions.append("Lenalidomide never given and no refractoriness on record: lenalidomide-based "
                           "triplets were assumed to apply (the review is silent on this case).")
        reasons.insert(0, "No refractoriness: lenalidomide-based triplets (DRd, KRd, IRd; also ERd).")
    reasons.extend(_context_reasons(assessment))
    return {"value": value, "reasons": reasons, "assumptions": assumptions}
