"""The mapping is on the hook's hot path (issue 6): linear, plain dict access.

A generous bound that only a gross regression (quadratic work, model validation per
resource) would break; the real figures come from the benchmark (benchmarks/).
"""
from __future__ import annotations

import time
from datetime import date, timedelta

from fhir_mappings import build_patient_record

PANEL = [("33358-3", "g/dL", 1.0), ("36916-5", "mg/L", 50.0), ("33944-0", "mg/L", 10.0), ("1952-1", "mg/L", 3.0),
         ("1751-7", "g/dL", 3.8), ("2532-0", "U/L", 200.0), ("17861-6", "mg/dL", 9.5), ("2160-0", "mg/dL", 1.0),
         ("718-7", "g/dL", 12.0), ("777-3", "10*3/uL", 200.0)]


def heavy_patient(n: int) -> list[dict]:
    start = date(2015, 1, 1)
    out = []
    for i in range(n):
        code, unit, value = PANEL[i % len(PANEL)]
        day = start + timedelta(days=i // len(PANEL))
        out.append({
            "resourceType": "Observation", "id": f"o{i}", "status": "final",
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "effectiveDateTime": f"{day.isoformat()}T08:00:00Z",
            "valueQuantity": {"value": value + (i % 7) / 10, "unit": unit, "system": "http://unitsofmeasure.org",
                              "code": unit},
        })
    return out


def test_twenty_thousand_observations_map_fast():
    resources = heavy_patient(20_000)
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        rec = build_patient_record(resources, patient_id="p1", as_of=date(2025, 6, 30))
        best = min(best, time.process_time() - t0)
    assert sum(len(s) for s in rec.labs.values()) == 20_000
    assert best < 3.0, f"mapping 20,000 Observations took {best:.2f} s of CPU"
