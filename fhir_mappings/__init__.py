"""FHIR R4 JSON (plain dicts) -> domain records (myeloma_model.records).

Public API (docs/ARCHITECTURE.md): build_patient_record, ResourceSet (resources sorted in one
pass: type, patient ownership, duplicates), medication_index, patient_of, bundle_entries and
BundleFault (the one strict Bundle flattener), resources_from_bundle,
resources_from_hook_request (lenient); terminology helpers prefetch_observation_codes,
investigation_coding, investigation_text (also in fhir_mappings.terminology).
"""
from __future__ import annotations

from fhir_mappings.bundles import BundleFault, bundle_entries, resources_from_bundle, resources_from_hook_request
from fhir_mappings.record import build_patient_record
from fhir_mappings.resource_set import ResourceSet, medication_index, patient_of
from fhir_mappings.terminology import (
    investigation_coding,
    investigation_text,
    prefetch_observation_codes,
)

__all__ = [
    "BundleFault",
    "ResourceSet",
    "build_patient_record",
    "bundle_entries",
    "investigation_coding",
    "investigation_text",
    "medication_index",
    "patient_of",
    "prefetch_observation_codes",
    "resources_from_bundle",
    "resources_from_hook_request",
]
