"""Section 5: refractoriness (60-day window), categories, triple-class exposure, retreatment signal."""
from __future__ import annotations

import pytest

from myeloma_model import assess
from myeloma_model.contract import DrugEntry
from myeloma_model.refractoriness import refractory_category, retreatment_signal, triple_class_exposed
from myeloma_model.thresholds import (
    DAYS_PER_MONTH,
    REFRACTORY_WINDOW_DAYS,
    RETREAT_MONTHS_ON_DRUG,
    RETREAT_MONTHS_SINCE_LAST_DOSE,
)
from tests.model.builders import day, drug, labs, record, regimen


def relapsing_patient(first_rise_day: int):
    """Serum M-protein nadir 2 g/L, confirmed rise first seen on `first_rise_day`."""
    r = record()
    labs(r, "serum_m_protein", (0, 40), (200, 2), (first_rise_day, 7), (first_rise_day + 30, 8))
    return r


@pytest.mark.parametrize("gap,refractory", [(REFRACTORY_WINDOW_DAYS - 1, True), (REFRACTORY_WINDOW_DAYS, True),
                                            (REFRACTORY_WINDOW_DAYS + 1, False)])
def test_progression_within_60_days_of_the_last_dose(gap, refractory):
    r = relapsing_patient(1000)
    drug(r, "lenalidomide", 1, 1000 - gap)
    a = assess(r, day(1100))
    assert a["relapse"]["status"] == "biochemical"
    assert a["drugs"]["lenalidomide"]["refractory"] is refractory


def test_progression_while_on_the_drug_is_refractory_and_steroids_never_are():
    r = relapsing_patient(1000)
    regimen(r, ["lenalidomide", "dexamethasone"], 1, None, active=True)
    d = assess(r, day(1100))["drugs"]
    assert d["lenalidomide"]["refractory"] and d["lenalidomide"]["active"]
    assert d["dexamethasone"]["exposed"] and not d["dexamethasone"]["refractory"]


def test_suspected_progression_does_not_make_a_drug_refractory():
    r = record()
    labs(r, "serum_m_protein", (0, 40), (200, 2), (1000, 7))
    drug(r, "lenalidomide", 1, None, active=True)
    a = assess(r, day(1100))
    assert a["relapse"]["status"] == "suspected" and not a["drugs"]["lenalidomide"]["refractory"]


def test_drug_started_on_the_progression_day_is_not_refractory():
    r = relapsing_patient(1000)
    drug(r, "daratumumab", 1000, None, active=True)
    assert not assess(r, day(1100))["drugs"]["daratumumab"]["refractory"]


def test_progression_in_an_earlier_line_keeps_the_drug_refractory():
    r = relapsing_patient(1000)
    drug(r, "lenalidomide", 1, 1040)
    regimen(r, ["daratumumab", "bortezomib", "dexamethasone"], 1045, None, active=True)
    labs(r, "serum_m_protein", (1100, 3), (1160, 2.5))
    a = assess(r, day(1200))
    assert a["relapse"]["status"] == "none" and a["priorLines"] == 2
    assert a["drugs"]["lenalidomide"]["refractory"] and not a["drugs"]["daratumumab"]["refractory"]
    assert a["refractoryCategory"] == "single"


def flags(**drugs):
    classes = {"lenalidomide": "IMiD", "pomalidomide": "IMiD", "bortezomib": "PI", "carfilzomib": "PI",
               "daratumumab": "anti-CD38", "elotuzumab": "anti-SLAMF7"}
    return {d: DrugEntry(drug_class=classes[d], exposed=True, refractory=r) for d, r in drugs.items()}


@pytest.mark.parametrize("drugs,category", [
    (flags(lenalidomide=False), "none"),
    (flags(elotuzumab=True), "none"),
    (flags(lenalidomide=True), "single"),
    (flags(lenalidomide=True, pomalidomide=True), "single"),
    (flags(lenalidomide=True, bortezomib=True), "double"),
    (flags(lenalidomide=True, bortezomib=True, daratumumab=True), "triple-class"),
    (flags(lenalidomide=True, pomalidomide=True, bortezomib=True, daratumumab=True), "triple-class"),
    (flags(lenalidomide=True, pomalidomide=True, bortezomib=True, carfilzomib=True, daratumumab=True), "penta"),
])
def test_refractory_category(drugs, category):
    assert refractory_category(drugs) == category


