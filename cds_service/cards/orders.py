"""Cards for the order-select / order-sign services: one card per finding of
myeloma_model.guidance.orders (refractoriness, comorbidity caution, missing Table 1 test),
worded here from the finding's kind and drug and from the assessment's codes and values.

A warning on a draft order offers, as CDS Hooks 2.0 suggestions, to remove the draft
(`delete` action on it) and, when the ranked options hold an alternative without that drug
whose drugs all have a verified RxNorm code, to replace it (delete + `create` draft
MedicationRequests). A missing prerequisite offers one draft order set for its coded tests.
Resource ids never appear in the text. The clinician decides; nothing is signed.
"""
from __future__ import annotations

import uuid

from cds_service.cards.common import ADVISORY, REVIEW, REVIEW_SHORT, make_card, md_list
from cds_service.cards.investigations import (
    LABELS,
    SHORT,
    order_set_suggestion,
    orderable,
    prerequisite_lines,
)
from cds_service.cards.treatment import CAUTION_DRUGS, CAUTIONS
from cds_service.cards.words import class_name, drug_name, drug_names, join_and, months
from fhir_mappings.terminology import (
    drug_ingredient_coding,
    investigation_is_assessment,
)
from myeloma_model.drug_classes import drug_class
from myeloma_model.thresholds import (
    REFRACTORY_WINDOW_DAYS,
    RETREAT_MONTHS_ON_DRUG,
    RETREAT_MONTHS_SINCE_LAST_DOSE,
)

TOPIC = {"refractory": "treatment-options", "comorbidity": "safety", "prerequisite": "investigations"}
OVERRIDES = ("benefit-outweighs-risk", "already-addressed", "clinical-judgement", "data-incomplete")


def _alternative(assessment: dict, drug: str) -> dict | None:
    """The first ranked regimen without the ordered drug or any drug the disease is refractory to."""
    refractory = {d for d, i in (assessment.get("drugs") or {}).items() if i.get("refractory")}
    for r in assessment.get("regimens") or []:
        drugs = set(r.get("drugs") or [])
        if drug not in drugs and not drugs & refractory:
            return r
    return None


def _time_line(drug: str, info: dict) -> str:
    signal = "met" if info.get("retreatmentSignal") else "not met"
    if info.get("active"):
        taken = f"{months(info.get('monthsOnDrug')).capitalize()} on {drug_name(drug)}, still taking it"
    else:
        taken = (f"{months(info.get('monthsOnDrug')).capitalize()} on {drug_name(drug)}, "
                 f"{months(info.get('monthsSinceLastDose'))} since the last dose")
    return (f"{taken}; the retreatment signal "
            f"(> {RETREAT_MONTHS_ON_DRUG:g} months on it or > {RETREAT_MONTHS_SINCE_LAST_DOSE:g} months since it; "
            f"Goel 2024, retrospective) is {signal}.")


def _refractory_text(finding, assessment: dict) -> tuple[str, list[str]]:
    drug = finding.drug
    drugs = assessment.get("drugs") or {}
    own = drugs.get(drug) or {}
    name = drug_name(drug)
    if own.get("refractory"):
        lines = [f"The disease progressed on {name} or within {REFRACTORY_WINDOW_DAYS} days of its last dose.",
                 _time_line(drug, own)]
        if finding.indicator == "info":
            return f"Refractory to {name}, but the retreatment signal holds: retreatment can be considered", lines
        return f"Refractory to {name}: retreatment is unlikely to work", lines
    cls = drug_class(drug)
    same = [d for d, i in drugs.items() if d != drug and i.get("refractory") and i.get("class") == cls]
    lines = [f"Refractory to {drug_names(same)} ({class_name(cls)}); {name} may keep some activity, "
             "but class resistance is possible."]
    if own:
        lines.append(_time_line(drug, own))
    return f"Refractory to {drug_names(same) or 'a drug of the same class'}, the class of {name}", lines


def _comorbidity_text(finding, assessment: dict) -> tuple[str, list[str]]:
    cautions = [c for c in (assessment.get("fitness") or {}).get("cautions") or []
                if finding.drug in CAUTION_DRUGS.get(c, set())]
    lines = [CAUTIONS.get(c, "a comorbidity caution applies").capitalize() + "." for c in cautions]
    lead = CAUTIONS.get(cautions[0], "comorbidity caution") if cautions else "comorbidity caution"
    return f"{drug_name(finding.drug).capitalize()}: {lead}", lines


