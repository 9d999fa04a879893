"""Treatment timing and treatment options cards (docs/clinical-model.md#timing, #strategy).

Templates only: every decision comes from the assessment (`timing`, `strategy`, `regimens` and
the non-contract `guidance` object of myeloma_model.guidance.advise). Also holds the review
citation and the override reasons the guidance cards share.
"""
from __future__ import annotations

from cds_service.cards.common import REVIEW_2025, make_card, md_list
from cds_service.cards.treatment_words import NOT_OFFERED_TEXT, NOTE_TEXT, caution_text, eligibility_text
from myeloma_model.guidance.regimens import GOEL_2024, WARNING_CAUTIONS

# The review has no DOI in the text we hold; a PubMed search on its exact title finds it.
REVIEW_SOURCE = {
    "label": "Vijjalwar et al. 2025, Approaches to managing relapsed myeloma (review)",
    "url": "https://pubmed.ncbi.nlm.nih.gov/?term=Approaches+to+managing+relapsed+myeloma%3A+switching+drug+class"
           "+or+retreatment+with+same+drug+class",
}
OVERRIDE_SYSTEM = "https://myeloma-cds.example.org/override-reason"
_REASONS = {
    "patient-preference": "Patient preference (e.g. chooses close surveillance)",
    "clinical-judgement": "Clinical judgement: advice not applicable to this patient",
    "data-incomplete": "Record incomplete or incorrect: the data shown are not current",
    "already-addressed": "Already done, ordered or planned elsewhere",
    "benefit-outweighs-risk": "Benefit outweighs the risk for this patient",
}


def override_reasons(*codes: str) -> list[dict]:
    """Codings (system, code, display) for a card's overrideReasons."""
    return [{"system": OVERRIDE_SYSTEM, "code": c, "display": _REASONS[c]} for c in codes]


STRATEGY_LABEL = {
    "retreat-same-class": "Retreat within the same drug class",
    "switch-class": "Switch drug class",
    "novel-mechanism": "Move to a new mechanism of action",
}
REDUCED_INTENSITY = "at reduced intensity: doublets first"
TIMING_INDICATOR = {"clinical": "critical", "biochemical": "warning", "suspected": "info"}


def _guidance(assessment: dict) -> dict:
    return assessment.get("guidance") or {}


def _closing(assessment: dict, source: str, advisory: str) -> list[str]:
    """The tail both guidance cards share: what was assumed, unusable data, source, advisory."""
    assumed = list(_guidance(assessment).get("assumptions") or [])
    gaps = assessment.get("dataGaps") or []
    parts = []
    if assumed:
        parts.append("**Assumed where data were missing:**\n" + md_list(assumed))
    if gaps:
        parts.append("**Data that could not be used:**\n" + md_list(gaps, limit=6))
    return parts + [f"Source: {source}", f"_{advisory}_"]


def timing_card(assessment: dict) -> dict | None:
    timing = assessment.get("timing")
    if timing not in ("treat-now", "confirm"):
        return None
    status = (assessment.get("relapse") or {}).get("status")
    g = _guidance(assessment).get("timing") or {}
    features = g.get("highRiskRelapseFeatures") or []
    if timing == "confirm" and g.get("stale"):
        summary = "Results are old: repeat SPEP and free light chains before deciding on treatment"
    elif timing == "confirm":
        summary = "Possible progression: repeat the paraprotein / light-chain test before deciding on treatment"
    elif status == "clinical":
        summary = "Clinical relapse: start relapse treatment now"
    elif g.get("surveillance") == "unsafe":
        named = ", ".join(f.replace("-", " ") for f in features)
        summary = f"Biochemical relapse: treat now; surveillance unsafe ({named})"
    else:
        summary = "Biochemical relapse: start treatment now (default); close surveillance if the patient prefers"
    parts = [f"**Timing: {timing}**", md_list(g.get("reasons") or [])]
    if features:
        parts.append("**High-risk relapse features:** " + ", ".join(f.replace("-", " ") for f in features))
    parts += _closing(assessment, f"{REVIEW_2025}, 'When should this patient begin treatment' and key "
                      "recommendations 1 and 4.", "Advisory only: the service does not order treatment.")
    return make_card(
        summary=summary,
        indicator=TIMING_INDICATOR.get(status, "info"),
        topic="treatment-timing",
        source_label=REVIEW_SOURCE["label"],
        source_url=REVIEW_SOURCE["url"],
        detail="\n\n".join(p for p in parts if p),
        override_reasons=override_reasons("patient-preference", "clinical-judgement", "data-incomplete"),
    )


