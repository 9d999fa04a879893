"""The pure clinical model of relapsed multiple myeloma (no Flask, requests or fhir.resources).

`assess(record, as_of)` returns the assessment object of docs/assessment-contract.md.
"""
from myeloma_model.assessment import assess

__all__ = ["assess"]