def _prerequisite_text(finding, assessment: dict) -> tuple[str, list[str]]:
    codes = [t["code"] for t in finding.tests]
    lines = prerequisite_lines(finding.tests)
    drafted = [SHORT.get(c, c) for c in codes if orderable(c)]
    visit = [SHORT.get(c, c) for c in codes if investigation_is_assessment(c)]
    local = [SHORT.get(c, c) for c in codes if not orderable(c) and not investigation_is_assessment(c)]
    if drafted:
        lines.append(f"In the draft order set: {join_and(drafted)}.")
    if visit:
        lines.append(f"At the visit (not an order): {join_and(visit)}.")
    if local:
        lines.append(f"Not drafted (no verified code; order from the local catalogue): {join_and(local)}.")
    return (f"Before {drug_name(finding.drug)}: " + join_and([SHORT.get(c, LABELS.get(c, c)) for c in codes])
            + " missing or out of date", lines)


TEXT = {"refractory": _refractory_text, "comorbidity": _comorbidity_text, "prerequisite": _prerequisite_text}


def _medication_request(patient_id: str, drug: str, regimen: str) -> dict | None:
    coding = drug_ingredient_coding(drug)
    if coding is None:
        return None
    return {"resourceType": "MedicationRequest", "status": "draft", "intent": "proposal",
            "medicationCodeableConcept": {"coding": [coding], "text": drug_name(drug)},
            "subject": {"reference": f"Patient/{patient_id}"},
            "note": [{"text": f"Part of {regimen}; dose and schedule to be set by the prescriber."}]}


def _order_suggestions(finding, assessment: dict, patient_id: str, order_ref: str | None) -> list[dict]:
    if finding.indicator != "warning" or not order_ref:
        return []
    name = drug_name(finding.drug)
    delete = {"type": "delete", "description": f"Remove the draft {name} order", "resourceId": order_ref}
    out = [{"label": f"Remove the draft {name} order", "uuid": str(uuid.uuid4()), "actions": [delete]}]
    alt = _alternative(assessment, finding.drug) if finding.kind == "refractory" else None
    if alt:
        creates = [_medication_request(patient_id, d, alt["code"]) for d in alt.get("drugs") or []]
        if creates and all(creates):
            out.insert(0, {
                "label": f"Replace with {alt['code']} ({', '.join(drug_name(d) for d in alt['drugs'])}) as draft orders",
                "uuid": str(uuid.uuid4()),
                "actions": [delete] + [{"type": "create", "description": f"Draft order: {drug_name(r_drug)} ({alt['code']})",
                                        "resource": res} for r_drug, res in zip(alt["drugs"], creates)],
            })
    return out


def finding_card(finding, *, patient_id: str, order_ref: str | None, assessment: dict | None = None,
                 config=None) -> dict:
    assessment = assessment or {}
    summary, lines = TEXT[finding.kind](finding, assessment)
    alt = _alternative(assessment, finding.drug) if finding.kind == "refractory" and finding.indicator == "warning" else None
    if alt:
        lines.append(f"Alternative from the same rules: {alt['code']} "
                     f"({', '.join(drug_name(d) for d in alt.get('drugs') or [])}), the first ranked option "
                     "without this drug.")
    suggestions = _order_suggestions(finding, assessment, patient_id, order_ref)
    if finding.kind == "prerequisite":
        order_set = order_set_suggestion({"patientId": patient_id}, [t["code"] for t in finding.tests],
                                         label=f"Order the tests needed before {drug_name(finding.drug)} (draft orders)",
                                         config=config)
        if order_set:
            suggestions.insert(0, order_set)
    source_part = {"refractory": "refractoriness and retreatment",
                   "comorbidity": "patient-specific factors",
                   "prerequisite": "Table 1, investigations before treatment"}[finding.kind]
    detail = "\n\n".join([md_list(lines), f"Source: {REVIEW_SHORT}, {source_part}.", ADVISORY])
    return make_card(
        summary=summary, indicator=finding.indicator, topic=TOPIC[finding.kind], source=REVIEW, detail=detail,
        suggestions=suggestions or None, selection_behavior="at-most-one",
        override_reason_codes=OVERRIDES, config=config,
    )


def render_order_findings(findings: list[tuple[object, str | None]], *, patient_id: str,
                          assessment: dict | None = None, config=None) -> list[dict]:
    """findings: (Finding, "MedicationRequest/id" or None) pairs."""
    return [finding_card(f, patient_id=patient_id, order_ref=ref, assessment=assessment, config=config)
            for f, ref in findings]
