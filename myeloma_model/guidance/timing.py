"""Timing of treatment (docs/clinical-model.md#timing).

clinical -> treat now; biochemical -> treat now by default (EMN view), close surveillance the
alternative the patient may prefer, unless a high-risk relapse feature makes surveillance
unsafe (each feature named); suspected -> repeat the marker to confirm; otherwise none.
Stale data (section 10: the latest marker result more than 180 days old) -> confirm whatever
the status; the status's own value is kept as `statusValue`, so strategy and regimens are
still computed and shown as provisional.
"""
from __future__ import annotations

from myeloma_model.thresholds import (
    AGING_MAX_DAYS,
    EARLY_FIRST_RELAPSE_MONTHS,
    HEAVY_MARROW_INFILTRATION_PCT,
    RISING_B2M_RELATIVE,
)

TREAT_NOW, CONFIRM, NONE = "treat-now", "confirm", "none"

# Section 4's high-risk relapse features, as the card names them.
HIGH_RISK_FEATURE_TEXT: dict[str, str] = {
    "circulating-plasma-cells": "circulating plasma cells",
    "extramedullary": "extramedullary disease",
    "heavy-marrow-infiltration": f"heavy marrow infiltration (>= {HEAVY_MARROW_INFILTRATION_PCT:g}% plasma cells)",
    "high-risk-cytogenetics": "high-risk cytogenetics",
    "relapse-on-therapy": "relapse while on therapy",
    "early-first-relapse": f"first relapse < {EARLY_FIRST_RELAPSE_MONTHS:g} months from diagnosis",
    "rising-b2m": f"rapidly rising beta-2 microglobulin (>= {RISING_B2M_RELATIVE:.0%} above the start of the line)",
}


def timing_value(status: str, freshness: str | None = None) -> str:
    """The contract's `timing` for a relapse status (and the data's freshness)."""
    if freshness == "stale":
        return CONFIRM
    if status in ("clinical", "biochemical"):
        return TREAT_NOW
    if status == "suspected":
        return CONFIRM
    return NONE


def advise_timing(assessment: dict) -> dict:
    """{value, reasons, highRiskRelapseFeatures, surveillance} for the timing card.

    `surveillance`: "alternative" (biochemical, no high-risk feature), "unsafe" (biochemical with
    a high-risk feature, or clinical relapse), None when no treatment decision is due.
    """
    relapse = assessment.get("relapse") or {}
    status = relapse.get("status", "unknown")
    status_value = timing_value(status)
    stale = assessment.get("dataFreshness") == "stale"
    value = timing_value(status, assessment.get("dataFreshness"))
    features = list((assessment.get("risk") or {}).get("highRiskRelapseFeatures") or [])
    named = [HIGH_RISK_FEATURE_TEXT.get(f, f) for f in features]
    reasons: list[str] = []
    surveillance = None
    if status == "clinical":
        crab = ", ".join(relapse.get("crabFeatures") or []) or "clinical features"
        reasons.append(f"Clinical relapse (progression with {crab}): start treatment now.")
        surveillance = "unsafe"
    elif status == "biochemical":
        reasons.append(
            "Biochemical relapse: starting treatment now is the default advice (EMN: a biochemical "
            "relapse is a non-aggressive clinical relapse; earlier treatment improved PFS and OS in "
            "non-randomised studies)."
        )
        if features:
            surveillance = "unsafe"
            reasons.append("Surveillance is not safe because of high-risk relapse features: " + "; ".join(named) + ".")
        else:
            surveillance = "alternative"
            reasons.append(
                "No high-risk relapse feature on record: close surveillance (M-protein, free light chains, "
                "imaging) is an alternative if the patient prefers it."
            )
        if relapse.get("significantParaproteinRelapse"):
            reasons.append("Significant paraprotein relapse criteria are met.")
    elif status == "suspected":
        reasons.append("Progression criterion met on the latest result only: repeat the marker to confirm before treating.")
    if stale:
        reasons.insert(0, f"Repeat SPEP and FLC before deciding: the latest result ({relapse.get('latestMarkerDate')}) is "
                          f"more than {AGING_MAX_DAYS} days old; any advice below is provisional.")
    return {"value": value, "statusValue": status_value, "stale": stale, "reasons": reasons,
            "highRiskRelapseFeatures": features, "surveillance": surveillance}