def test_triple_class_exposed():
    assert triple_class_exposed(flags(lenalidomide=False, bortezomib=False, daratumumab=False))
    assert not triple_class_exposed(flags(lenalidomide=False, bortezomib=False, elotuzumab=False))


def days(months: float) -> int:
    return round(months * DAYS_PER_MONTH)


@pytest.mark.parametrize("months_on,signal", [(RETREAT_MONTHS_ON_DRUG, False), (RETREAT_MONTHS_ON_DRUG + 0.1, True)])
def test_retreatment_signal_time_on_drug(months_on, signal):
    r = record()
    drug(r, "lenalidomide", 0, days(months_on))
    info = assess(r, day(days(months_on) + 30))["drugs"]["lenalidomide"]
    assert info["monthsOnDrug"] == pytest.approx(months_on)
    assert info["retreatmentSignal"] is signal


@pytest.mark.parametrize("months_since,signal", [(RETREAT_MONTHS_SINCE_LAST_DOSE, False),
                                                 (RETREAT_MONTHS_SINCE_LAST_DOSE + 0.1, True)])
def test_retreatment_signal_time_since_last_dose(months_since, signal):
    r = record()
    drug(r, "bortezomib", 0, 100)
    info = assess(r, day(100 + days(months_since)))["drugs"]["bortezomib"]
    assert info["monthsSinceLastDose"] == pytest.approx(months_since)
    assert info["retreatmentSignal"] is signal


def test_retreatment_signal_function_is_strict():
    assert not retreatment_signal(RETREAT_MONTHS_ON_DRUG, RETREAT_MONTHS_SINCE_LAST_DOSE)
    assert retreatment_signal(None, RETREAT_MONTHS_SINCE_LAST_DOSE + 0.1)


def test_months_on_drug_counts_overlaps_once():
    r = record()
    drug(r, "lenalidomide", 0, 300)
    drug(r, "lenalidomide", 200, 400, source="MedicationRequest")
    drug(r, "lenalidomide", 1000, 1100)
    info = assess(r, day(1200))["drugs"]["lenalidomide"]
    assert info["monthsOnDrug"] == round(500 / DAYS_PER_MONTH, 1)
    assert info["monthsSinceLastDose"] == round(100 / DAYS_PER_MONTH, 1)


def test_active_drug_has_zero_months_since_last_dose_and_runs_to_as_of():
    r = record()
    drug(r, "daratumumab", 0, None, active=True)
    info = assess(r, day(365))["drugs"]["daratumumab"]
    assert info["active"] and info["monthsSinceLastDose"] == 0.0
    assert info["monthsOnDrug"] == round(365 / DAYS_PER_MONTH, 1)


def test_undated_exposure_is_exposed_with_unknown_times_and_a_data_gap():
    r = record()
    drug(r, "carfilzomib", None)
    a = assess(r, day(10))
    assert a["drugs"]["carfilzomib"]["exposed"] and a["drugs"]["carfilzomib"]["monthsOnDrug"] is None
    assert any("carfilzomib" in g for g in a["dataGaps"])


def test_administrations_a_week_apart_are_one_period_on_the_drug():
    r = record()
    for week in range(10):
        drug(r, "bortezomib", 7 * week, 7 * week, source="MedicationAdministration")
    info = assess(r, day(100))["drugs"]["bortezomib"]
    assert info["monthsOnDrug"] == round(63 / DAYS_PER_MONTH, 1)
    assert info["monthsSinceLastDose"] == round(37 / DAYS_PER_MONTH, 1)


def test_corticosteroids_carry_no_retreatment_signal():
    r = record()
    regimen(r, ["bortezomib", "dexamethasone"], 0, days(RETREAT_MONTHS_ON_DRUG + 1))
    d = assess(r, day(days(RETREAT_MONTHS_ON_DRUG + 2)))["drugs"]
    assert d["bortezomib"]["retreatmentSignal"] is True
    assert d["dexamethasone"]["retreatmentSignal"] is False
