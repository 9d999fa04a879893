"""Small builders of FHIR R4 resource dicts for the mapping tests."""
from __future__ import annotations

from datetime import date
from itertools import count

from fhir_mappings import build_patient_record

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
AS_OF = date(2025, 6, 30)
PID = "p1"

_ids = count(1)


def _id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def quantity(value, unit: str | None = None, *, system: str | None = UCUM, code: str | None = "same", comparator=None):
    q: dict = {"value": value}
    if unit is not None:
        q["unit"] = unit
    if code == "same":
        code = unit
    if code is not None:
        q["code"] = code
        if system is not None:
            q["system"] = system
    if comparator is not None:
        q["comparator"] = comparator
    return q


def obs(loinc: str | None, *, when: str = "2025-01-10", status: str = "final", id: str | None = None, text=None, **value):
    """An Observation; pass exactly one value[x] as a keyword (valueQuantity=..., ...)."""
    res: dict = {
        "resourceType": "Observation",
        "id": id or _id("obs"),
        "status": status,
        "code": {"coding": [{"system": LOINC, "code": loinc}]} if loinc else {},
        "subject": {"reference": f"Patient/{PID}"},
    }
    if text:
        res["code"]["text"] = text
    if when is not None:
        res["effectiveDateTime"] = when
    res.update(value)
    return res


def concept(system: str, code: str, display: str | None = None, text: str | None = None) -> dict:
    c: dict = {"coding": [{"system": system, "code": code}]}
    if display:
        c["coding"][0]["display"] = display
    if text:
        c["text"] = text
    return c


def record(*resources, patient_id: str | None = PID, as_of: date = AS_OF):
    return build_patient_record(list(resources), patient_id=patient_id, as_of=as_of)


def values(rec, analyte: str) -> list[float]:
    return [round(r.value, 6) for r in rec.series(analyte)]
