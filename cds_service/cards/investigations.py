"""Investigations before treatment (docs/clinical-model.md#investigations; the review's Table 1)
as ONE order-set suggestion.

The missing or stale tests form one suggestion whose actions create one draft ServiceRequest
(status draft, intent proposal) per coded test: LOINC for laboratory tests, a panel as the
tests it contains (free light chains as kappa AND lambda, PT AND aPTT), the reason in
`reasonCode` text. ECOG and the neuropathy examination are clinical assessments: listed for
the visit, never drafted. A test with no verified code is listed for the local catalogue and
not drafted (an uncoded order is worse than none). The clinician signs; the service never orders.
"""
from __future__ import annotations

import uuid

from cds_service.cards.common import ADVISORY, REVIEW, REVIEW_SHORT, make_card, md_list
from cds_service.cards.words import day, drug_names, join_and, plural
from fhir_mappings.terminology import (
    investigation_is_assessment,
    investigation_order_codings,
)
from myeloma_model.contract import Assessment, MissingInvestigation
from myeloma_model.thresholds import IVIG_IGG_G_L, RELAPSE_MARKERS_CURRENT_DAYS, STALE_IMAGING_DAYS, STALE_LAB_DAYS

# Clinical names and Table 1 purposes, by the assessment's investigation code.
LABELS = {
    "ecog": "ECOG performance status",
    "fbc": "Full blood count",
    "spep": "Serum protein electrophoresis (SPEP) with immunofixation",
    "sflc": "Serum free light chains (kappa and lambda)",
    "renal-profile": "Renal profile (creatinine, eGFR)",
    "b2m-albumin": "Beta-2 microglobulin and albumin",
    "coagulation": "PT and aPTT",
    "blood-group": "Blood group and antibody screen",
    "urine-24h-protein": "24-hour urine protein electrophoresis",
    "marrow-biopsy-fish": "Bone marrow aspirate and biopsy with FISH",
    "pet-ct": "PET-CT",
    "hbv-hcv-hiv": "Hepatitis B, hepatitis C and HIV serology",
    "cmv-ebv": "CMV and EBV serology",
    "echocardiogram": "Echocardiogram",
    "neuropathy-assessment": "Peripheral neuropathy examination",
    "igg": "Serum IgG",
}
SHORT = {"fbc": "FBC", "spep": "SPEP", "sflc": "free light chains", "renal-profile": "renal profile",
         "b2m-albumin": "beta-2 microglobulin and albumin", "coagulation": "PT/aPTT", "blood-group": "blood group",
         "urine-24h-protein": "24-hour urine", "marrow-biopsy-fish": "marrow with FISH", "pet-ct": "PET-CT",
         "hbv-hcv-hiv": "hepatitis B/C and HIV", "cmv-ebv": "CMV/EBV", "echocardiogram": "echo",
         "ecog": "ECOG", "neuropathy-assessment": "neuropathy examination", "igg": "IgG"}
REASONS = {
    "ecog": "Functional status guides treatment intensity; frail patients may be better suited to doublets (Rd, Pd)",
    "fbc": "Cytopenias before treatment (common with lenalidomide, pomalidomide and bortezomib)",
    "spep": "Baseline M-protein to measure the response to relapse treatment",
    "sflc": "Baseline free light chains (essential in light-chain or non-secretory disease)",
    "renal-profile": "Lenalidomide and pomalidomide are renally excreted and need dose adjustment",
    "b2m-albumin": "Prognosis and ISS staging",
    "coagulation": "Clotting function before an immunomodulatory drug (thromboembolism risk)",
    "blood-group": "Daratumumab and isatuximab interfere with cross-matching: type before the first dose",
    "urine-24h-protein": "Bence Jones proteinuria; a disease-burden marker",
    "marrow-biopsy-fish": "Marrow infiltration and high-risk cytogenetics guide the choice",
    "pet-ct": "Extramedullary disease before CAR-T or a bispecific antibody",
    "hbv-hcv-hiv": "Viral reactivation under antibody and cellular therapy",
    "cmv-ebv": "Viral reactivation with CAR-T and bispecific antibodies",
    "echocardiogram": "Baseline cardiac function: carfilzomib can be cardiotoxic",
    "neuropathy-assessment": "Bortezomib, thalidomide and ixazomib cause peripheral neuropathy",
    "igg": f"Baseline IgG before CAR-T or a bispecific: IVIG when IgG < {IVIG_IGG_G_L:g} g/L or infections recur",
}


def draft_service_request(patient_id: str, coding: dict, label: str, reason: str | None,
                          occurrence: dict | None = None) -> dict:
    """A draft ServiceRequest for one coded test (FHIR R4 JSON)."""
    resource = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "code": {"coding": [dict(coding)], "text": label},
        "subject": {"reference": f"Patient/{patient_id}"},
    }
    if occurrence:
        resource["occurrencePeriod"] = occurrence
    if reason:
        resource["reasonCode"] = [{"text": reason}]
    return resource


