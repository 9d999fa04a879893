"""Section 5 (v2): the retreatment signal only for a drug stopped before the relapse being treated,
and `drugs.<name>.activeAtRelapse`. Literal numbers: 28.4 / 46.1 months, relapse date vs last dose."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from myeloma_model import assess
from myeloma_model.records import DrugExposure
from myeloma_model.refractoriness import drug_summary
from tests.model.builders import day, drug, labs, record

RELAPSE = date(2024, 6, 1)


def exposure(start: date, end: date | None, active: bool = False) -> DrugExposure:
    return DrugExposure("lenalidomide", start, end, active, "MedicationStatement")


def summary(*exposures: DrugExposure, relapse: date | None = RELAPSE, as_of: date = date(2024, 7, 1)) -> dict:
    return drug_summary("lenalidomide", list(exposures), [RELAPSE] if relapse else [], as_of, relapse)


def test_drug_stopped_one_day_before_the_relapse_can_carry_the_signal():
    start = RELAPSE - timedelta(days=round(40 * 30.44))  # 40 months on the drug (> 28.4)
    info = summary(exposure(start, RELAPSE - timedelta(days=1)))
    assert info.active_at_relapse is False
    assert info.months_on_drug > 28.4
    assert info.retreatment_signal is True
    assert info.refractory is True  # progression within 60 days of the last dose


def test_drug_running_on_the_relapse_day_never_has_the_signal():
    start = RELAPSE - timedelta(days=round(40 * 30.44))
    info = summary(exposure(start, RELAPSE))  # last dose on the relapse day: still running
    assert info.active_at_relapse is True
    assert info.months_on_drug > 28.4
    assert info.retreatment_signal is False


def test_open_active_exposure_at_relapse_has_no_signal_however_long_it_runs():
    start = RELAPSE - timedelta(days=round(39.7 * 30.44))
    for as_of in (date(2024, 7, 1), date(2026, 7, 1)):  # the clock runs on; the signal must not appear
        info = summary(exposure(start, None, active=True), as_of=as_of)
        assert info.active_at_relapse is True and info.retreatment_signal is False


@pytest.mark.parametrize("months_since,signal", [(46.1, False), (46.2, True)])
def test_time_since_last_dose_boundary_for_a_stopped_drug(months_since, signal):
    last = date(2019, 1, 1)
    as_of = last + timedelta(days=round(months_since * 30.44))
    info = summary(exposure(last - timedelta(days=100), last), as_of=as_of)
    assert info.months_since_last_dose == pytest.approx(months_since)
    assert info.active_at_relapse is False
    assert info.retreatment_signal is signal


@pytest.mark.parametrize("months_on,signal", [(28.4, False), (28.5, True)])
def test_time_on_drug_boundary_for_a_stopped_drug(months_on, signal):
    start = date(2020, 1, 1)
    info = summary(exposure(start, start + timedelta(days=round(months_on * 30.44))))
    assert info.months_on_drug == pytest.approx(months_on)
    assert info.retreatment_signal is signal


def test_without_a_relapse_date_active_is_null_and_only_stopped_drugs_carry_the_signal():
    start = date(2019, 1, 1)
    running = summary(exposure(start, None, active=True), relapse=None)
    stopped = summary(exposure(start, start + timedelta(days=round(30 * 30.44))), relapse=None)
    assert running.active_at_relapse is None and running.retreatment_signal is False
    assert stopped.active_at_relapse is None and stopped.retreatment_signal is True


def test_assess_reports_active_at_relapse_for_progression_on_maintenance():
    """Lenalidomide maintenance running when the M-protein rises: refractory, active at relapse, no signal."""
    r = record()
    drug(r, "lenalidomide", 0, None, active=True)
    labs(r, "serum_m_protein", (0, 30), (200, 2), (1200, 2), (1230, 8), (1260, 12))
    a = assess(r, day(1300))
    info = a["drugs"]["lenalidomide"]
    assert a["relapse"]["status"] in ("biochemical", "clinical")
    assert info["monthsOnDrug"] > 28.4
    assert info["activeAtRelapse"] is True and info["refractory"] is True
    assert info["retreatmentSignal"] is False


@pytest.mark.parametrize("gap_days,running", [(28, True), (29, False)])
def test_drug_known_only_from_administrations_runs_28_days_after_the_last_one(gap_days, running):
    last = RELAPSE - timedelta(days=gap_days)
    doses = [DrugExposure("daratumumab", last - timedelta(days=28 * k), last - timedelta(days=28 * k), False,
                          "MedicationAdministration") for k in range(40)]  # 40 monthly doses: > 28.4 months on it
    info = drug_summary("daratumumab", doses, [RELAPSE], date(2024, 7, 1), RELAPSE)
    assert info.last_dose == last  # the extension never moves the last dose
    assert info.months_on_drug > 28.4
    assert info.active_at_relapse is running
    assert info.retreatment_signal is (not running)
