"""Cards for the order-select / order-sign services: one card per finding of
myeloma_model.guidance.orders (refractoriness, eligibility, comorbidity caution, missing Table 1
test), worded here from the finding's kind, drug and values, with the relapse card's words for
cautions and not-offered reasons (treatment_words.py, treatment.py).

A treatment warning on a draft order (refractory, not eligible, warning-level caution) names
the alternative the model chose (the first ranked regimen without the ordered drug) and offers,
as CDS Hooks 2.0 suggestions, to replace the draft with it (delete + `create` draft MedicationRequests, when every drug of the alternative has a
verified RxNorm code) or to remove it (`delete` action). A missing prerequisite offers one draft
order set for its coded tests, not the removal of the draft. Resource ids never appear in the text. The clinician decides;
nothing is signed.
"""
from __future__ import annotations

import uuid
from dataclasses import replace

from cds_service.cards.common import ADVISORY, REVIEW, REVIEW_SHORT, make_card, md_list
from cds_service.cards.investigations import (
    LABELS,
    SHORT,
    order_set_suggestion,
    orderable,
    prerequisite_lines,
)
from cds_service.cards.treatment import not_offered_reason
from cds_service.cards.treatment_words import NOT_OFFERED_TEXT, caution_text
from cds_service.cards.words import drug_name, join_and, months
from fhir_mappings.terminology import (
    drug_ingredient_coding,
    investigation_is_assessment,
)
from myeloma_model.contract import Assessment, DrugEntry
from myeloma_model.guidance.orders import RefractoryValues
from myeloma_model.guidance.regimens import GOEL_2024, WARNING_CAUTIONS
from myeloma_model.thresholds import (
    REFRACTORY_WINDOW_DAYS,
    RETREAT_MONTHS_ON_DRUG,
    RETREAT_MONTHS_SINCE_LAST_DOSE,
)

TOPIC = {"refractory": "treatment-options", "eligibility": "treatment-options", "comorbidity": "safety",
         "prerequisite": "investigations"}
OVERRIDES = ("benefit-outweighs-risk", "already-addressed", "clinical-judgement", "data-incomplete")


def _alternative(finding, assessment: Assessment | None) -> tuple[str, tuple[str, ...]] | None:
    """(code, drugs) of the ranked regimen the model named as the alternative (warnings only)."""
    code = getattr(finding, "alternative", None)
    if finding.indicator != "warning" or not code:
        return None
    regimen = next((r for r in (assessment.regimens if assessment else ()) if r.code == code), None)
    return code, (regimen.drugs if regimen else ())


def _time_line(drug: str, v: RefractoryValues, entry: DrugEntry | None) -> str:
    """Time on and off the drug against the retreatment signal; `v` the finding's times, `entry`
    the assessment's drug (signal, active)."""
    signal = "met" if entry and entry.retreatment_signal else "not met"
    if v.active_at_relapse:
        return (f"{months(v.months_on_drug).capitalize()} on {drug_name(drug)}, still taken when the disease "
                "progressed: giving it again would continue a failing drug; the retreatment signal does not apply.")
    if entry and entry.active:
        taken = f"{months(v.months_on_drug).capitalize()} on {drug_name(drug)}, still taking it"
    else:
        taken = (f"{months(v.months_on_drug).capitalize()} on {drug_name(drug)}, "
                 f"{months(v.months_since_last_dose)} since the last dose")
    return (f"{taken}; the retreatment signal "
            f"(> {RETREAT_MONTHS_ON_DRUG:g} months on it or > {RETREAT_MONTHS_SINCE_LAST_DOSE:g} months since it, "
            f"for a drug stopped before the relapse; Goel 2024, retrospective) is {signal}.")


def _refractory_values(finding, entry: DrugEntry | None) -> RefractoryValues:
    """The finding's values, the assessment's drug for those it leaves out."""
    v = finding.values if isinstance(finding.values, RefractoryValues) else RefractoryValues()
    if entry is None:
        return v
    return replace(v, **{f: getattr(entry, f) for f in ("months_on_drug", "months_since_last_dose",
                                                        "active_at_relapse", "last_dose")
                         if getattr(v, f) is None})


def _refractory_text(finding, assessment: Assessment | None) -> tuple[str, list[str]]:
    drug = finding.drug
    entry = assessment.drugs.get(drug) if assessment else None
    values = _refractory_values(finding, entry)
    name = drug_name(drug)
    lines = [f"The disease progressed on {name} or within {REFRACTORY_WINDOW_DAYS} days of its last dose.",
             _time_line(drug, values, entry)]
    if finding.indicator == "info":
        lines.append(f"{GOEL_2024.trial}: {GOEL_2024.figures}.")
        return f"Refractory to {name}, but the retreatment signal is met: retreatment may be considered", lines
    if values.active_at_relapse:
        return f"Disease progressed while on {name}: continuing it is not retreatment", lines
    return f"Refractory to {name}: retreatment is unlikely to work", lines


