"""The CDS services this server offers, each declared once.

Discovery (`GET /cds-services`) is generated from SERVICES; the hook endpoint dispatches on
it. To add a service, append a `Service(...)` to SERVICES; nothing else needs to change.
The types are in hooks/declaration.py, the prefetch templates in fhir/patient_data.py (both
re-exported here); the handlers live in hooks/patient_view.py and hooks/order.py, which do not
import this module (no import cycle).
"""
from __future__ import annotations

from cds_service.fhir.patient_data import PREFETCH_COUNT, REQUIRED_PATIENT_DATA, patient_data_prefetch
from cds_service.hooks import order, patient_view
from cds_service.hooks.declaration import Handler, Service, ServiceCall

__all__ = ["PREFETCH_COUNT", "REQUIRED_PATIENT_DATA", "SERVICES", "Handler", "Service", "ServiceCall",
           "discovery_document", "find_service", "patient_data_prefetch"]


# The handlers are looked up on their modules at call time (tests replace them there).
def _relapse_handler(call: ServiceCall) -> dict:
    return patient_view.handle_patient_view(call)


def _order_handler(call: ServiceCall) -> dict:
    return order.handle_order_hook(call)


SERVICES: list[Service] = [
    Service(
        id="myeloma-relapse",
        hook="patient-view",
        title="Relapsed multiple myeloma: relapse status and treatment guidance",
        description=(
            "Reads a myeloma patient's paraprotein, free light chains, CRAB labs, treatment history, "
            "risk and fitness data; states the IMWG relapse status (clinical, biochemical, suspected) "
            "and advises on timing and on switching drug class versus retreatment. Advisory only."
        ),
        handler=_relapse_handler,
        prefetch=patient_data_prefetch(),
        required_prefetch=REQUIRED_PATIENT_DATA,
    ),
    Service(
        id="myeloma-order-select",
        hook="order-select",
        title="Relapsed multiple myeloma: checks on a selected anti-myeloma drug",
        description=(
            "When an anti-myeloma drug is selected (MedicationRequest, or DSTU2 MedicationOrder), judges it with "
            "the same rules as the treatment options: warns if the disease progressed on the drug (no retreatment "
            "signal), if it is a CAR-T or bispecific for a frail or not triple-class exposed patient, or if a "
            "warning-level comorbidity caution applies, naming an alternative and offering to remove the draft; "
            "also lists missing baseline tests (Table 1). Advisory only."
        ),
        handler=_order_handler,
        prefetch=patient_data_prefetch(),
        required_prefetch=REQUIRED_PATIENT_DATA,
    ),
    Service(
        id="myeloma-order-sign",
        hook="order-sign",
        title="Relapsed multiple myeloma: checks before signing an anti-myeloma drug order",
        description=(
            "Before an anti-myeloma drug order is signed, judges it with the same rules as the treatment options: "
            "warns if the disease progressed on the drug (no retreatment signal), if it is a CAR-T or bispecific "
            "for a frail or not triple-class exposed patient, or if a warning-level comorbidity caution applies "
            "(carfilzomib and heart failure, lenalidomide or pomalidomide and eGFR < 30), naming an alternative "
            "and offering to remove the draft; also lists missing baseline tests (Table 1). Advisory only."
        ),
        handler=_order_handler,
        prefetch=patient_data_prefetch(),
        required_prefetch=REQUIRED_PATIENT_DATA,
    ),
]


def find_service(service_id: str, hook: str | None = None) -> Service | None:
    """The service with this id (and hook, when one id is listed for several hooks)."""
    matches = [s for s in SERVICES if s.id == service_id]
    if hook is not None:
        for s in matches:
            if s.hook == hook:
                return s
    return matches[0] if matches else None


def discovery_document() -> dict:
    return {"services": [s.discovery_entry() for s in SERVICES]}
