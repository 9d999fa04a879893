"""A ten-year patient with 20,000 results maps completely: every result in its series, in
time order, converted, with no data gaps. (Speed is shown by benchmarks/, not timed here.)"""
from __future__ import annotations

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


def test_twenty_thousand_observations_map_completely_in_time_order():
    rec = build_patient_record(heavy_patient(20_000), patient_id="p1", as_of=date(2025, 6, 30))
    assert sum(len(s) for s in rec.labs.values()) == 20_000
    assert rec.data_gaps == []
    for series in rec.labs.values():
        assert [r.when for r in series] == sorted(r.when for r in series)
    spep = rec.series("serum_m_protein")
    assert spep[0].value == 10.0  # 1.0 g/dL -> 10 g/L
