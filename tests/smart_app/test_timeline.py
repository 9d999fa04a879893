"""The timeline data the SMART app draws (cds_service.smart_app.timeline): built from the
model's own analysis, never recomputed; criterion wording from thresholds.py."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from cds_service.smart_app.timeline import CRITERION_TEXT, SERUM_HIGH_NADIR_TEXT, build_timeline
from myeloma_model import assess
from myeloma_model.assessment import as_of_view
from myeloma_model.records import DrugExposure, LabResult, PatientRecord, Transplant
from myeloma_model.relapse import analyse_relapse
from myeloma_model.thresholds import (
    PD_RELATIVE_RISE,
    PD_SERUM_ABSOLUTE_RISE_G_L,
    PD_SERUM_ABSOLUTE_RISE_HIGH_NADIR_G_L,
    PD_SERUM_HIGH_NADIR_G_L,
)

AS_OF = date(2025, 6, 30)
START = date(2021, 6, 1)
PATIENT = {"resourceType": "Patient", "id": "p1", "name": [{"given": ["Arthur"], "family": "Test"}],
           "birthDate": "1954-03-14", "gender": "male"}


def lab(analyte: str, d: date, v: float, comparator=None) -> LabResult:
    return LabResult(analyte, v, d, comparator)


def record(serum: list[tuple[date, float]]) -> PatientRecord:
    labs = {
        "serum_m_protein": [lab("serum_m_protein", d, v) for d, v in serum],
        "kappa_flc": [lab("kappa_flc", d, 40.0 + i) for i, (d, _) in enumerate(serum)],
        "lambda_flc": [lab("lambda_flc", d, 8.0) for d, _ in serum],
        "calcium": [lab("calcium", serum[-1][0], 2.4)],
    }
    exposures = [
        DrugExposure("lenalidomide", START, date(2023, 12, 18), False, "MedicationStatement"),
        DrugExposure("bortezomib", START, date(2021, 8, 13), False, "MedicationAdministration"),
    ]
    return PatientRecord("p1", in_scope=True, light_chain="kappa", labs=labs, exposures=exposures,
                         transplants=[Transplant(date(2021, 10, 20))])


def timeline(rec: PatientRecord) -> dict:
    view = as_of_view(rec, AS_OF)
    return build_timeline([PATIENT], view, assess(rec, AS_OF), analyse_relapse(view, AS_OF).lines, AS_OF)


def rising_from(nadir: float) -> list[tuple[date, float]]:
    """Nadir, then two consecutive results just over the serum PD bar for that nadir."""
    rise = PD_SERUM_ABSOLUTE_RISE_HIGH_NADIR_G_L if nadir >= PD_SERUM_HIGH_NADIR_G_L else PD_SERUM_ABSOLUTE_RISE_G_L
    high = max(nadir * (1 + PD_RELATIVE_RISE), nadir + rise) + 0.5
    d0 = date(2022, 6, 13)
    return [(START, nadir * 4), (d0, nadir), (d0 + timedelta(days=900), high), (d0 + timedelta(days=960), high + 0.2)]


def test_series_are_the_records_values_per_day():
    t = timeline(record(rising_from(2.0)))
    series = {s["key"]: s for s in t["series"]}
    assert [p["value"] for p in series["serumMProtein"]["points"]] == [v for _, v in rising_from(2.0)]
    assert series["serumMProtein"]["unit"] == "g/L"
    assert series["involvedFlc"]["chain"] == "kappa"
    kappa = [p["value"] for p in series["involvedFlc"]["points"]]
    assert [p["value"] for p in series["dFlc"]["points"]] == [k - 8.0 for k in kappa]
    assert [c["key"] for c in t["crab"]] == ["calcium"]
    assert t["patient"] == {"id": "p1", "name": "Arthur Test", "birthDate": "1954-03-14", "gender": "male"}


def test_nadir_and_relapse_events_are_the_assessments():
    t = timeline(record(rising_from(2.0)))
    relapse = t["assessment"]["relapse"]
    events = {e["kind"]: e for e in t["events"]}
    assert relapse["status"] == "biochemical" and relapse["criteria"] == ["serum-m-protein"]
    assert (events["nadir"]["date"], events["nadir"]["value"]) == (
        relapse["markers"]["serumMProtein"]["nadirDate"], relapse["markers"]["serumMProtein"]["nadir"])
    assert events["relapse"]["date"] == relapse["date"]
    assert events["relapse"]["value"] == dict((d.isoformat(), v) for d, v in rising_from(2.0))[relapse["date"]]
    assert events["relapse"]["criteriaText"] == [CRITERION_TEXT["serum-m-protein"]]
    assert f"{PD_SERUM_ABSOLUTE_RISE_G_L:g} g/L" in CRITERION_TEXT["serum-m-protein"]
    assert events["transplant"]["date"] == "2021-10-20"


@pytest.mark.parametrize("nadir, high_nadir", [
    (PD_SERUM_HIGH_NADIR_G_L - 1, False),
    (PD_SERUM_HIGH_NADIR_G_L, True),
])
def test_criterion_text_names_the_bar_that_applied(nadir, high_nadir):
    t = timeline(record(rising_from(nadir)))
    relapse_event = next(e for e in t["events"] if e["kind"] == "relapse")
    expected = SERUM_HIGH_NADIR_TEXT if high_nadir else CRITERION_TEXT["serum-m-protein"]
    assert relapse_event["criteriaText"] == [expected]


def test_no_relapse_no_relapse_marker_but_a_nadir():
    flat = [(START, 20.0), (date(2022, 6, 13), 2.0), (date(2023, 6, 12), 2.0), (date(2024, 6, 10), 2.1)]
    t = timeline(record(flat))
    kinds = [e["kind"] for e in t["events"]]
    assert t["assessment"]["relapse"]["status"] == "none"
    assert "relapse" not in kinds and kinds.count("nadir") == 1


def test_therapy_rows_carry_the_line_and_the_real_dates():
    t = timeline(record(rising_from(2.0)))
    rows = {r["drug"]: r for r in t["therapy"]}
    assert rows["lenalidomide"]["line"] == rows["bortezomib"]["line"] == 1
    assert rows["lenalidomide"]["class"] == "IMiD"
    assert rows["lenalidomide"]["periods"] == [
        {"start": "2021-06-01", "end": "2023-12-18", "active": False}]


def test_each_line_has_a_response_band_from_the_model():
    serum = [(START - timedelta(days=10), 30.0), (date(2021, 9, 1), 2.0), (date(2021, 10, 1), 2.0),
             (date(2025, 3, 1), 8.0), (date(2025, 4, 1), 9.0)]
    t = timeline(record(serum))
    [band] = t["responses"]
    line = t["assessment"]["lines"][0]
    assert band["bestResponse"] == line["bestResponse"] == "VGPR"  # 2 g/L is a 93 % reduction from 30
    assert band["start"] == "2021-09-01" and band["end"] == line["progressionDate"] == "2025-03-01"
    assert band["durationMonths"] == line["durationMonths"]
    assert band["short"] == f"L1 VGPR · {line['durationMonths']:g} mo"


@pytest.mark.parametrize("days,freshness", [(90, "fresh"), (91, "aging"), (181, "stale")])
def test_data_age_is_reported_with_its_sentence(days, freshness):
    last = AS_OF - timedelta(days=days)
    t = timeline(record([(START, 30.0), (last - timedelta(days=30), 2.0), (last, 2.0)]))
    age = t["dataAge"]
    assert age["freshness"] == freshness and age["latestMarkerDate"] == last.isoformat() and age["days"] == days
    assert age["text"].startswith(f"Based on results up to {last.isoformat()}, ")
    assert ("repeat SPEP and FLC" in age["text"]) is (freshness == "stale")
