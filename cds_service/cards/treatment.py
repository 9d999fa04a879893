"""The relapse card: verdict with values and dates, timing, strategy with its reasons and the
top three regimens (one line each: evidence, key toxicity, caution); the rest of the ranked
list is behind the SMART app link.

Everything is worded here from the assessment's codes and values (`timing`, `strategy`,
`regimens[].code/drugs/cautions/evidenceDetail`, `drugs`, `risk`, `fitness`); the model's
display sentences are not shown.
"""
from __future__ import annotations

from cds_service.cards.common import ADVISORY, REVIEW, REVIEW_SHORT, make_card, md_list
from cds_service.cards.relapse_status import (
    data_note,
    prior_lines_text,
    verdict_lines,
    verdict_summary,
)
from cds_service.cards.words import (
    class_name,
    day,
    drug_name,
    drug_names,
    join_and,
    months,
)
from myeloma_model.drug_classes import drug_class
from myeloma_model.thresholds import (
    EARLY_FIRST_RELAPSE_MONTHS,
    HEAVY_MARROW_INFILTRATION_PCT,
    IVIG_IGG_G_L,
    NOVEL_MECHANISM_MIN_PRIOR_LINES,
    RENAL_DOSE_ADJUST_EGFR,
    RENAL_SEVERE_EGFR,
    RETREAT_MONTHS_ON_DRUG,
    RETREAT_MONTHS_SINCE_LAST_DOSE,
    RISING_B2M_RELATIVE,
)

TOP_N = 3
STRATEGY_LABEL = {
    "retreat-same-class": "retreat within the same drug class",
    "switch-class": "switch drug class",
    "novel-mechanism": "move to a new mechanism of action",
}
STRATEGY_SHORT = {"retreat-same-class": "retreat within the class", "switch-class": "switch class",
                  "novel-mechanism": "new mechanism"}
REDUCED = " at reduced intensity: doublets first"
STRATEGY_WHY = {
    "retreat-same-class": "Lenalidomide exposed, not refractory, with a durable response: retreatment within the "
                          "IMiD class is reasonable (DRd, KRd, IRd; also ERd).",
    "switch-class": "Refractory to lenalidomide, or its response was not durable: a proteasome-inhibitor-based, "
                    "anti-CD38-containing triplet; pomalidomide-based options are next-generation IMiD retreatment.",
    "novel-mechanism": "Triple-class refractory, or triple-class exposed after "
                       f"{NOVEL_MECHANISM_MIN_PRIOR_LINES} or more lines: new mechanisms "
                       "(BCMA or GPRC5D-directed therapy, selinexor, belantamab combinations).",
}
HIGH_RISK_FEATURES = {
    "circulating-plasma-cells": "circulating plasma cells",
    "extramedullary": "extramedullary disease",
    "heavy-marrow-infiltration": f"marrow infiltration >= {HEAVY_MARROW_INFILTRATION_PCT:g}% plasma cells",
    "high-risk-cytogenetics": "high-risk cytogenetics",
    "relapse-on-therapy": "relapse while on therapy",
    "early-first-relapse": f"first relapse within {EARLY_FIRST_RELAPSE_MONTHS:g} months of diagnosis",
    "rising-b2m": f"beta-2 microglobulin >= {RISING_B2M_RELATIVE:.0%} above the start of the line",
}
CYTOGENETICS = {"del17p": "del(17p)", "gain1q": "gain 1q", "del1p": "del(1p)"}
CAUTIONS = {
    "carfilzomib-cardiac": "heart failure or cardiac disease: carfilzomib can be cardiotoxic",
    "neuropathy": "existing neuropathy: bortezomib, thalidomide and ixazomib can worsen it",
    "renal-dose-adjust": f"eGFR < {RENAL_DOSE_ADJUST_EGFR:g}: lenalidomide and pomalidomide need a renal dose adjustment",
    "renal-severe": f"eGFR < {RENAL_SEVERE_EGFR:g}: lenalidomide needs a major dose reduction",
    "vte-prophylaxis": "previous venous thromboembolism: thromboprophylaxis is required",
}
CAUTION_DRUGS = {"carfilzomib-cardiac": {"carfilzomib"}, "neuropathy": {"bortezomib", "thalidomide", "ixazomib"},
                 "renal-dose-adjust": {"lenalidomide", "pomalidomide"}, "renal-severe": {"lenalidomide", "pomalidomide"},
                 "vte-prophylaxis": {"thalidomide", "lenalidomide", "pomalidomide"}}
