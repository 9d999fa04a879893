"""The CDS services this server offers, each declared once.

Discovery (`GET /cds-services`) is generated from SERVICES; the hook endpoint dispatches on
it. To add a service, append a `Service(...)` to SERVICES; nothing else needs to change.
Prefetch templates use only what cds-hooks.md section 3 allows: `{{context.patientId}}`,
reads, type-level searches with reference and token (equality) parameters, `_count`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    from cds_service.config import Config

# Page size asked for in templates and fetches; the client still follows Bundle.link[next].
# Large pages: each page is a sequential round trip (sekmet serves up to 1000 per page,
# servers with a lower maximum such as HAPI's default clamp the value silently); see the
# README's Performance section for the fallback latency this buys.
PREFETCH_COUNT = 1000


@dataclass(frozen=True)
class ServiceCall:
    """What a handler receives: the validated request body, its service and the config."""

    service: "Service"
    body: dict
    config: "Config"
    as_of: date | None = None  # development-only `?asOf=` (hooks.py); None: today


Handler = Callable[[ServiceCall], dict]


@dataclass(frozen=True)
class Service:
    id: str
    hook: str
    title: str
    description: str
    handler: Handler
    prefetch: dict[str, str] = field(default_factory=dict)
    # Prefetch keys without which the service cannot answer (412 when unobtainable).
    required_prefetch: tuple[str, ...] = ()
    usage_requirements: str | None = None

    def discovery_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "hook": self.hook,
            "title": self.title,
            "description": self.description,
            "id": self.id,
        }
        if self.prefetch:
            entry["prefetch"] = dict(self.prefetch)
        if self.usage_requirements:
            entry["usageRequirements"] = self.usage_requirements
        return entry


def _observation_code_tokens() -> list[str]:
    """`system|code` tokens of every Observation code the service reads: the model's markers,
    renal, blood, risk, ECOG and FISH codes, plus the codes that evidence Table 1
    investigations (so a done investigation is not reported missing). Codes live in
    fhir_mappings/terminology/ (terminology as data)."""
    from fhir_mappings.terminology import investigation_observation_codes, prefetch_observation_codes

    tokens = list(prefetch_observation_codes())
    tokens += [t for t in investigation_observation_codes() if t not in tokens]
    return tokens


def _patient_search(resource_type: str, extra: str = "") -> str:
    return f"{resource_type}?patient={{{{context.patientId}}}}{extra}&_count={PREFETCH_COUNT}"


def patient_data_prefetch() -> dict[str, str]:
    """The prefetch templates of the relapse service (also reused by the order hooks)."""
    codes = ",".join(_observation_code_tokens())
    return {
        "patient": "Patient/{{context.patientId}}",
        "conditions": _patient_search("Condition"),
        "observations": _patient_search("Observation", f"&code={codes}"),
        "medicationStatements": _patient_search("MedicationStatement"),
        "medicationRequests": _patient_search("MedicationRequest"),
        "medicationAdministrations": _patient_search("MedicationAdministration"),
        # Transplants (ASCT belongs to the line in progress) and Table 1 investigation
        # evidence (marrow biopsy, echo, PET-CT): without them lines are over-counted.
        "procedures": _patient_search("Procedure"),
        "diagnosticReports": _patient_search("DiagnosticReport"),
    }


REQUIRED_PATIENT_DATA = ("patient", "conditions", "observations")


def _relapse_handler(call: ServiceCall) -> dict:
    from cds_service.pipeline import handle_patient_view

    return handle_patient_view(call)


def _order_handler(call: ServiceCall) -> dict:
    from cds_service.order_hooks import handle_order_hook

    return handle_order_hook(call)


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
            "When an anti-myeloma drug is selected (MedicationRequest, or DSTU2 MedicationOrder), warns if the "
            "disease is refractory to the drug or its class without the retreatment signal, if a comorbidity "
            "caution applies, or if a baseline test the drug needs (Table 1) is missing. Advisory only."
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
            "Before an anti-myeloma drug order is signed, warns if the disease is refractory to the drug or its "
            "class without the retreatment signal, if a comorbidity caution applies (carfilzomib and heart "
            "failure, bortezomib and neuropathy, lenalidomide and eGFR < 30), or if a baseline test the drug "
            "needs (Table 1) is missing. Advisory only."
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
