"""Card rendering: assessment -> CDS Hooks cards (templates apart from clinical logic).

Each card module exposes `render(assessment, *, config) -> list[card]`; RENDERERS lists them
in display order. The guidance layer appends its modules here.
"""
from __future__ import annotations

from cds_service.cards import investigations, relapse_status, safety, treatment
from cds_service.cards.common import with_timeline_link

RENDERERS = [relapse_status.render, treatment.render, investigations.render, safety.render]


def render_patient_view(assessment: dict, *, config=None) -> list[dict]:
    if not assessment.get("inScope"):
        return []
    cards: list[dict] = []
    for render in RENDERERS:
        cards.extend(render(assessment, config=config))
    return with_timeline_link(cards, config)
