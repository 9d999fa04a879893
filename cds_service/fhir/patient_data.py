"""The patient data every hook of this server reads: prefetch templates and required keys.

Prefetch templates use only what CDS Hooks 2.0 allows (docs/cds-hooks.md#prefetch):
`{{context.patientId}}`, reads, type-level searches with reference and token (equality)
parameters, `_count`.
"""
from __future__ import annotations

from fhir_mappings.terminology import investigation_observation_codes, prefetch_observation_codes

# Page size asked for in templates and fetches; the client still follows Bundle.link[next].
# Large pages: each page is a sequential round trip (sekmet serves up to 1000 per page,
# servers with a lower maximum such as HAPI's default clamp the value silently); see the
# README's Performance section for the fallback latency this buys.
PREFETCH_COUNT = 1000


def _observation_code_tokens() -> list[str]:
    """`system|code` tokens of every Observation code the service reads: the model's markers,
    renal, blood, risk, ECOG and FISH codes, plus the codes that evidence Table 1
    investigations (so a done investigation is not reported missing). Codes live in
    fhir_mappings/terminology/ (terminology as data)."""
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
