"""On-treatment safety cards (docs/clinical-model.md#safety): one warning card per finding."""
from __future__ import annotations

from cds_service.cards.common import REVIEW_2025, make_card
from cds_service.cards.treatment import REVIEW_SOURCE, override_reasons
from myeloma_model.thresholds import IVIG_IGG_G_L

SUMMARY = {
    "ivig-indicated": "IVIG recommended: low IgG or recurrent infections on a bispecific antibody / after CAR-T",
    "blood-group-before-transfusion": "On an anti-CD38 antibody with no blood group on record: warn the "
                                      "transfusion lab before any transfusion",
}
SECTION = {
    "ivig-indicated": f"the CAR-T and bispecific sections (IVIG when IgG < {IVIG_IGG_G_L:g} g/L or infections recur)",
    "blood-group-before-transfusion": "Table 1 (daratumumab interferes with blood compatibility testing)",
}


def render(assessment: dict, *, config=None) -> list[dict]:
    details = {s["code"]: s for s in (assessment.get("guidance") or {}).get("safety") or []}
    cards = []
    for code in assessment.get("safety") or []:
        found = details.get(code, {})
        detail = "\n\n".join(x for x in (
            found.get("reason"),
            f"Source: {REVIEW_2025}, {SECTION.get(code, 'on-treatment safety')}.",
            "_Advisory only._",
        ) if x)
        cards.append(make_card(
            summary=SUMMARY.get(code, code),
            indicator="warning",
            topic="safety",
            source_label=REVIEW_SOURCE["label"],
            source_url=REVIEW_SOURCE["url"],
            detail=detail,
            override_reasons=override_reasons("already-addressed", "clinical-judgement", "data-incomplete"),
        ))
    return cards
