"""Timing of treatment (docs/clinical-model.md#timing).

clinical -> treat now; biochemical -> treat now by default (EMN view), close surveillance the
alternative the patient may prefer, unless a high-risk relapse feature makes surveillance
unsafe (each feature named by the card layer); suspected -> repeat the marker to confirm;
otherwise none. Stale data (docs/clinical-model.md#freshness: the latest marker result more
than 180 days old) -> confirm whatever the status; the status's own value is kept as
`statusValue`, so strategy and regimens are still computed and shown as provisional. Codes
only: the wording is in cds_service/cards/.
"""
from __future__ import annotations

from myeloma_model.contract import Assessment, TimingAdvice

TREAT_NOW, CONFIRM, NONE = "treat-now", "confirm", "none"


def timing_value(status: str, freshness: str | None = None) -> str:
    """The contract's `timing` for a relapse status (and the data's freshness)."""
    if freshness == "stale":
        return CONFIRM
    if status in ("clinical", "biochemical"):
        return TREAT_NOW
    if status == "suspected":
        return CONFIRM
    return NONE


def advise_timing(assessment: Assessment) -> TimingAdvice:
    """The contract's `timing` (`value`) and, for the relapse card, its reasons, the high-risk
    relapse features and the surveillance verdict.

    `reasons` are codes (the card layer words them): `clinical-relapse`, `biochemical-default`,
    `surveillance-unsafe`, `surveillance-alternative`, `significant-paraprotein-relapse`,
    `repeat-to-confirm`, `stale-results` (first when the data are stale). `surveillance`: "alternative" (biochemical, no high-risk feature),
    "unsafe" (biochemical with a high-risk feature, or clinical relapse), None when no
    treatment decision is due.
    """
    status = assessment.relapse.status
    status_value = timing_value(status)
    stale = assessment.data_freshness == "stale"
    value = timing_value(status, assessment.data_freshness)
    features = list(assessment.risk.high_risk_relapse_features)
    reasons: list[str] = []
    surveillance = None
    if status == "clinical":
        reasons.append("clinical-relapse")
        surveillance = "unsafe"
    elif status == "biochemical":
        reasons.append("biochemical-default")
        surveillance = "unsafe" if features else "alternative"
        reasons.append(f"surveillance-{surveillance}")
        if assessment.relapse.significant_paraprotein_relapse:
            reasons.append("significant-paraprotein-relapse")
    elif status == "suspected":
        reasons.append("repeat-to-confirm")
    if stale:
        reasons.insert(0, "stale-results")  # repeat SPEP and FLC before deciding; any advice is provisional
    return TimingAdvice(reasons=tuple(reasons), high_risk_relapse_features=tuple(features),
                        surveillance=surveillance, stale=stale, value=value, status_value=status_value)
