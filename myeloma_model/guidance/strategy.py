"""Switch class or retreat (docs/clinical-model.md#strategy; the review's Figure 2).

Precedence when several hold: novel-mechanism (triple-class refractory, or triple-class exposed
with >= 3 prior lines) > switch-class (refractory to lenalidomide) > retreat-same-class.
Lenalidomide exposed and not refractory: retreat when the response to it was durable (section
3a: PR or better lasting >= 12 months on the most recent line that contained it) or of unknown
durability, or when the retreatment signal holds for it; switch class when the response was not
durable and the signal does not hold. The reasons the card shows are listed with the value, and
each is stated only when its condition holds.

Where the rules are silent (docs/clinical-model.md#assumptions) the choice made is stated in `assumptions`:
- lenalidomide never given, no refractoriness: lenalidomide-based triplets (retreat-same-class);
- lenalidomide never given, refractory to another class: switch-class (away from that class).
"""
from __future__ import annotations

from datetime import date

from myeloma_model.response import durability as response_durability
from myeloma_model.thresholds import (
    DAYS_PER_MONTH,
    DURABLE_RESPONSE_MONTHS,
    LONG_REMISSION_MONTHS,
    NOVEL_MECHANISM_MIN_PRIOR_LINES,
    RETREAT_MONTHS_ON_DRUG,
    RETREAT_MONTHS_SINCE_LAST_DOSE,
    SOON_AFTER_IMID_MONTHS,
)

RETREAT, SWITCH, NOVEL, NONE = "retreat-same-class", "switch-class", "novel-mechanism", "none"
INDEX_DRUG = "lenalidomide"
DURABLE, NOT_DURABLE, UNKNOWN = "durable", "not-durable", "unknown"


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
    """Time on and off a drug against the Goel 2024 retreatment signal (section 5)."""
    times = (f"{name}: {fmt_months(info.get('monthsOnDrug'))} months on the drug, "
             f"{fmt_months(info.get('monthsSinceLastDose'))} months since the last dose")
    if info.get("activeAtRelapse") or (info.get("active") and not info.get("retreatmentSignal")):
        return (times + f"; {name} was being taken when the disease progressed, so the retreatment signal does not "
                "apply (giving it again would continue a failing drug, not retreat).")
    signal = "holds" if info.get("retreatmentSignal") else "does not hold"
    return (times + f"; the retreatment signal (> {RETREAT_MONTHS_ON_DRUG:g} months on the drug or > "
            f"{RETREAT_MONTHS_SINCE_LAST_DOSE:g} months since the last dose) {signal}.")


def lines_before_relapse(assessment: dict) -> list[dict]:
    """The assessment's `lines` (section 3a) that started before the relapse being treated."""
    lines = [ln for ln in (assessment.get("lines") or []) if isinstance(ln, dict)]
    relapse = parse_date((assessment.get("relapse") or {}).get("date"))
    if relapse is None:
        return lines
    return [ln for ln in lines if (parse_date(ln.get("start")) or date.min) < relapse]


def durability(assessment: dict, drug: str = INDEX_DRUG) -> dict:
    """Section 3a, last bullet: the response to `drug` on the most recent line that contained it.

    {"value": durable | not-durable | unknown, "line", "bestResponse", "durationMonths"}; unknown
    when no line holds the drug or its line carries no judged response (lines from an older model)."""
    lines = lines_before_relapse(assessment)
    containing = [ln for ln in lines if drug in (ln.get("drugs") or [])]
    if not containing:
        return {"value": UNKNOWN, "line": None, "bestResponse": None, "durationMonths": None}
    ln = containing[-1]
    return {"value": response_durability(lines, drug), "line": ln.get("number"),
            "bestResponse": ln.get("bestResponse"), "durationMonths": ln.get("durationMonths")}


def remission_months(assessment: dict) -> float | None:
    """Length of the remission the relapse ended: the response duration of the line it happened on."""
    lines = lines_before_relapse(assessment)
    if not lines:
        return None
    months = lines[-1].get("durationMonths")
    return months if isinstance(months, (int, float)) else None


