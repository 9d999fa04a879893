"""HAPI-shaped searchset Bundles for `responses` mocks (shape recorded from HAPI FHIR 7:
`_getpages` next links from the paging provider, or `_getpagesoffset`/`_offset` links)."""
from __future__ import annotations

import itertools
import uuid

BASE = "http://fhir.test/fhir"
_ids = itertools.count(1)


def observation(patient_id: str, code: str = "33358-3", value: float = 5.0, when: str = "2026-01-01") -> dict:
    return {
        "resourceType": "Observation",
        "id": str(next(_ids)),
        "meta": {"versionId": "1", "lastUpdated": "2026-01-02T10:00:00.000+00:00"},
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": "g/L", "system": "http://unitsofmeasure.org", "code": "g/L"},
    }


def resource(rtype: str, patient_id: str, **extra) -> dict:
    ref_field = "patient" if rtype == "MedicationStatement" and extra.pop("use_patient", False) else "subject"
    return {"resourceType": rtype, "id": str(next(_ids)), ref_field: {"reference": f"Patient/{patient_id}"}, **extra}


def searchset(resources: list[dict], *, self_url: str, next_url: str | None = None, total: int | None = None) -> dict:
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": "2026-01-02T10:00:00.000+00:00"},
        "type": "searchset",
        "link": [{"relation": "self", "url": self_url}],
        "entry": [
            {"fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in resources
        ],
    }
    if total is not None:
        bundle["total"] = total
    if next_url:
        bundle["link"].append({"relation": "next", "url": next_url})
    return bundle


def getpages_url(search_id: str, offset: int, count: int) -> str:
    """HAPI's paging-provider link."""
    return f"{BASE}?_getpages={search_id}&_getpagesoffset={offset}&_count={count}&_pretty=true&_bundletype=searchset"


def offset_url(rtype: str, patient_id: str, offset: int, count: int) -> str:
    """HAPI's (and sekmet's) offset link."""
    return f"{BASE}/{rtype}?patient={patient_id}&_count={count}&_offset={offset}"