# Key toxicity of a regimen, by the first of its drugs' classes found in this order (the
# review's safety sections and Table 1).
TOXICITY = (
    ("BCMA-CAR-T", "CRS, neurotoxicity and infection (KarMMa-3, ide-cel: CRS 88%, neurotoxicity 15%, "
                   "infection 58%)"),
    ("BCMA-bispecific", f"CRS and infection (MajesTEC-1, teclistamab: infection 76.4%, 13% died of grade 5 "
                        f"infection); IVIG when IgG < {IVIG_IGG_G_L:g} g/L"),
    ("GPRC5D-bispecific", f"CRS and infection; IVIG when IgG < {IVIG_IGG_G_L:g} g/L"),
    ("BCMA-ADC", "ocular toxicity (keratopathy)"),
    ("XPO1", "nausea, fatigue and cytopenias"),
)
DRUG_TOXICITY = (
    ("carfilzomib", "cardiotoxicity"),
    ("bortezomib", "peripheral neuropathy"),
    ("ixazomib", "peripheral neuropathy"),
    ("thalidomide", "peripheral neuropathy and thromboembolism"),
    ("lenalidomide", "cytopenias and thromboembolism (thromboprophylaxis)"),
    ("pomalidomide", "cytopenias and thromboembolism (thromboprophylaxis)"),
)


def _timing_lines(assessment: dict) -> tuple[str, list[str]]:
    """(short phrase for the summary, lines for the detail)."""
    status = (assessment.get("relapse") or {}).get("status")
    features = (assessment.get("risk") or {}).get("highRiskRelapseFeatures") or []
    named = join_and([HIGH_RISK_FEATURES.get(f, "a high-risk feature") for f in features])
    if status == "clinical":
        return "treat now", ["Clinical relapse: start treatment now."]
    if features:
        return "treat now", [f"Start treatment now. Close surveillance is not safe: {named}."]
    return "treat now (or close surveillance)", [
        "Starting treatment now is the default (EMN: a biochemical relapse is a non-aggressive clinical relapse). "
        "Close surveillance of M-protein, free light chains and imaging is an alternative if the patient prefers it: "
        "no high-risk relapse feature on record."]


def _lenalidomide_line(info: dict) -> str:
    signal = "met" if info.get("retreatmentSignal") else "not met"
    state = "refractory" if info.get("refractory") else "not refractory"
    if info.get("active"):
        taken = f"taken for {months(info.get('monthsOnDrug'))}, still on it"
    else:
        last = f", last dose {day(info['lastDose'])}" if info.get("lastDose") else ""
        taken = f"{months(info.get('monthsOnDrug'))} on it{last}, {months(info.get('monthsSinceLastDose'))} since"
    return (f"Lenalidomide: {state}; {taken}. Retreatment signal (> {RETREAT_MONTHS_ON_DRUG:g} months "
            f"on the drug or > {RETREAT_MONTHS_SINCE_LAST_DOSE:g} months since it; Goel 2024, retrospective): {signal}.")


