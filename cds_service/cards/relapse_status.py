"""The relapse-status card: the assessment's IMWG relapse status and the values behind it.

Indicator: critical for clinical relapse, warning for biochemical relapse, info otherwise
(suspected, none, unknown). Cites IMWG 2016 and the review.
"""
from __future__ import annotations

from cds_service.cards.common import IMWG_2016, REVIEW_2025, make_card, md_list
from myeloma_model.thresholds import PD_MARROW_PLASMA_CELL_RISE_POINTS, PD_RELATIVE_RISE, PD_URINE_ABSOLUTE_RISE_MG_24H

INDICATOR = {"clinical": "critical", "biochemical": "warning"}

CRITERION_LABELS = {
    "serum-m-protein": f"serum M-protein rise (>= {PD_RELATIVE_RISE:.0%} above nadir and by the absolute amount)",
    "urine-m-protein": f"urine M-protein rise (>= {PD_RELATIVE_RISE:.0%} above nadir and by >= {PD_URINE_ABSOLUTE_RISE_MG_24H:g} mg/24h)",
    "dflc": "involved-uninvolved free light chain difference (dFLC) rise",
    "marrow-plasma-cells": f"bone-marrow plasma cells up by >= {PD_MARROW_PLASMA_CELL_RISE_POINTS:g} percentage points",
}
CRAB_LABELS = {
    "hypercalcaemia": "hypercalcaemia",
    "anaemia": "anaemia (haemoglobin fall)",
    "renal": "renal impairment (creatinine rise)",
    "bone-lesion": "new bone lesion, plasmacytoma or extramedullary disease",
}
MARKER_LABELS = {
    "serumMProtein": "Serum M-protein",
    "urineMProtein": "Urine M-protein",
    "kappaFlc": "Free kappa",
    "lambdaFlc": "Free lambda",
    "involvedFlc": "Involved free light chain",
    "dFlc": "dFLC (involved minus uninvolved)",
    "flcRatio": "Kappa/lambda ratio",
    "marrowPlasmaCells": "Marrow plasma cells",
}


def _summary(relapse: dict) -> str:
    status = relapse.get("status", "unknown")
    since = f" since {relapse['date']}" if relapse.get("date") else ""
    if status == "clinical":
        crab = ", ".join(CRAB_LABELS.get(c, c).split(" (")[0] for c in relapse.get("crabFeatures", []))
        return f"Clinical relapse of myeloma (IMWG){since}: progression with {crab or 'clinical features'}"
    if status == "biochemical":
        spr = "; significant paraprotein relapse" if relapse.get("significantParaproteinRelapse") else ""
        return f"Biochemical relapse of myeloma (IMWG progression confirmed){since}{spr}"
    if status == "suspected":
        return "Possible myeloma progression on the latest result: repeat the marker to confirm"
    if status == "none":
        return "No myeloma progression by IMWG criteria on the available markers"
    return "Relapse status unknown: too few paraprotein or light-chain results to judge"


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _marker_table(markers: dict) -> str:
    rows = ["| Marker | Nadir | Latest | Unit |", "|---|---|---|---|"]
    for key, m in markers.items():
        if not isinstance(m, dict):
            continue
        nadir = f"{_fmt(m.get('nadir'))} ({m['nadirDate']})" if m.get("nadirDate") else _fmt(m.get("nadir"))
        latest = f"{_fmt(m.get('latest'))} ({m['latestDate']})" if m.get("latestDate") else _fmt(m.get("latest"))
        label = MARKER_LABELS.get(key, key)
        if m.get("chain"):
            label += f" ({m['chain']})"
        rows.append(f"| {label} | {nadir} | {latest} | {m.get('unit', '')} |")
    return "\n".join(rows) if len(rows) > 2 else ""


def _detail(assessment: dict) -> str:
    relapse = assessment.get("relapse") or {}
    status = relapse.get("status", "unknown")
    parts = [f"**Relapse status: {status}**" + (f" (first criterion met {relapse['date']})" if relapse.get("date") else "")]
    criteria = relapse.get("criteria") or []
    if criteria:
        parts.append("**Progression criteria met:**\n" + md_list([CRITERION_LABELS.get(c, c) for c in criteria]))
    crab = relapse.get("crabFeatures") or []
    if crab:
        parts.append("**CRAB / clinical features:**\n" + md_list([CRAB_LABELS.get(c, c) for c in crab]))
    if relapse.get("significantParaproteinRelapse"):
        parts.append("Significant paraprotein relapse criteria are met.")
    table = _marker_table(relapse.get("markers") or {})
    if table:
        parts.append(table)
    if status == "suspected":
        parts.append("A progression criterion holds on the latest result only; IMWG requires two consecutive results.")
    gaps = assessment.get("dataGaps") or []
    if gaps:
        parts.append("**Data not used:**\n" + md_list(gaps, limit=8))
    parts.append(f"Sources: IMWG consensus response criteria (Kumar et al., Lancet Oncol 2016); {REVIEW_2025}.")
    parts.append("_Advisory only: confirm against the patient's full record._")
    return "\n\n".join(parts)


def render(assessment: dict, *, config=None) -> list[dict]:
    relapse = assessment.get("relapse") or {}
    return [
        make_card(
            summary=_summary(relapse),
            indicator=INDICATOR.get(relapse.get("status"), "info"),
            topic="relapse-status",
            source_label=IMWG_2016["label"],
            source_url=IMWG_2016["url"],
            detail=_detail(assessment),
        )
    ]