def _eligibility_text(finding, assessment: Assessment | None) -> tuple[str, list[str]]:
    v = finding.values
    reasons = v.reasons
    name = drug_name(finding.drug)
    if "frailty" in reasons:
        fit = []
        if v.age is not None:
            fit.append(f"age {v.age}")
        if v.ecog is not None:
            fit.append(f"ECOG {v.ecog}")
        summary = f"{name.capitalize()} is not suitable for a frail patient" + (f" ({', '.join(fit)})" if fit else "")
    elif "not-triple-class-exposed" in reasons:
        summary = f"{name.capitalize()} is for triple-class exposed disease; this patient is not triple-class exposed"
    else:
        summary = f"{name.capitalize()}: none of its regimens fits this patient as the review states them"
    lines = [f"{n.code}: {not_offered_reason(n, assessment)}." for n in v.regimens]
    if not lines:  # a drug in no listed regimen (e.g. cevostamab): only the frailty rule applies
        lines = [NOT_OFFERED_TEXT[r][0].upper() + NOT_OFFERED_TEXT[r][1:] + "." for r in reasons if r in NOT_OFFERED_TEXT]
    return summary, lines


def _comorbidity_text(finding, assessment: Assessment | None) -> tuple[str, list[str]]:
    cautions = list(finding.values.cautions if finding.values else ())
    lines = [caution_text(c)[0].upper() + caution_text(c)[1:] + "." for c in cautions]
    lead = next((c for c in cautions if c in WARNING_CAUTIONS), cautions[0] if cautions else None)
    return f"{drug_name(finding.drug).capitalize()}: {caution_text(lead) if lead else 'comorbidity caution'}", lines


def _prerequisite_text(finding, assessment: Assessment | None) -> tuple[str, list[str]]:
    codes = [t.code for t in finding.tests]
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


TEXT = {"refractory": _refractory_text, "eligibility": _eligibility_text, "comorbidity": _comorbidity_text,
        "prerequisite": _prerequisite_text}


def _medication_request(patient_id: str, drug: str, regimen: str) -> dict | None:
    coding = drug_ingredient_coding(drug)
    if coding is None:
        return None
    return {"resourceType": "MedicationRequest", "status": "draft", "intent": "proposal",
            "medicationCodeableConcept": {"coding": [coding], "text": drug_name(drug)},
            "subject": {"reference": f"Patient/{patient_id}"},
            "note": [{"text": f"Part of {regimen}; dose and schedule to be set by the prescriber."}]}


def _order_suggestions(finding, assessment: Assessment | None, patient_id: str,
                       order_ref: str | None) -> list[dict]:
    # missing baseline tests: the tests are offered instead (the drug may be right once done)
    if finding.indicator != "warning" or finding.kind == "prerequisite" or not order_ref:
        return []
    name = drug_name(finding.drug)
    delete = {"type": "delete", "description": f"Remove the draft {name} order", "resourceId": order_ref}
    out = [{"label": f"Remove the draft {name} order", "uuid": str(uuid.uuid4()), "actions": [delete]}]
    alt = _alternative(finding, assessment)
    if alt and alt[1]:
        code, drugs = alt
        creates = [_medication_request(patient_id, d, code) for d in drugs]
        if creates and all(creates):
            out.insert(0, {
                "label": f"Replace with {code} ({', '.join(drug_name(d) for d in drugs)}) as draft orders",
                "uuid": str(uuid.uuid4()),
                "actions": [delete] + [{"type": "create", "description": f"Draft order: {drug_name(r_drug)} ({code})",
                                        "resource": res} for r_drug, res in zip(drugs, creates, strict=True)],
            })
    return out


def finding_card(finding, *, patient_id: str, order_ref: str | None, assessment: Assessment | None = None,
                 config=None) -> dict:
    summary, lines = TEXT[finding.kind](finding, assessment)
    alt = _alternative(finding, assessment) if finding.kind != "prerequisite" else None
    if alt:
        code, drugs = alt
        names = ", ".join(drug_name(d) for d in drugs)
        lines.append(f"Alternative from the same rules: {code}" + (f" ({names})" if names else "")
                     + ", the first ranked option without this drug.")
        with_alt = f"{summary}; consider {code}"
        summary = with_alt if len(with_alt) < 140 else summary
    suggestions = _order_suggestions(finding, assessment, patient_id, order_ref)
    if finding.kind == "prerequisite":
        order_set = order_set_suggestion(patient_id, [t.code for t in finding.tests],
                                         label=f"Order the tests needed before {drug_name(finding.drug)} (draft orders)",
                                         config=config)
        if order_set:
            suggestions.insert(0, order_set)
    source_part = {"refractory": "refractoriness and retreatment",
                   "eligibility": "the regimens and the patients they were studied in",
                   "comorbidity": "patient-specific factors",
                   "prerequisite": "Table 1, investigations before treatment"}[finding.kind]
    detail = "\n\n".join([md_list(lines), f"Source: {REVIEW_SHORT}, {source_part}.", ADVISORY])
    return make_card(
        summary=summary, indicator=finding.indicator, topic=TOPIC[finding.kind], source=REVIEW, detail=detail,
        suggestions=suggestions or None, selection_behavior="at-most-one",
        override_reason_codes=OVERRIDES, config=config,
    )


def render_order_findings(findings: list[tuple[object, str | None]], *, patient_id: str,
                          assessment: Assessment | None = None, config=None) -> list[dict]:
    """findings: (Finding, "MedicationRequest/id" or None) pairs."""
    return [finding_card(f, patient_id=patient_id, order_ref=ref, assessment=assessment, config=config)
            for f, ref in findings]
