"""The pure clinical model of relapsed multiple myeloma (no Flask, requests or fhir.resources).

`evaluate(record, as_of)` returns the typed assessment (myeloma_model/contract.py);
`assess(record, as_of)` returns its JSON form, the object of docs/assessment-contract.md, with
the sentence fields (regimen warnings, the model's data gaps) as codes: the model holds no
wording, and the service words them at its edge (cds_service/cards/contract_words.py).
"""
from myeloma_model.assessment import assess, evaluate

__all__ = ["assess", "evaluate"]