def _strategy_why(assessment: dict) -> str:
    """The first reason, chosen from the codes that decided the strategy."""
    strategy = assessment.get("strategy")
    drugs = assessment.get("drugs") or {}
    len_info = drugs.get("lenalidomide")
    if strategy == "switch-class":
        if len_info and len_info.get("refractory"):
            return STRATEGY_WHY["switch-class"].replace("Refractory to lenalidomide, or its response was not durable",
                                                        "Refractory to lenalidomide")
        if len_info:
            return ("Lenalidomide exposed without a durable response (concern about lenalidomide resistance): "
                    "switch to a proteasome-inhibitor-based, anti-CD38-containing triplet.")
        classes = sorted({class_name(i.get("class")) for i in drugs.values() if i.get("refractory")})
        if classes:
            return f"Refractory to {join_and(classes)}: switch away from that class."
    if strategy == "retreat-same-class" and not len_info:
        return ("Lenalidomide not given and no refractoriness on record: lenalidomide-based triplets "
                "(DRd, KRd, IRd; also ERd).")
    return STRATEGY_WHY.get(strategy, "")


def _strategy_lines(assessment: dict) -> list[str]:
    drugs = assessment.get("drugs") or {}
    lines = [_strategy_why(assessment)]
    refractory = [d for d, i in drugs.items() if i.get("refractory")]
    exposure = prior_lines_text(assessment.get("priorLines"))
    if assessment.get("tripleClassExposed"):
        exposure += "; triple-class exposed"
    if refractory:
        exposure += "; refractory to " + drug_names(refractory)
    else:
        exposure += "; not refractory to any drug given"
    lines.append(exposure + ".")
    if "lenalidomide" in drugs:
        lines.append(_lenalidomide_line(drugs["lenalidomide"]))
    risk = assessment.get("risk") or {}
    trend = risk.get("b2mTrend")
    if trend == "rising":
        lines.append("Beta-2 microglobulin rising since the start of the line: favours switching class.")
    elif trend == "stable":
        lines.append("Beta-2 microglobulin stable.")
    cyto = [CYTOGENETICS.get(c, c) for c in risk.get("highRiskCytogenetics") or []]
    if cyto or risk.get("riss") == "III":
        what = join_and(cyto + (["R-ISS III"] if risk.get("riss") == "III" else []))
        lines.append(f"High-risk disease ({what}): anti-CD38-containing regimens first, new mechanisms brought forward.")
    fit = assessment.get("fitness") or {}
    frailty = fit.get("frailty")
    ecog = f"ECOG {fit['ecog']}" if fit.get("ecog") is not None else "ECOG not recorded"
    age = f"age {fit['age']}" if fit.get("age") is not None else "age not known"
    if frailty == "unknown":
        lines.append(f"Fitness could not be judged ({age}, {ecog}): treated as not frail.")
    else:
        lines.append(f"Fitness: {frailty} ({age}, {ecog}).")
    if ((assessment.get("guidance") or {}).get("intensity") or {}).get("reduced"):
        lines.append("Reduced intensity: doublets first; no CAR-T or bispecific antibody.")
    return [line for line in lines if line]


def _evidence(regimen: dict) -> str:
    details = regimen.get("evidenceDetail") or [{"trial": t, "figures": None} for t in regimen.get("evidence") or []]
    if not details:
        return "no trial named in the review"
    first = details[0]
    if not first.get("figures"):
        return f"{first['trial']} (the review gives no figures)"
    figures = "; ".join(f.strip() for f in str(first["figures"]).split(";")[:2])
    return f"{first['trial']}: {figures}"


def _toxicity(regimen: dict) -> str | None:
    drugs = regimen.get("drugs") or []
    classes = [drug_class(d) for d in drugs]
    for cls, text in TOXICITY:
        if cls in classes:
            return text
    found = [text for d, text in DRUG_TOXICITY if d in drugs]
    return "; ".join(dict.fromkeys(found)) or None


def _caution(regimen: dict, assessment: dict) -> str | None:
    drugs = set(regimen.get("drugs") or [])
    info = assessment.get("drugs") or {}
    notes = []
    for d in sorted(drugs):
        if (info.get(d) or {}).get("refractory"):
            notes.append(f"refractory to {drug_name(d)}, kept because its retreatment signal holds "
                         "(Goel 2024, retrospective)")
    refractory_classes = {i.get("class") for i in info.values() if i.get("refractory")}
    for d in sorted(drugs):
        cls = drug_class(d)
        if cls in refractory_classes and not (info.get(d) or {}).get("refractory") and cls != "corticosteroid":
            notes.append(f"disease refractory to another {class_name(cls)}")
    for c in regimen.get("cautions") or []:
        if CAUTION_DRUGS.get(c, set()) & drugs:
            notes.append(CAUTIONS.get(c, "a comorbidity caution applies"))
    return "; ".join(dict.fromkeys(notes)) or None


