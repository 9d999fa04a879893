"""Investigations card (docs/clinical-model.md#investigations; the review's Table 1).

One suggestion per missing or stale test (selectionBehavior `any`); each suggestion's action
creates a draft ServiceRequest (status draft, intent proposal) coded with LOINC where the
terminology knows one (fhir_mappings.terminology.investigation_coding), else text only. The
clinician decides; the service never orders.
"""
from __future__ import annotations

import uuid

from cds_service.cards.common import REVIEW_2025, make_card
from cds_service.cards.treatment import REVIEW_SOURCE, override_reasons
from fhir_mappings.terminology import investigation_coding
from myeloma_model.thresholds import STALE_IMAGING_DAYS, STALE_LAB_DAYS


def _coding(code: str) -> dict | None:
    return investigation_coding(code)


def draft_service_request(patient_id: str, code: str, label: str, reason: str | None = None) -> dict:
    """A draft ServiceRequest for a Table 1 investigation (FHIR R4 JSON)."""
    concept: dict = {"text": label}
    coding = _coding(code)
    if coding:
        concept = {"coding": [coding], "text": label}
    resource = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "code": concept,
        "subject": {"reference": f"Patient/{patient_id}"},
    }
    if reason:
        resource["reasonCode"] = [{"text": reason}]
    return resource


def suggestion_for(patient_id: str, item: dict) -> dict:
    """{uuid, label, actions:[create draft ServiceRequest]} for one missing/stale investigation."""
    label = item.get("label") or item["code"]
    return {
        "label": f"Propose {label} (draft order)"[:120],
        "uuid": str(uuid.uuid4()),
        "actions": [{
            "type": "create",
            "description": f"Create a draft ServiceRequest for {label} ({item['code']}); the clinician signs it.",
            "resource": draft_service_request(patient_id, item["code"], label, item.get("reason")),
        }],
    }


def _row(item: dict) -> str:
    status = item["status"] if not item.get("lastDone") else f"{item['status']} (last {item['lastDone']})"
    regs = ", ".join(item.get("forRegimens") or []) or "all regimens"
    return f"| {item.get('label', item['code'])} | {status} | {item.get('needed', '')} | {item.get('reason', '')} | {regs} |"


def investigations_card(assessment: dict) -> dict | None:
    items = (assessment.get("guidance") or {}).get("investigations") or []
    if not items:
        items = [{"code": c, "label": c, "status": "missing"} for c in assessment.get("missingInvestigations") or []]
    if not items:
        return None
    patient_id = assessment.get("patientId") or "unknown"
    n = len(items)
    names = ", ".join(i.get("label", i["code"]) for i in items[:3])
    summary = f"{n} baseline test{'s' if n != 1 else ''} missing or out of date before treatment: {names}" + (
        "…" if n > 3 else "")
    table = ["| Test | Status | Needed | Why (Table 1) | For |", "|---|---|---|---|---|"] + [_row(i) for i in items]
    detail = "\n\n".join([
        f"Baseline investigations before starting relapse treatment (labs within {STALE_LAB_DAYS} days; imaging, "
        f"echo and marrow within {STALE_IMAGING_DAYS} days; serologies and blood group ever). Each suggestion creates a **draft** order only.",
        "\n".join(table),
        f"Source: {REVIEW_2025}, Table 1.",
    ])
    return make_card(
        summary=summary,
        indicator="info",
        topic="investigations",
        source_label=REVIEW_SOURCE["label"] + ", Table 1",
        source_url=REVIEW_SOURCE["url"],
        detail=detail,
        suggestions=[suggestion_for(patient_id, i) for i in items],
        selection_behavior="any",
        override_reasons=override_reasons("already-addressed", "clinical-judgement", "data-incomplete"),
    )


def render(assessment: dict, *, config=None) -> list[dict]:
    card = investigations_card(assessment)
    return [card] if card else []
