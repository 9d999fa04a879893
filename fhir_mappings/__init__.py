"""FHIR R4 JSON (plain dicts) -> domain records (myeloma_model.records).

Public API (docs/ARCHITECTURE.md): build_patient_record, resources_from_bundle,
resources_from_hook_request; terminology helpers prefetch_observation_codes,
investigation_coding, investigation_text (also in fhir_mappings.terminology).
"""
from __future__ import annotations

from fhir_mappings.bundles import resources_from_bundle, resources_from_hook_request
from fhir_mappings.record import build_patient_record
from fhir_mappings.terminology import (
    investigation_coding,
    investigation_text,
    prefetch_observation_codes,
)

__all__ = [
    "build_patient_record",
    "investigation_coding",
    "investigation_text",
    "prefetch_observation_codes",
    "resources_from_bundle",
    "resources_from_hook_request",
]
