"""FHIR R4 JSON (plain dicts) -> domain records (myeloma_model.records).

Public API (docs/ARCHITECTURE.md): build_patient_record, resources_from_bundle,
resources_from_hook_request; terminology helpers in fhir_mappings.terminology.
"""
from __future__ import annotations

from fhir_mappings.terminology import (
    investigation_coding,
    investigation_text,
    prefetch_observation_codes,
)

__all__ = [
    "investigation_coding",
    "investigation_text",
    "prefetch_observation_codes",
]
