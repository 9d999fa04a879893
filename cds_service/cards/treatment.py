"""Treatment timing and treatment options cards (docs/clinical-model.md#timing, #strategy).

Templates only: every decision comes from the assessment (`timing`, `strategy`, `regimens` and
the non-contract `guidance` object of myeloma_model.guidance.advise). Also holds the review
citation and the override reasons the guidance cards share.
"""
from __future__ import annotations

from cds_service.cards.common import REVIEW_2025, make_card, md_list

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
    if timing == "confirm":
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


def _evidence_text(r: dict) -> str:
    items = []
    for e in r.get("evidenceDetail") or [{"trial": t, "figures": None, "note": None} for t in r.get("evidence", [])]:
        if e.get("figures"):
            items.append(f"{e['trial']}: {e['figures']}")
        else:
            items.append(f"{e['trial']} (no figures in the review)")
    return "; ".join(items)


def _cell(text) -> str:
    return str(text or "–").replace("|", "/").replace("\n", " ")


def regimen_table(regimens: list[dict], limit: int = 12) -> str:
    rows = ["| # | Regimen | Evidence (as the review reports it) | Cautions | Warning |", "|---|---|---|---|---|"]
    for i, r in enumerate(regimens[:limit], 1):
        name = f"**{r['code']}** ({', '.join(r['drugs'])})"
        rows.append(f"| {i} | {_cell(name)} | {_cell(_evidence_text(r))} | {_cell(', '.join(r.get('cautions') or []))} "
                    f"| {_cell(r.get('warning'))} |")
    if len(regimens) > limit:
        rows.append(f"| | … and {len(regimens) - limit} more | | | |")
    return "\n".join(rows)


def options_card(assessment: dict) -> dict | None:
    regimens = assessment.get("regimens") or []
    strategy = assessment.get("strategy")
    if assessment.get("timing") != "treat-now" or strategy not in STRATEGY_LABEL:
        return None
    g = _guidance(assessment)
    top = [r["code"] for r in regimens[:3]]
    label = STRATEGY_LABEL[strategy]
    if top:
        listed = ", ".join(top[:-1]) + " or " + top[-1] if len(top) > 1 else top[0]
        # The ranking may put other-class regimens first (high-risk disease: anti-CD38 triplets,
        # section 7); say why, so the strategy and the list never read as a contradiction.
        high_risk = any("high-risk" in " ".join(r.get("rationale") or []) for r in regimens[:3])
        summary = f"{label}; top options: {listed}" + (" (anti-CD38 first: high-risk disease)" if high_risk else "")
    else:
        summary = f"{label}: no listed regimen fits this patient; review options with the myeloma team"
    warned_first = bool(regimens) and bool(regimens[0].get("warning"))
    parts = [f"**Strategy: {strategy}**", md_list((g.get("strategy") or {}).get("reasons") or [])]
    intensity = g.get("intensity") or {}
    if intensity.get("reduced"):
        parts.append(f"**Intensity reduced:** {intensity.get('reason')}")
    if regimens:
        parts.append("**Ranked options** (best first):\n\n" + regimen_table(regimens))
    excluded = g.get("excludedRegimens") or []
    if excluded:
        parts.append("**Not offered:**\n" + md_list([f"{e['code']}: {e['reason']}" for e in excluded]))
    parts += _closing(assessment, f"{REVIEW_2025} (Figure 2, key recommendations 2 and 3, trial results as "
                      "reported there).", "Advisory only: choose with the patient and the myeloma MDT; the "
                      "service does not order.")
    return make_card(
        summary=summary,
        indicator="warning" if warned_first else "info",
        topic="treatment-options",
        source_label=REVIEW_SOURCE["label"],
        source_url=REVIEW_SOURCE["url"],
        detail="\n\n".join(p for p in parts if p),
        override_reasons=override_reasons("clinical-judgement", "patient-preference", "data-incomplete"),
    )


def render(assessment: dict, *, config=None) -> list[dict]:
    return [c for c in (timing_card(assessment), options_card(assessment)) if c]
