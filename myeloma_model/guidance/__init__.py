"""Treatment guidance (clinical-rules.md sections 4, 7, 8, 9): fills the assessment's
`timing`, `strategy`, `regimens`, `missingInvestigations` and `safety`.

Placeholder until the guidance issue lands: advises nothing.
"""
from __future__ import annotations

from datetime import date

from myeloma_model.records import PatientRecord


def advise(assessment: dict, record: PatientRecord, as_of: date) -> dict:
    """Return the guidance fields for an assessment whose other fields are filled."""
    return {"timing": "none", "strategy": "none", "regimens": [], "missingInvestigations": [], "safety": []}