def imid_stopped_recently(assessment: dict) -> bool:
    """An IMiD ran at the relapse, or its last dose was < SOON_AFTER_IMID_MONTHS before it."""
    relapse = parse_date((assessment.get("relapse") or {}).get("date"))
    for info in (assessment.get("drugs") or {}).values():
        if info.get("class") != "IMiD":
            continue
        last = parse_date(info.get("lastDose"))
        if info.get("activeAtRelapse") or (
                relapse and last and (relapse - last).days / DAYS_PER_MONTH < SOON_AFTER_IMID_MONTHS):
            return True
    return False


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
    remission = remission_months(assessment)
    if trend == "rising" and imid_stopped_recently(assessment):
        out.append("Beta-2 microglobulin rising, with a relapse on or soon after IMiD therapy: the review favours "
                   "switching class in this situation.")
    elif trend == "rising":
        out.append("Beta-2 microglobulin rising since the start of the line (a sign of active disease).")
    elif trend == "stable" and remission is not None and remission >= LONG_REMISSION_MONTHS:
        out.append(f"Beta-2 microglobulin stable after a remission of {remission:.1f} months (>= "
                   f"{LONG_REMISSION_MONTHS:g}): the review finds retreatment within the class may still be "
                   "effective.")
    elif trend == "stable":
        out.append("Beta-2 microglobulin stable.")
    else:
        out.append("Beta-2 microglobulin trend unknown (no value at the start of the line and a later one).")
    cyto = risk.get("highRiskCytogenetics") or []
    if cyto or risk.get("riss") == "III":
        what = ", ".join(cyto) if cyto else ""
        stage = "R-ISS III" if risk.get("riss") == "III" else ""
        out.append(f"High risk ({', '.join(x for x in (what, stage) if x)}): anti-CD38-containing regimens first "
                   "within each group.")
    fit = assessment.get("fitness") or {}
    frailty = fit.get("frailty", "unknown")
    out.append(f"Fitness: {frailty} (age {fit.get('age') if fit.get('age') is not None else 'unknown'}, "
               f"ECOG {fit.get('ecog') if fit.get('ecog') is not None else 'unknown'}).")
    return out


def _response_text(dur: dict) -> str:
    months = dur["durationMonths"]
    lasting = f" lasting {months:.1f} months" if isinstance(months, (int, float)) else ""
    return (f"Earlier response to lenalidomide (line {dur['line']}): {dur['bestResponse']}{lasting} (durable needs PR "
            f"or better for >= {DURABLE_RESPONSE_MONTHS:g} months).")


def advise_strategy(assessment: dict, timing: str) -> dict:
    """{value, reasons, assumptions} for the contract's `strategy` and its card."""
    if timing != "treat-now":
        return {"value": NONE, "reasons": [], "assumptions": [], "durability": None}
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
        dur = durability(assessment)
        signal = bool(len_info.get("retreatmentSignal"))
        if dur["value"] == DURABLE:
            value = RETREAT
            reasons.insert(0, "Lenalidomide exposed, not refractory, durable earlier response: retreatment within "
                              "the IMiD class is reasonable (DRd, KRd, IRd; also ERd).")
            reasons.append(f"Earlier response to lenalidomide (line {dur['line']}): {dur['bestResponse']} lasting "
                           f"{dur['durationMonths']:.1f} months (durable: PR or better for >= "
                           f"{DURABLE_RESPONSE_MONTHS:g} months).")
        elif dur["value"] == UNKNOWN:
            value = RETREAT
            reasons.insert(0, "Lenalidomide exposed, not refractory: retreatment within the IMiD class is reasonable "
                              "(DRd, KRd, IRd; also ERd); the durability of the earlier response could not be "
                              "judged.")
        elif signal:
            value = RETREAT
            reasons.insert(0, "Lenalidomide exposed, not refractory, and the retreatment signal holds: retreatment "
                              "within the IMiD class (DRd, KRd, IRd; also ERd), although the earlier response was "
                              "short.")
            reasons.append(_response_text(dur))
        else:
            value = SWITCH
            reasons.insert(0, "Lenalidomide exposed, not refractory, but the earlier response was not durable and "
                              "the retreatment signal does not hold: concern about lenalidomide resistance, switch "
                              "to a PI-based regimen (DVd, DKd or IsaKd).")
            reasons.append(_response_text(dur))
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
    return {"value": value, "reasons": reasons, "assumptions": assumptions,
            "durability": durability(assessment) if len_info else None}
