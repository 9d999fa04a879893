"""Cards for the order-select / order-sign services: one card per finding of
myeloma_model.guidance.orders (refractoriness, comorbidity caution, missing Table 1 test).

Topics: refractoriness -> treatment-options, comorbidity -> safety, prerequisites ->
investigations (with draft ServiceRequest suggestions). Advisory: nothing is ordered.
"""
from __future__ import annotations

from cds_service.cards.common import REVIEW_2025, make_card, md_list
from cds_service.cards.investigations import suggestion_for
from cds_service.cards.treatment import REVIEW_SOURCE, override_reasons

TOPIC = {"refractory": "treatment-options", "comorbidity": "safety", "prerequisite": "investigations"}
SOURCE_PART = {
    "refractory": "refractoriness and retreatment (Goel et al. 2024 time on / off the drug)",
    "comorbidity": "patient-specific factors (cardiac disease, neuropathy, renal impairment)",
    "prerequisite": "Table 1, investigations before treatment",
}


def finding_card(finding, *, patient_id: str, order_ref: str | None) -> dict:
    parts = [md_list(finding.reasons)]
    if order_ref:
        parts.append(f"Draft order: `{order_ref}`.")
    parts.append(f"Source: {REVIEW_2025}, {SOURCE_PART[finding.kind]}.")
    parts.append("_Advisory only: the service does not change or sign the order._")
    suggestions = [suggestion_for(patient_id, t) for t in finding.tests] if finding.tests else None
    return make_card(
        summary=finding.summary,
        indicator=finding.indicator,
        topic=TOPIC[finding.kind],
        source_label=REVIEW_SOURCE["label"] + (", Table 1" if finding.kind == "prerequisite" else ""),
        source_url=REVIEW_SOURCE["url"],
        detail="\n\n".join(parts),
        suggestions=suggestions,
        selection_behavior="any" if suggestions else None,
        override_reasons=override_reasons("benefit-outweighs-risk", "already-addressed", "clinical-judgement",
                                          "data-incomplete"),
    )


def render_order_findings(findings: list[tuple[object, str | None]], *, patient_id: str) -> list[dict]:
    """findings: (Finding, "MedicationRequest/id" or None) pairs."""
    return [finding_card(f, patient_id=patient_id, order_ref=ref) for f, ref in findings]
