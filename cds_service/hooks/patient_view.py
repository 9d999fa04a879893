"""patient-view handler (`myeloma-relapse`): the relapse-status card and the guidance cards."""
from __future__ import annotations

from cds_service.cards import render_patient_view
from cds_service.hooks.declaration import ServiceCall
from cds_service.hooks.pipeline import evaluate_call


def handle_patient_view(call: ServiceCall) -> dict:
    """The `myeloma-relapse` handler: the relapse-status card and the guidance cards, from the
    typed assessment."""
    assessment = evaluate_call(call)
    if not assessment.in_scope:
        return {"cards": []}
    return {"cards": render_patient_view(assessment, config=call.config)}
