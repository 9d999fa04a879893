"""The pure clinical model of relapsed multiple myeloma (no Flask, requests or fhir.resources).

`evaluate(record, as_of)` returns the typed assessment (myeloma_model/contract.py);
`assess(record, as_of)` returns its JSON form, the object of docs/assessment-contract.md.
"""
from myeloma_model.assessment import assess, evaluate

__all__ = ["assess", "evaluate"]
