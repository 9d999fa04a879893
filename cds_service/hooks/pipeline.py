"""From a request to cards: resources -> PatientRecord -> assessment -> cards.

The service layer's only bridge to the clinical layers (docs/ARCHITECTURE.md, interfaces):
fhir_mappings.build_patient_record and myeloma_model.evaluate. Also builds the assessment for
POST /assessment and `myeloma-cds assess` from a Bundle or a hook request.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from typing import Iterable

from cds_service.cards.contract_words import assessment_json
from cds_service.fhir import prefetch
from cds_service.http.errors import bad_request
from cds_service.fhir.patient_data import REQUIRED_PATIENT_DATA, patient_data_prefetch
from cds_service.hooks.declaration import ServiceCall
from cds_service.http.validation import validate_hook_request
from fhir_mappings import ResourceSet, build_patient_record
from myeloma_model import evaluate
from myeloma_model.contract import Assessment

log = logging.getLogger(__name__)


def today() -> date:
    return date.today()


def evaluate_resources(
    resources: Iterable[dict] | ResourceSet, *, patient_id: str | None, as_of: date, data_gaps: Iterable[str] = ()
) -> Assessment:
    """Run the mappings and the model; add the service's own data gaps to the assessment.
    `resources` may be the ResourceSet the prefetch step already sorted (no second pass)."""
    record = build_patient_record(resources, patient_id=patient_id, as_of=as_of)
    assessment = evaluate(record, as_of)
    # Whole data categories that could not be had come first: they matter more than one
    # unreadable value.
    model_gaps = list(assessment.data_gaps)
    return replace(assessment, data_gaps=tuple([g for g in data_gaps if g not in model_gaps] + model_gaps))


def assess_resources(
    resources: Iterable[dict] | ResourceSet, *, patient_id: str | None, as_of: date, data_gaps: Iterable[str] = ()
) -> dict:
    """`evaluate_resources` in the JSON contract form."""
    return assessment_json(evaluate_resources(resources, patient_id=patient_id, as_of=as_of, data_gaps=data_gaps))


def evaluate_hook_request(body: dict, templates: dict, *, required, config, as_of: date,
                          fetch: bool = True) -> Assessment:
    """Prefetch-or-fetch the request's data, then assess the context's patient (every hook
    handler, POST /assessment and the CLI take this one path)."""
    data = prefetch.resolve(body, templates, required=required, config=config, fetch=fetch)
    return evaluate_resources(
        data.resource_set, patient_id=body["context"]["patientId"], as_of=as_of, data_gaps=data.data_gaps
    )


def assess_hook_request(body: dict, templates: dict, *, required, config, as_of: date, fetch: bool = True) -> dict:
    """`evaluate_hook_request` in the JSON contract form."""
    return assessment_json(evaluate_hook_request(body, templates, required=required, config=config, as_of=as_of,
                                         fetch=fetch))


def evaluate_call(call: ServiceCall) -> Assessment:
    """The typed assessment for a service call, with the service's own prefetch templates."""
    return evaluate_hook_request(call.body, call.service.prefetch, required=call.service.required_prefetch,
                                 config=call.config, as_of=call.as_of or today())


# -- POST /assessment and the CLI -----------------------------------------------------------
def evaluate_input(body: dict, *, config, as_of: date, fetch: bool) -> Assessment:
    """The typed assessment for a FHIR Bundle (any type) or a CDS Hooks request JSON."""
    if body.get("resourceType") == "Bundle":
        return evaluate_bundle(body, as_of=as_of)
    if "hook" in body or "context" in body:
        validate_hook_request(body)
        return evaluate_hook_request(body, patient_data_prefetch(), required=REQUIRED_PATIENT_DATA,
                                     config=config, as_of=as_of, fetch=fetch)
    raise bad_request(
        "Expected a FHIR Bundle (resourceType 'Bundle') or a CDS Hooks request (with 'hook' and 'context').",
        expression="$",
    )


def bundle_patient(bundle: dict) -> tuple[list[dict], str | None]:
    """A one-patient Bundle's resources and that patient's id (400 otherwise); the same
    Patient may appear more than once (e.g. from two feeds)."""
    resources = [r for _, r in prefetch.bundle_entries_or_400(bundle, "$")]
    if any(r["resourceType"] == "Patient" and not isinstance(r.get("id"), (str, type(None))) for r in resources):
        raise bad_request("A Patient's id must be a string.", expression="$.entry")
    ids = {r.get("id") for r in resources if r["resourceType"] == "Patient"}
    if not ids:
        raise bad_request("The Bundle holds no Patient resource; it must hold exactly one Patient.",
                          expression="$.entry", code="required")
    if len(ids) > 1:
        raise bad_request("The Bundle holds more than one Patient; it must hold exactly one Patient "
                          "(assess one patient at a time).", expression="$.entry")
    return resources, ids.pop()


def assessment_from_input(body: dict, *, config, as_of: date, fetch: bool) -> dict:
    """`evaluate_input` in the JSON contract form (POST /assessment, `myeloma-cds assess`)."""
    return assessment_json(evaluate_input(body, config=config, as_of=as_of, fetch=fetch))


def evaluate_bundle(bundle: dict, *, as_of: date) -> Assessment:
    resources, patient_id = bundle_patient(bundle)
    return evaluate_resources(resources, patient_id=patient_id, as_of=as_of)


def assess_bundle(bundle: dict, *, as_of: date) -> dict:
    return assessment_json(evaluate_bundle(bundle, as_of=as_of))
