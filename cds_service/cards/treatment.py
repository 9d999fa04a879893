"""The relapse card: verdict with values and dates, timing, strategy with its reasons and the
top three regimens (one line each: evidence, key toxicity, caution); the rest of the ranked
list is behind the SMART app link.

Everything is worded here from the typed assessment's codes and values (`timing`, `strategy`,
`regimens[].code/drugs/cautions/notes/toxicity/retreatment_signal_drugs/same_class_refractory/
evidence_detail`, `not_offered`, `drugs`, `lines`, `risk`, `fitness`, `guidance`); the
regimens' `warning` (worded for the JSON in contract_words.py) is not shown. Caution, note and
not-offered words are treatment_words.py's, shared with the order-hook cards.
"""
from __future__ import annotations

from cds_service.cards.common import ADVISORY, REVIEW, REVIEW_SHORT, make_card, md_list
from cds_service.cards.relapse_status import (
    course_lines,
    data_note,
    freshness_line,
    prior_lines_text,
    verdict_lines,
    verdict_summary,
)
from cds_service.cards.treatment_words import NOTE_TEXT, caution_text, eligibility_text
from cds_service.cards.words import (
    class_name,
    day,
    drug_name,
    drug_names,
    join_and,
    months,
    plural,
)
from myeloma_model.contract import (
    Assessment,
    DrugEntry,
    NotOffered,
    Reason,
    RegimenOption,
    TrialFigures,
)
from myeloma_model.drug_classes import drug_class
from myeloma_model.guidance.regimens import WARNING_CAUTIONS
from myeloma_model.thresholds import (
    DURABLE_RESPONSE_MONTHS,
    EARLY_FIRST_RELAPSE_MONTHS,
    HEAVY_MARROW_INFILTRATION_PCT,
    IVIG_IGG_G_L,
    LONG_REMISSION_MONTHS,
    NOVEL_MECHANISM_MIN_PRIOR_LINES,
    RETREAT_MONTHS_ON_DRUG,
    RETREAT_MONTHS_SINCE_LAST_DOSE,
    RISING_B2M_RELATIVE,
    STALE_LAB_DAYS,
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
# Key toxicity of a regimen, by the first of its drugs' classes found in this order (the
# review's safety sections and Table 1).
# Key toxicity of a regimen without T-cell redirecting therapy, by the first of its drugs' classes
# found in this order (the review's safety sections and Table 1); CAR-T and bispecific
# antibodies use the figures the assessment carries (`toxicity`, as the review reports them).
CLASS_TOXICITY = (
    ("BCMA-ADC", "ocular toxicity (keratopathy)"),
    ("XPO1", "nausea, fatigue and cytopenias"),
)
DRUG_TOXICITY = (
    ("carfilzomib", "cardiotoxicity"),
    ("bortezomib", "peripheral neuropathy"),
    ("ixazomib", "peripheral neuropathy"),
    ("thalidomide", "peripheral neuropathy and thromboembolism (plan thromboprophylaxis)"),
    ("lenalidomide", "cytopenias and thromboembolism (plan thromboprophylaxis)"),
    ("pomalidomide", "cytopenias and thromboembolism (plan thromboprophylaxis)"),
)
T_CELL_TRIAL = {"BCMA-CAR-T": "KarMMa-3"}  # other T-cell redirecting classes: the bispecific trial
RESPONSE_SHORT = {"CR": "complete response", "VGPR": "very good partial response", "PR": "partial response",
                  "MR": "minimal response", "SD": "stable disease"}


def _timing_lines(assessment: Assessment) -> tuple[str, list[str]]:
    """(short phrase for the summary, lines for the detail)."""
    status = assessment.relapse.status
    features = assessment.risk.high_risk_relapse_features
    named = join_and([HIGH_RISK_FEATURES.get(f, "a high-risk feature") for f in features])
    if status == "clinical":
        return "treat now", ["Clinical relapse: start treatment now."]
    if features:
        return "treat now", [f"Start treatment now. Close surveillance is not safe: {named}."]
    return "treat now (or close surveillance)", [
        "Starting treatment now is the default (EMN: a biochemical relapse is a non-aggressive clinical relapse). "
        "Close surveillance of M-protein, free light chains and imaging is an alternative if the patient prefers it: "
        "no high-risk relapse feature on record."]


def _reasons(assessment: Assessment) -> tuple[Reason, ...]:
    """The model's strategy reasons: codes with values, the deciding one first."""
    g = assessment.guidance
    return g.strategy.reasons if g else ()


def reduced_intensity(assessment: Assessment) -> bool:
    g = assessment.guidance
    return bool(g and g.intensity.reduced)


def _lenalidomide_line(reason: Reason, info: DrugEntry | None) -> str:
    state = "refractory" if info and info.refractory else "not refractory"
    if reason.get("activeAtRelapse"):
        return (f"Lenalidomide: {state}; {months(reason.get('monthsOnDrug'))} on it, still taken when the disease "
                "progressed: the retreatment signal does not apply (giving it again would continue a failing drug).")
    signal = "met" if reason.get("retreatmentSignal") else "not met"
    if info and info.active:
        taken = f"taken for {months(reason.get('monthsOnDrug'))}, still on it"
    else:
        last = f", last dose {day(info.last_dose)}" if info and info.last_dose else ""
        taken = f"{months(reason.get('monthsOnDrug'))} on it{last}, {months(reason.get('monthsSinceLastDose'))} since"
    return (f"Lenalidomide: {state}; {taken}. Retreatment signal (> {RETREAT_MONTHS_ON_DRUG:g} months "
            f"on the drug or > {RETREAT_MONTHS_SINCE_LAST_DOSE:g} months since it; Goel 2024, retrospective): {signal}.")


def _durability_line(reason: Reason) -> str:
    """The earlier response to lenalidomide that decided retreat or switch."""
    best = reason.get("bestResponse")
    if not best or best == "not-evaluable":
        return f"Earlier response to lenalidomide (line {reason.get('line')}) could not be judged: durability unknown."
    lasting = (f" lasting {months(reason.get('durationMonths'))}" if isinstance(reason.get("durationMonths"), (int, float))
               else "")
    verdict = {"durable": "durable", "not-durable": "not durable"}.get(reason.get("durability"), "durability unknown")
    return (f"Earlier response to lenalidomide (line {reason.get('line')}): {RESPONSE_SHORT.get(best, best)} ({best})"
            f"{lasting}: {verdict} (durable means partial response or better for {DURABLE_RESPONSE_MONTHS:g} months "
            "or more).")


# The deciding reason of each strategy, by the model's code.
DECIDING = {
    "novel-mechanism-criteria": STRATEGY_WHY["novel-mechanism"],
    "lenalidomide-refractory": "Refractory to lenalidomide: a proteasome-inhibitor-based, anti-CD38-containing "
                               "triplet; pomalidomide-based options are next-generation IMiD retreatment.",
    "lenalidomide-durable": STRATEGY_WHY["retreat-same-class"],
    "lenalidomide-durability-unknown": "Lenalidomide exposed, not refractory: retreatment within the IMiD class is "
                                       "reasonable (DRd, KRd, IRd; also ERd); the durability of the earlier response "
                                       "could not be judged.",
    "lenalidomide-signal-short-response": "Lenalidomide exposed, not refractory, and the retreatment signal is met: "
                                          "retreatment within the IMiD class (DRd, KRd, IRd; also ERd), although the "
                                          "earlier response was short.",
    "lenalidomide-not-durable": "Lenalidomide exposed, not refractory, but the earlier response was not durable and "
                                "the retreatment signal is not met (concern about lenalidomide resistance): switch to a "
                                "proteasome-inhibitor-based regimen (DVd, DKd or IsaKd).",
    "lenalidomide-naive": "Lenalidomide not given and no refractoriness on record: lenalidomide-based triplets "
                          "(DRd, KRd, IRd; also ERd).",
}
B2M = {
    "b2m-rising-after-imid": "Beta-2 microglobulin rising, with a relapse on or soon after IMiD therapy: the review "
                             "favours switching class.",
    "b2m-rising": "Beta-2 microglobulin rising since the start of the line (a sign of active disease).",
    "b2m-stable": "Beta-2 microglobulin stable.",
}
# Where the rules are silent, the model's choice (assumption codes); those another line of the
# cards already says (fitness, recurrent infections on the safety card) are not repeated.
ASSUMPTIONS = {
    "lenalidomide-naive-triplets": "Lenalidomide never given and no refractoriness: lenalidomide-based triplets were "
                                   "assumed to apply (the review is silent on this case).",
    "lenalidomide-naive-switch": "Lenalidomide never given but refractory to another class: switching away from that "
                                 "class was assumed (the review is silent on this case).",
    "clinical-assessments-dated-like-labs": "ECOG and the neuropathy examination were counted as current for "
                                            f"{STALE_LAB_DAYS} days, like laboratory tests (the review does not date "
                                            "them).",
    "riss-unknown-not-high-risk": "R-ISS unknown and no high-risk cytogenetics on record: not treated as high risk.",
}


def _reason_line(reason: Reason, assessment: Assessment) -> str | None:
    code = reason.code
    drugs = assessment.drugs
    if code in DECIDING:
        return DECIDING[code]
    if code == "other-class-refractory":
        classes = sorted({class_name(c) for c in reason.get("classes") or []})
        return f"Refractory to {join_and(classes) or 'another drug class'}: switch away from that class."
    if code == "exposure":
        text = prior_lines_text(reason.get("priorLines"))
        if reason.get("tripleClassExposed"):
            text += "; triple-class exposed"
        refractory = next((r for r in _reasons(assessment) if r.code == "refractory"), None)
        text += ("; refractory to " + drug_names(refractory.get("drugs") or [])) if refractory else \
            "; not refractory to any drug given"
        return text + "."
    if code == "index-drug-times":
        return _lenalidomide_line(reason, drugs.get(reason.get("drug") or "lenalidomide"))
    if code == "earlier-response":
        return _durability_line(reason)
    if code == "b2m-stable-long-remission":
        return (f"Beta-2 microglobulin stable after a remission of {months(reason.get('remissionMonths'))} "
                f"({LONG_REMISSION_MONTHS:g} months or more): the review finds retreatment within the class may "
                "still work.")
    if code in B2M:
        return B2M[code]
    if code == "high-risk":
        cyto = [CYTOGENETICS.get(c, c) for c in reason.get("cytogenetics") or []]
        what = join_and(cyto + (["R-ISS III"] if reason.get("rissIII") else []))
        return f"High-risk disease ({what}): anti-CD38-containing regimens first, new mechanisms brought forward."
    if code == "fitness":
        ecog = f"ECOG {reason.get('ecog')}" if reason.get("ecog") is not None else "ECOG not recorded"
        age = f"age {reason.get('age')}" if reason.get("age") is not None else "age not known"
        if reason.get("frailty") == "unknown":
            return f"Fitness could not be judged ({age}, {ecog}): treated as not frail."
        return f"Fitness: {reason.get('frailty')} ({age}, {ecog})."
    return None  # refractory (said with the exposure), b2m-unknown, no-refractoriness: nothing to add


def _strategy_lines(assessment: Assessment) -> list[str]:
    """The strategy's reasons in clinical words, from the model's codes and values."""
    lines = [_reason_line(r, assessment) for r in _reasons(assessment)]
    if reduced_intensity(assessment):
        lines.append("Reduced intensity (frail): doublets first (Rd, Pd, Kd, Vd as tolerated), triplets after them at "
                     "reduced dose or schedule; no CAR-T or bispecific antibody.")
    return [line for line in lines if line]


def assumption_lines(assessment: Assessment) -> list[str]:
    assumed = assessment.guidance.assumptions if assessment.guidance else ()
    return [ASSUMPTIONS[a] for a in dict.fromkeys(assumed) if a in ASSUMPTIONS]


def _evidence(regimen: RegimenOption) -> str:
    details = regimen.evidence_detail or [TrialFigures(t, None) for t in regimen.evidence]
    details = [d for d in details if d.trial or d.figures]
    if not details:
        return "no trial named in the review"
    first = details[0]
    trial = first.trial or "The review"
    if not first.figures:
        return f"{trial} (the review gives no figures)"
    figures = "; ".join(f.strip() for f in str(first.figures).split(";")[:2])
    return f"{trial}: {figures}"


def _toxicity(regimen: RegimenOption) -> str | None:
    """The key toxicity: for CAR-T and bispecific antibodies the trial figures the review reports
    (and IVIG); otherwise by drug class or drug."""
    drugs = regimen.drugs
    classes = [drug_class(d) for d in drugs]
    reported = [t for t in regimen.toxicity if t.figures]
    if reported:
        wanted = next((T_CELL_TRIAL[c] for c in classes if c in T_CELL_TRIAL), "MajesTEC-1")
        trial = next((t for t in reported if t.trial == wanted), reported[0])
        return (f"CRS, neurotoxicity and infection ({trial.trial}, {trial.figures}); IVIG when IgG < "
                f"{IVIG_IGG_G_L:g} g/L or infections recur")
    for cls, text in CLASS_TOXICITY:
        if cls in classes:
            return text
    found = [text for d, text in DRUG_TOXICITY if d in drugs]
    return "; ".join(dict.fromkeys(found)) or None


def _caution(regimen: RegimenOption) -> str | None:
    """What to weigh before choosing it, from the regimen's codes: a refractory drug kept on the
    retreatment signal, the patient's comorbidity cautions (warning-level first), reduced
    intensity, same-class refractoriness and the review's notes."""
    notes = []
    kept = regimen.retreatment_signal_drugs
    if kept:
        notes.append(f"refractory to {drug_names(kept)}, kept only because the retreatment signal is met "
                     "(Goel 2024, retrospective)")
    cautions = regimen.cautions
    notes += [caution_text(c) for c in cautions if c in WARNING_CAUTIONS]
    notes += [caution_text(c) for c in cautions if c not in WARNING_CAUTIONS]
    if regimen.reduced_intensity:
        notes.append("frail: at reduced dose or schedule")
    for same in regimen.same_class_refractory:
        notes.append(f"disease refractory to {drug_names(same.refractory_to)}, same class as "
                     f"{drug_name(same.drug)}: activity may be retained, resistance is possible")
    notes += [NOTE_TEXT[n] for n in regimen.notes if n == "approval-withdrawn"]
    return "; ".join(dict.fromkeys(notes)) or None


def regimen_line(regimen: RegimenOption, assessment: Assessment | None = None) -> str:
    """"**DRd** (daratumumab, lenalidomide, dexamethasone). POLLUX: ... Key toxicity: ...
    Caution: ..." (one line)."""
    drugs = regimen.drugs
    names = drugs[0].replace("-", " ") if len(drugs) == 1 else ", ".join(drug_name(d) for d in drugs)
    parts = [f"**{regimen.code}** ({names}). {_evidence(regimen)}."]
    tox = _toxicity(regimen)
    if tox:
        parts.append(f"Key toxicity: {tox}.")
    caution = _caution(regimen)
    if caution:
        parts.append(f"Caution: {caution}.")
    return " ".join(parts)


NOT_OFFERED_SHORT = {
    "frailty": "CAR-T and bispecific antibodies are not for a frail patient",
    "not-triple-class-exposed": "for triple-class exposed disease, not yet the case",
    "not-lenalidomide-exposed": "studied after lenalidomide, never given here",
}


def not_offered_reason(item: NotOffered, assessment: Assessment) -> str:
    """Why a regimen is not offered, in a few clinical words."""
    reason = item.reason
    if reason == "refractory":
        return f"refractory to {drug_names(item.drugs) or 'one of its drugs'}, retreatment signal not met"
    if reason == "prior-lines":
        return (f"{eligibility_text(item.code)}; "
                f"{plural(int(assessment.prior_lines or 0), 'prior line')} on record")
    return NOT_OFFERED_SHORT.get(reason, "outside the patients it was studied in")


def not_offered_line(assessment: Assessment) -> str | None:
    """"Not offered: DRd, KRd (refractory to lenalidomide, retreatment signal not met); IsaPd (for 2
    or more prior lines; 1 prior line on record)". The regimens refused for refractoriness form one
    group naming every drug concerned."""
    items = [i for i in assessment.not_offered if i.code]
    refractory = [i for i in items if i.reason == "refractory"]
    groups: dict[str, list[str]] = {}
    for item in items:
        if item.reason != "refractory":
            groups.setdefault(not_offered_reason(item, assessment), []).append(item.code)
    if refractory:
        drugs = list(dict.fromkeys(d for i in refractory for d in i.drugs))
        why = (f"refractory to {drug_names(drugs)}" if len(drugs) == 1 else
               f"each contains a drug the disease is refractory to: {drug_names(drugs)}")
        groups[why + ", retreatment signal not met"] = [i.code for i in refractory]
    if not groups:
        return None
    return "**Not offered:** " + "; ".join(f"{', '.join(codes)} ({why})" for why, codes in groups.items()) + "."


def strategy_phrase(assessment: Assessment, short: bool = False) -> str:
    labels = STRATEGY_SHORT if short else STRATEGY_LABEL
    phrase = labels.get(assessment.strategy, "")
    if reduced_intensity(assessment):
        phrase += REDUCED
    return phrase


def top_codes(assessment: Assessment, n: int = TOP_N) -> list[str]:
    return [r.code for r in assessment.regimens[:n]]


def _first_fits_strategy(assessment: Assessment) -> bool:
    """False when the first ranked regimen is not of the strategy's own group (the summary must not
    name a strategy its first option contradicts); frail doublets lead by design."""
    regimens = assessment.regimens
    if not regimens:
        return True
    first = regimens[0]
    return bool(first.strategy_group) or bool(reduced_intensity(assessment) and first.group == "doublets")


def provisional_text(assessment: Assessment) -> str | None:
    """The strategy and first regimens worked out on results too old to decide on."""
    if assessment.strategy not in STRATEGY_LABEL:
        return None
    top = top_codes(assessment)
    return strategy_phrase(assessment) + (f" ({join_and(top, 'or')})" if top else "")


def t_cell_footnote(regimens: tuple[RegimenOption, ...]) -> str | None:
    """The review's infection figures that apply to every CAR-T and bispecific listed, once."""
    if not any(r.toxicity for r in regimens):
        return None
    general = [t.figures for r in regimens for t in r.toxicity if not t.trial]
    general = [g for g in dict.fromkeys(general) if not g.startswith("IVIG")]
    if not general:
        return None
    return "CAR-T and bispecific antibodies: " + "; ".join(general) + "."


def relapse_card(assessment: Assessment, *, config=None, link: dict | None = None) -> dict:
    """The main card of a relapse (timing `treat-now`)."""
    status = assessment.relapse.status
    regimens = assessment.regimens
    timing_short, timing_lines = _timing_lines(assessment)
    top = top_codes(assessment)
    summary = ""
    # the longest wording that fits 140 characters: full strategy name, then the short one,
    # then the timing without the surveillance alternative
    for short, timing in ((False, timing_short), (True, timing_short), (True, "treat now")):
        if top and not _first_fits_strategy(assessment):
            options = f"{strategy_phrase(assessment, short)}: none of its regimens fits; {join_and(top, 'or')}"
        elif top:
            options = f"{strategy_phrase(assessment, short)}: {join_and(top, 'or')}"
        else:
            options = "no listed regimen fits: discuss at the myeloma MDT"
        summary = f"{verdict_summary(assessment)}: {timing}; {options}"
        if len(summary) < 140:
            break
    parts = []
    fresh = freshness_line(assessment)
    if fresh:
        parts.append(f"**Data age:** {fresh[0].lower() + fresh[1:]}")
    parts += ["**" + verdict_summary(assessment) + "** (IMWG)\n" + md_list(verdict_lines(assessment)),
              "**When to treat:** " + " ".join(timing_lines)]
    if assessment.strategy in STRATEGY_LABEL:
        parts.append(f"**Strategy: {strategy_phrase(assessment)}**\n" + md_list(_strategy_lines(assessment)))
    if regimens:
        lines = [f"{i}. {regimen_line(r, assessment)}" for i, r in enumerate(regimens[:TOP_N], 1)]
        parts.append("**Leading options** (best first; trial figures as the review reports them):\n" + "\n".join(lines))
        parts.append(t_cell_footnote(regimens[:TOP_N]))
    parts.append(not_offered_line(assessment))
    rest = len(regimens) - TOP_N
    if rest > 0 and link:
        parts.append(f"{rest} further ranked option{'s' if rest != 1 else ''}, and the response to each line: open "
                     "the relapse timeline app (link below).")
    if assessment.lines:
        parts.append("**Course:**\n" + md_list(course_lines(assessment)))
    assumed = assumption_lines(assessment)
    if assumed:
        parts.append("**Assumed where the record or the review is silent:**\n" + md_list(assumed))
    parts += [data_note(assessment), f"Source: {REVIEW_SHORT}; IMWG criteria (Kumar et al. 2016).", ADVISORY]
    return make_card(
        summary=summary, indicator="critical" if status == "clinical" else "warning", topic="relapse-treatment",
        source=REVIEW, detail="\n\n".join(p for p in parts if p),
        override_reason_codes=("patient-preference", "clinical-judgement", "data-incomplete"),
        links=[link] if link else None, config=config,
    )