def orderable(code: str) -> bool:
    return bool(investigation_order_codings(code)) and not investigation_is_assessment(code)


def order_set_suggestion(patient_id: str | None, codes: list[str], *, label: str,
                         reasons: dict[str, str] | None = None, occurrence: dict | None = None,
                         config=None) -> dict | None:
    """ONE suggestion creating a draft ServiceRequest per coded test of `codes` for the patient
    (None when none of them can be drafted)."""
    patient_id = patient_id or "unknown"
    reasons = reasons or {}
    actions = []
    for code in codes:
        if not orderable(code):
            continue
        for coding in investigation_order_codings(code):
            test_label = coding.get("display") or LABELS.get(code, code)
            actions.append({
                "type": "create",
                "description": f"Draft order: {test_label}",
                "resource": draft_service_request(patient_id, coding, test_label,
                                                  reasons.get(code) or REASONS.get(code), occurrence),
            })
    if not actions:
        return None
    return {"label": label, "uuid": str(uuid.uuid4()), "actions": actions}


def _line(item: MissingInvestigation) -> str:
    """"Echocardiogram: last 3 Jan 2025, older than 90 days. Baseline cardiac function ... (KRd, DKd)"."""
    code = item.code
    if item.status == "stale" and item.last_done:
        age = f"older than {item.max_age_days} days" if item.max_age_days else "out of date"
        state = f"last {day(item.last_done)}, {age}"
    else:
        state = "not on record"
    regs = item.for_regimens
    for_text = ""
    if regs:
        for_text = f" (for {', '.join(regs[:4])} and others)" if len(regs) > 4 else f" (for {join_and(regs)})"
    return f"{LABELS.get(code, code)}: {state}. {REASONS.get(code, '')}{for_text}."


def investigations_card(assessment: Assessment, *, config=None) -> dict | None:
    if assessment.guidance is not None:
        items = list(assessment.guidance.investigations)
    else:
        items = [MissingInvestigation(c, "missing", None, None, investigation_is_assessment(c))
                 for c in assessment.missing_investigations]
    if not items:
        return None
    drafted = [i for i in items if orderable(i.code)]
    visit = [i for i in items if investigation_is_assessment(i.code)]
    elsewhere = [i for i in items if i not in drafted and i not in visit]
    suggestion = order_set_suggestion(assessment.patient_id, [i.code for i in drafted], label="", config=config)
    n_orders = len(suggestion["actions"]) if suggestion else 0
    if suggestion:
        suggestion["label"] = (f"Order the pre-treatment tests ({plural(len(drafted), 'test')}, "
                               f"{plural(n_orders, 'draft order')})")
    summary = ""
    for named in (True, False):  # the names of the tests when they fit, else their number
        head = []
        if drafted:
            what = ", ".join(SHORT[i.code] for i in drafted) if named else plural(len(drafted), "test")
            head.append(f"{what} in one draft order set")
        if visit:
            head.append(join_and([SHORT[i.code] for i in visit]) + " at the visit")
        if elsewhere:
            head.append(f"{len(elsewhere)} more to order locally")
        summary = "Before treatment: " + "; ".join(head)
        if len(summary) < 140:
            break
    parts = []
    if drafted:
        parts.append(f"**Draft order set** ({n_orders} coded orders; review and sign in the EHR):\n"
                     + md_list([_line(i) for i in drafted], limit=12))
    if visit:
        parts.append("**At the visit** (clinical assessments, not orders):\n" + md_list([_line(i) for i in visit]))
    if elsewhere:
        parts.append("**Also needed, not drafted** (no verified code: order from the local catalogue):\n"
                     + md_list([_line(i) for i in elsewhere]))
    parts.append(f"Laboratory tests count as current for {STALE_LAB_DAYS} days (the SPEP and free light chains that "
                 f"established the relapse for {RELAPSE_MARKERS_CURRENT_DAYS} days); imaging, echo and marrow for "
                 f"{STALE_IMAGING_DAYS} days; serologies and blood group once.")
    parts += [f"Source: {REVIEW_SHORT}, Table 1 (investigations before treatment).", ADVISORY]
    return make_card(
        summary=summary, indicator="info", topic="investigations", source=REVIEW,
        detail="\n\n".join(parts),
        suggestions=[suggestion] if suggestion else None,
        selection_behavior="at-most-one",
        override_reason_codes=("already-addressed", "clinical-judgement", "data-incomplete"), config=config,
    )


def prerequisite_lines(items: list[MissingInvestigation]) -> list[str]:
    return [_line(i) for i in items]


def tests_for_drug_text(codes: list[str], drug: str) -> str:
    return f"Before {drug_names([drug])}: " + join_and([SHORT.get(c, c) for c in codes]) + " missing or out of date"