def regimen_line(regimen: dict, assessment: dict) -> str:
    """"**DRd** (daratumumab, lenalidomide, dexamethasone). POLLUX: ORR 93% vs 76% (Rd). Key
    toxicity: ... Caution: ..." (one line)."""
    drugs = regimen.get("drugs") or []
    names = drugs[0].replace("-", " ") if len(drugs) == 1 else ", ".join(drug_name(d) for d in drugs)
    parts = [f"**{regimen['code']}** ({names}). {_evidence(regimen)}."]
    tox = _toxicity(regimen)
    if tox:
        parts.append(f"Key toxicity: {tox}.")
    caution = _caution(regimen, assessment)
    if caution:
        parts.append(f"Caution: {caution}.")
    return " ".join(parts)


def strategy_phrase(assessment: dict, short: bool = False) -> str:
    labels = STRATEGY_SHORT if short else STRATEGY_LABEL
    phrase = labels.get(assessment.get("strategy"), "")
    if ((assessment.get("guidance") or {}).get("intensity") or {}).get("reduced"):
        phrase += REDUCED
    return phrase


def top_codes(assessment: dict, n: int = TOP_N) -> list[str]:
    return [r["code"] for r in (assessment.get("regimens") or [])[:n]]


def relapse_card(assessment: dict, *, config=None, link: dict | None = None) -> dict:
    """The main card of a relapse (timing `treat-now`)."""
    status = (assessment.get("relapse") or {}).get("status")
    regimens = assessment.get("regimens") or []
    timing_short, timing_lines = _timing_lines(assessment)
    top = top_codes(assessment)
    summary = ""
    # the longest wording that fits 140 characters: full strategy name, then the short one,
    # then the timing without the surveillance alternative
    for short, timing in ((False, timing_short), (True, timing_short), (True, "treat now")):
        if top:
            options = f"{strategy_phrase(assessment, short)}: {join_and(top, 'or')}"
        else:
            options = "no listed regimen fits: discuss at the myeloma MDT"
        summary = f"{verdict_summary(assessment)}: {timing}; {options}"
        if len(summary) < 140:
            break
    parts = ["**" + verdict_summary(assessment) + "** (IMWG)\n" + md_list(verdict_lines(assessment)),
             "**When to treat:** " + " ".join(timing_lines)]
    if assessment.get("strategy") in STRATEGY_LABEL:
        parts.append(f"**Strategy: {strategy_phrase(assessment)}**\n" + md_list(_strategy_lines(assessment)))
    if regimens:
        lines = [f"{i}. {regimen_line(r, assessment)}" for i, r in enumerate(regimens[:TOP_N], 1)]
        parts.append("**Leading options** (best first; trial figures as the review reports them):\n" + "\n".join(lines))
        rest = len(regimens) - TOP_N
        not_offered = len(assessment.get("notOffered") or (assessment.get("guidance") or {}).get("excludedRegimens") or [])
        more = []
        if rest > 0:
            more.append(f"{rest} further ranked option{'s' if rest != 1 else ''}")
        if not_offered:
            more.append(f"{not_offered} not offered, with the reason")
        if more and link:
            parts.append(f"{join_and(more).capitalize()}: open the relapse timeline app (link below).")
    parts += [data_note(assessment), f"Source: {REVIEW_SHORT}; IMWG criteria (Kumar et al. 2016).", ADVISORY]
    return make_card(
        summary=summary, indicator="critical" if status == "clinical" else "warning", topic="relapse-treatment",
        source=REVIEW, detail="\n\n".join(p for p in parts if p),
        override_reason_codes=("patient-preference", "clinical-judgement", "data-incomplete"),
        links=[link] if link else None, config=config,
    )

