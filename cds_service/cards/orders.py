"""Cards for the order-select / order-sign services: one card per finding of
myeloma_model.guidance.orders (refractoriness, eligibility, comorbidity caution, missing Table 1
test), worded with the options card's words (treatment_words).

A warning card names the alternative (the strategy's first eligible regimen without the ordered
drug) and offers a suggestion that removes the draft order (CDS Hooks `delete` action on it).
Topics: refractoriness and eligibility -> treatment-options, comorbidity -> safety,
prerequisites -> investigations (with draft ServiceRequest suggestions). The service advises:
nothing is changed unless the clinician accepts a suggestion.
"""
from __future__ import annotations

import uuid
from dataclasses import replace

from cds_service.cards.common import REVIEW_2025, make_card, md_list
from cds_service.cards.investigations import suggestion_for
from cds_service.cards.treatment import REVIEW_SOURCE, not_offered_text, override_reasons
from cds_service.cards.treatment_words import NOT_OFFERED_TEXT, caution_text
from myeloma_model.guidance.regimens import GOEL_2024, WARNING_CAUTIONS
from myeloma_model.thresholds import REFRACTORY_WINDOW_DAYS, RETREAT_MONTHS_ON_DRUG, RETREAT_MONTHS_SINCE_LAST_DOSE

TOPIC = {"refractory": "treatment-options", "eligibility": "treatment-options", "comorbidity": "safety",
         "prerequisite": "investigations"}
SOURCE_PART = {
    "refractory": "refractoriness and retreatment (Goel et al. 2024 time on / off the drug)",
    "eligibility": "the regimens and the patients they were studied in",
    "comorbidity": "patient-specific factors (cardiac disease, neuropathy, renal impairment, thromboembolism)",
    "prerequisite": "Table 1, investigations before treatment",
}


def _months(m) -> str:
    return "unknown" if m is None else f"{m:.1f}"


def refractory_words(f) -> tuple[str, list[str]]:
    v = f.values
    times = (f"{_months(v.get('monthsOnDrug'))} months on {f.drug}, {_months(v.get('monthsSinceLastDose'))} months "
             "since the last dose.")
    if f.indicator == "info":
        return (f"Disease was refractory to {f.drug}, but the retreatment signal holds: retreatment may be considered",
                [times, (f"Signal: > {RETREAT_MONTHS_ON_DRUG:g} months on the drug or > "
                         f"{RETREAT_MONTHS_SINCE_LAST_DOSE:g} months since it, for a drug stopped before the relapse."),
                 f"{GOEL_2024.trial}: {GOEL_2024.figures}. Retrospective evidence only."])
    if v.get("activeAtRelapse"):
        return (f"Disease progressed while on {f.drug}: continuing it is not retreatment",
                [f"{f.drug} was being given when the disease progressed.", times,
                 "Giving it again would continue a failing drug; the retreatment signal does not apply."])
    return (f"Disease is refractory to {f.drug}: retreatment is unlikely to work",
            [f"Progression on {f.drug} or within {REFRACTORY_WINDOW_DAYS} days of its last dose.", times,
             (f"The retreatment signal (> {RETREAT_MONTHS_ON_DRUG:g} months on it or > "
              f"{RETREAT_MONTHS_SINCE_LAST_DOSE:g} months since it) does not hold.")])


def eligibility_words(f, assessment: dict) -> tuple[str, list[str]]:
    v = f.values
    reasons = v.get("reasons") or []
    if "frailty" in reasons:
        summary = (f"{f.drug} is not suitable for this patient: frail (age {v.get('age')}, ECOG {v.get('ecog')})")
    elif "not-triple-class-exposed" in reasons:
        summary = f"{f.drug} is for triple-class exposed disease; this patient is not triple-class exposed"
    else:
        summary = f"{f.drug}: none of its regimens fits this patient as the review states them"
    lines = [not_offered_text(n, assessment) for n in v.get("regimens") or []]
    if not lines:  # a drug in no listed regimen (e.g. cevostamab): only the frailty rule applies
        lines = [NOT_OFFERED_TEXT[r] for r in reasons]
    return summary, lines


def comorbidity_words(f) -> tuple[str, list[str]]:
    cautions = f.values["cautions"]
    lead = next((c for c in cautions if c in WARNING_CAUTIONS), cautions[0])
    return f"{f.drug}: {caution_text(lead)}", [caution_text(c) for c in cautions]


def prerequisite_words(f) -> tuple[str, list[str]]:
    names = ", ".join(i["label"] for i in f.tests)
    return (f"Before {f.drug}: {names} missing or out of date",
            [f"{i['label']}: {i['status']}" + (f" (last {i['lastDone']})" if i["lastDone"] else "")
             + f"; {i['reason']}" for i in f.tests])


def delete_suggestion(order_ref: str, drug: str) -> dict:
    """CDS Hooks 2.0 `delete` action on the draft order (docs/cds-hooks.md section 5: resourceId)."""
    return {
        "label": f"Remove the draft {drug} order",
        "uuid": str(uuid.uuid4()),
        "actions": [{"type": "delete", "description": f"Remove the draft order for {drug} ({order_ref}).",
                     "resourceId": order_ref}],
    }


def finding_card(finding, *, assessment: dict, patient_id: str, order_ref: str | None) -> dict:
    finding = replace(finding, drug=finding.drug.replace("-", " "))  # contract key -> drug name
    if finding.kind == "refractory":
        summary, lines = refractory_words(finding)
    elif finding.kind == "eligibility":
        summary, lines = eligibility_words(finding, assessment)
    elif finding.kind == "comorbidity":
        summary, lines = comorbidity_words(finding)
    else:
        summary, lines = prerequisite_words(finding)
    parts = [md_list(lines)]
    suggestions = [suggestion_for(patient_id, t) for t in finding.tests]
    if finding.indicator == "warning" and finding.kind != "prerequisite":
        if finding.alternative:
            summary = f"{summary}; consider {finding.alternative}"
            parts.append(f"**Alternative:** {finding.alternative}, the first regimen of the treatment options "
                         "that suits this patient.")
        if order_ref:
            suggestions.append(delete_suggestion(order_ref, finding.drug))
    if order_ref:
        parts.append(f"Draft order: `{order_ref}`.")
    parts.append(f"Source: {REVIEW_2025}, {SOURCE_PART[finding.kind]}.")
    parts.append("_Advisory only: the service changes nothing unless you accept a suggestion._")
    return make_card(
        summary=summary,
        indicator=finding.indicator,
        topic=TOPIC[finding.kind],
        source_label=REVIEW_SOURCE["label"] + (", Table 1" if finding.kind == "prerequisite" else ""),
        source_url=REVIEW_SOURCE["url"],
        detail="\n\n".join(parts),
        suggestions=suggestions or None,
        selection_behavior="any" if finding.kind == "prerequisite" else "at-most-one",
        override_reasons=override_reasons("benefit-outweighs-risk", "already-addressed", "clinical-judgement",
                                          "data-incomplete"),
    )


def render_order_findings(findings: list[tuple[object, str | None]], *, assessment: dict,
                          patient_id: str) -> list[dict]:
    """findings: (Finding, "MedicationRequest/id" or None) pairs."""
    return [finding_card(f, assessment=assessment, patient_id=patient_id, order_ref=ref) for f, ref in findings]
