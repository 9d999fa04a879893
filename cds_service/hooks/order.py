"""order-select / order-sign handlers (`myeloma-order-select`, `myeloma-order-sign`).

For each draft medication order in `context.draftOrders` (R4 MedicationRequest, DSTU2
MedicationOrder, in a Bundle with or without `type`; for order-select only the `selections`
when they can be matched), the anti-myeloma drugs are recognised with the mapping's drug
recognition (fhir_mappings.medications). No such drug (or only a corticosteroid) -> no cards and
no patient data fetched.
Otherwise the patient is assessed by the patient-view pipeline and each ordered drug is checked
(myeloma_model.guidance.orders) with the same appraisal that builds the patient-view options. A
warning card names an alternative regimen and suggests removing the draft (a `delete` action the
clinician may accept); the service itself never modifies the order.
"""
from __future__ import annotations


from cds_service.hooks import pipeline
from cds_service.cards.orders import render_order_findings
from cds_service.http.errors import bad_request
from cds_service.hooks.declaration import ServiceCall
from fhir_mappings.gaps import GapLog
from fhir_mappings.resource_set import is_fhir_id, medication_index
from fhir_mappings.medications import MedicationReader
from myeloma_model.drug_classes import is_steroid
from myeloma_model.guidance.orders import order_findings

ORDER_TYPES = ("MedicationRequest", "MedicationOrder")


def draft_resources(context: dict) -> list[dict]:
    """Resources of context.draftOrders (a Bundle, `type` optional, as the sandbox sends it)."""
    bundle = context.get("draftOrders")
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise bad_request("context.draftOrders must be a FHIR Bundle of draft orders.", expression="context.draftOrders")
    out = []
    for i, entry in enumerate(bundle.get("entry") or []):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            raise bad_request(f"context.draftOrders.entry[{i}].resource must be a FHIR resource.",
                              expression=f"context.draftOrders.entry[{i}].resource")
        out.append(res)
    return out


def selected_orders(body: dict, resources: list[dict]) -> list[dict]:
    orders = [r for r in resources if r["resourceType"] in ORDER_TYPES]
    if body.get("hook") != "order-select":
        return orders
    selections = set((body.get("context") or {}).get("selections") or [])
    chosen = [r for r in orders if f"{r['resourceType']}/{r.get('id')}" in selections]
    return chosen or orders  # selections that match nothing: check every draft order


def _well_formed_medication(order: dict) -> bool:
    """medication[x] (R4 medicationCodeableConcept / medicationReference, DSTU2 the same) has
    FHIR's shape: codings are objects whose system, code and display are strings."""
    concept = order.get("medicationCodeableConcept")
    if concept is not None:
        if not isinstance(concept, dict) or not isinstance(concept.get("text", ""), str):
            return False
        codings = concept.get("coding", [])
        return isinstance(codings, list) and all(
            isinstance(c, dict) and all(isinstance(c.get(k, ""), str) for k in ("system", "code", "display"))
            for c in codings)
    reference = order.get("medicationReference")
    return reference is None or (isinstance(reference, dict) and isinstance(reference.get("reference", ""), str))


def ordered_drugs(orders: list[dict], resources: list[dict]) -> list[tuple[str, str | None]]:
    """(contract drug key, "Type/id") for each anti-myeloma drug named by the orders."""
    meds = medication_index(r for r in resources if r["resourceType"] == "Medication")
    reader = MedicationReader(GapLog(), meds)
    out: list[tuple[str, str | None]] = []
    for order in orders:
        # a valid FHIR id only: a `delete` suggestion names the draft by it (no id: no suggestion)
        ref = f"{order['resourceType']}/{order['id']}" if is_fhir_id(order.get("id")) else None
        if not _well_formed_medication(order):
            # The order is the hook's subject: a malformed one is the client's error (400),
            # not something to skip silently as a data gap.
            raise bad_request(f"context.draftOrders: the medication of {ref or 'a draft ' + order['resourceType']} "
                              "is not a valid CodeableConcept or reference.",
                              expression="context.draftOrders")
        named = reader.drugs_of(order)
        for info in named:
            if is_steroid(info.key):
                continue  # no refractoriness, caution or Table 1 prerequisite applies to a steroid
            if (info.key, ref) not in out:
                out.append((info.key, ref))
    return out


def handle_order_hook(call: ServiceCall) -> dict:
    body = call.body
    context = body["context"]
    resources = draft_resources(context)
    drugs = ordered_drugs(selected_orders(body, resources), resources)
    if not drugs:
        return {"cards": []}
    assessment = pipeline.evaluate_call(call)  # the typed form: guidance and cards read it
    if not assessment.in_scope:
        return {"cards": []}
    findings = [(f, ref) for drug, ref in drugs for f in order_findings(assessment, drug)]
    return {"cards": render_order_findings(findings, patient_id=context["patientId"], assessment=assessment,
                                           config=call.config)}