def and_list(items: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return " and ".join(filter(None, [", ".join(items[:-1]), items[-1] if items else ""]))


def _evidence_text(r: dict) -> str:
    items = []
    for e in r.get("evidenceDetail") or [{"trial": t, "figures": None} for t in r.get("evidence", [])]:
        trial = e.get("trial") or "the review, no trial named"
        items.append(f"{trial}: {e['figures']}" if e.get("figures") else f"{trial} (no figures in the review)")
    return "; ".join(items)


def _cell(text) -> str:
    return str(text or "–").replace("|", "/").replace("\n", " ")


def _warning_text(r: dict) -> str | None:
    """The regimen's warnings in clinical words, from its structured fields."""
    parts = []
    if r.get("retreatmentSignalDrugs"):
        parts.append(f"Refractory to {', '.join(r['retreatmentSignalDrugs'])}: kept only because the retreatment "
                     f"signal holds ({GOEL_2024.trial}: {GOEL_2024.figures})")
    warn = [c for c in r.get("cautions") or [] if c in WARNING_CAUTIONS]
    if warn:
        parts.append("; ".join(caution_text(c) for c in warn))
    if r.get("reducedIntensity"):
        parts.append("Reduced intensity: the patient is frail; consider dose-reduced scheduling")
    return ". ".join(parts) or None


def _notes_text(r: dict) -> str:
    plain = [caution_text(c) for c in r.get("cautions") or [] if c not in WARNING_CAUTIONS]
    notes = [NOTE_TEXT[n] for n in r.get("notes") or [] if n in NOTE_TEXT
             and not (n == "thromboprophylaxis" and "vte-prophylaxis" in (r.get("cautions") or []))]
    for same in r.get("sameClassRefractory") or []:
        notes.append(f"{same['drug']}: same class as {and_list(same['refractoryTo'])}, to which the disease is "
                     "refractory; activity may be retained, resistance is possible")
    return "; ".join(plain + notes)


def regimen_table(regimens: list[dict], limit: int = 12) -> str:
    rows = ["| # | Regimen | Evidence (as the review reports it) | Cautions and notes | Warning |",
            "|---|---|---|---|---|"]
    for i, r in enumerate(regimens[:limit], 1):
        name = f"**{r['code']}** ({r.get('name') or ', '.join(r['drugs'])})"
        rows.append(f"| {i} | {_cell(name)} | {_cell(_evidence_text(r))} | {_cell(_notes_text(r))} "
                    f"| {_cell(_warning_text(r))} |")
    if len(regimens) > limit:
        rows.append(f"| | … and {len(regimens) - limit} more: {', '.join(r['code'] for r in regimens[limit:])} | | | |")
    return "\n".join(rows)


def toxicity_text(regimens: list[dict]) -> str | None:
    """Section 9: the toxicity of T-cell redirecting therapy, once for every such option listed."""
    t_cell = [r for r in regimens if r.get("toxicity")]
    if not t_cell:
        return None
    lines = [f"{e['trial'] or 'The review'}: {e['figures']}" for e in t_cell[0]["toxicity"]]
    return (f"**CAR-T and bispecific antibodies ({', '.join(r['code'] for r in t_cell)}): toxicity as the review "
            "reports it**\n" + md_list(lines))


def summary_text(assessment: dict) -> str:
    """Names the strategy and the first three regimens of the ranked list; never a strategy the first
    regimen contradicts (section 7.2)."""
    regimens = assessment.get("regimens") or []
    label = STRATEGY_LABEL[assessment["strategy"]]
    reduced = bool(((assessment.get("guidance") or {}).get("intensity") or {}).get("reduced"))
    if reduced:
        label = f"{label} {REDUCED_INTENSITY}"
    top = [r["code"] for r in regimens[:3]]
    if not top:
        return f"{label}: no listed regimen fits this patient; review the options with the myeloma team"
    listed = ", ".join(top[:-1]) + " or " + top[-1] if len(top) > 1 else top[0]
    first = regimens[0]
    if not first.get("strategyGroup") and not (reduced and first.get("group") == "doublets"):
        return f"{label}: none of its regimens fits this patient; options: {listed}"
    return f"{label}: {listed}"


def not_offered_text(item: dict, assessment: dict) -> str:
    reason = item["reason"]
    if reason == "refractory":
        why = (f"the disease is refractory to {and_list(item.get('drugs') or []) or 'one of its drugs'}; the "
               "retreatment signal does not hold")
    elif reason == "prior-lines":
        why = f"{eligibility_text(item['code'])}; {assessment.get('priorLines') or 0} prior line(s) on record"
    else:
        why = NOT_OFFERED_TEXT[reason]
    return f"{item['code']}: {why}"


def options_card(assessment: dict) -> dict | None:
    regimens = assessment.get("regimens") or []
    strategy = assessment.get("strategy")
    if assessment.get("timing") != "treat-now" or strategy not in STRATEGY_LABEL:
        return None
    g = _guidance(assessment)
    warned_first = bool(regimens) and bool(_warning_text(regimens[0]))
    parts = [f"**Strategy: {STRATEGY_LABEL[strategy]}**", md_list((g.get("strategy") or {}).get("reasons") or [])]
    if (g.get("intensity") or {}).get("reduced"):
        parts.append("**Intensity reduced:** the patient is frail; doublets (Rd, Pd, Kd, Vd as tolerated) first, "
                     "triplets after them at reduced intensity, no CAR-T or bispecific antibody.")
    if regimens:
        parts.append("**Ranked options** (best first; the first group is the strategy's own, the rest are "
                     "alternatives):\n\n" + regimen_table(regimens))
    parts.append(toxicity_text(regimens))
    not_offered = assessment.get("notOffered") or []
    if not_offered:
        parts.append("**Not offered:**\n" + md_list([not_offered_text(n, assessment) for n in not_offered], limit=24))
    parts += _closing(assessment, f"{REVIEW_2025} (Figure 2, key recommendations 2 and 3, trial results as "
                      "reported there).", "Advisory only: choose with the patient and the myeloma MDT; the "
                      "service does not order.")
    return make_card(
        summary=summary_text(assessment),
        indicator="warning" if warned_first else "info",
        topic="treatment-options",
        source_label=REVIEW_SOURCE["label"],
        source_url=REVIEW_SOURCE["url"],
        detail="\n\n".join(p for p in parts if p),
        override_reasons=override_reasons("clinical-judgement", "patient-preference", "data-incomplete"),
    )


def render(assessment: dict, *, config=None) -> list[dict]:
    return [c for c in (timing_card(assessment), options_card(assessment)) if c]
