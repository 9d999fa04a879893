"""Sections 4 and 6: high-risk cytogenetics, ISS / R-ISS, staging window, LDH, b2m trend,
high-risk relapse features."""
from __future__ import annotations

import pytest

from myeloma_model import assess
from myeloma_model.risk import iss_stage, ldh_high, riss_stage
from myeloma_model.records import LabResult
from myeloma_model.thresholds import (
    DAYS_PER_MONTH,
    EARLY_FIRST_RELAPSE_MONTHS,
    HEAVY_MARROW_INFILTRATION_PCT,
    ISS_ALBUMIN_MIN_G_L,
    ISS_B2M_HIGH_MG_L,
    ISS_B2M_LOW_MG_L,
    LDH_DEFAULT_UPPER_U_L,
    RISING_B2M_RELATIVE,
    STAGING_WINDOW_DAYS,
)
from tests.model.builders import condition, day, drug, fish, labs, record


def lab(analyte, value, comparator=None, ref_high=None):
    return LabResult(analyte, value, day(0), comparator=comparator, ref_high=ref_high)


@pytest.mark.parametrize("b2m,albumin,stage", [
    (ISS_B2M_LOW_MG_L - 0.01, ISS_ALBUMIN_MIN_G_L, "I"),
    (ISS_B2M_LOW_MG_L - 0.01, ISS_ALBUMIN_MIN_G_L - 0.1, "II"),
    (ISS_B2M_LOW_MG_L, ISS_ALBUMIN_MIN_G_L, "II"),
    (ISS_B2M_HIGH_MG_L - 0.01, ISS_ALBUMIN_MIN_G_L, "II"),
    (ISS_B2M_HIGH_MG_L, ISS_ALBUMIN_MIN_G_L, "III"),
    (ISS_B2M_HIGH_MG_L, None, "III"),
    (ISS_B2M_LOW_MG_L - 0.01, None, "unknown"),
    (None, ISS_ALBUMIN_MIN_G_L, "unknown"),
])
def test_iss_thresholds(b2m, albumin, stage):
    b = lab("b2m", b2m) if b2m is not None else None
    a = lab("albumin", albumin) if albumin is not None else None
    assert iss_stage(b, a) == stage


def test_iss_with_censored_b2m():
    assert iss_stage(lab("b2m", 3.0, "<"), lab("albumin", 40)) == "I"
    assert iss_stage(lab("b2m", 5.0, ">"), lab("albumin", 40)) == "unknown"


@pytest.mark.parametrize("value,ref_high,high", [
    (LDH_DEFAULT_UPPER_U_L, None, False), (LDH_DEFAULT_UPPER_U_L + 1, None, True),
    (230, 225, True), (225, 225, False)])
def test_ldh_against_reference_high_else_250(value, ref_high, high):
    assert ldh_high(lab("ldh", value, ref_high=ref_high)) is high


def test_ldh_missing_is_unknown_not_normal():
    assert ldh_high(None) is None


NEG = {"del17p": False, "t(4;14)": False, "t(14;16)": False}


@pytest.mark.parametrize("iss,cyto,ldh,riss", [
    ("I", NEG, False, "I"),
    ("I", {}, False, "unknown"),           # no FISH
    ("I", NEG, None, "unknown"),           # no LDH
    ("I", {**NEG, "t(4;14)": True}, None, "II"),
    ("I", NEG, True, "II"),
    ("II", {}, None, "II"),                # ISS II always R-ISS II
    ("III", {"del17p": True}, None, "III"),
    ("III", {}, True, "III"),
    ("III", NEG, False, "II"),
    ("III", {}, None, "unknown"),
    ("III", {"gain1q": True}, False, "unknown"),  # gain1q is not an R-ISS abnormality
    ("unknown", NEG, False, "unknown"),
])
def test_riss(iss, cyto, ldh, riss):
    assert riss_stage(iss, cyto, ldh) == riss


def test_staging_uses_earliest_results_within_90_days_of_diagnosis():
    r = record()
    labs(r, "b2m", (-STAGING_WINDOW_DAYS, 3.0), (10, 6.0), (800, 6.0))
    labs(r, "albumin", (STAGING_WINDOW_DAYS, 40.0), (800, 30.0))
    a = assess(r, day(900))
    assert a["risk"]["iss"] == "I"
    assert not any("staging" in g and "b2m" in g for g in a["dataGaps"])


def test_staging_falls_back_to_latest_results_and_says_so():
    r = record()
    labs(r, "b2m", (STAGING_WINDOW_DAYS + 1, 3.0), (800, 6.0))
    labs(r, "albumin", (800, 40.0))
    a = assess(r, day(900))
    assert a["risk"]["iss"] == "III"
    assert any("staging" in g and "b2m" in g for g in a["dataGaps"])


def test_high_risk_cytogenetics_positive_and_ruled_out():
    r = record()
    fish(r, "gain1q", True)
    fish(r, "del17p", False)
    fish(r, "t(4;14)", True, when=0)
    fish(r, "t(4;14)", False, when=400)  # a later negative supersedes
    assert assess(r, day(500))["risk"]["highRiskCytogenetics"] == ["gain1q"]


@pytest.mark.parametrize("latest,trend", [
    (4.0 * (1 + RISING_B2M_RELATIVE), "rising"), (4.0 * (1 + RISING_B2M_RELATIVE) - 0.01, "stable")])
def test_b2m_trend_against_the_start_of_the_current_line(latest, trend):
    r = record()
    drug(r, "lenalidomide", 100, None, active=True)
    labs(r, "b2m", (0, 1.0), (95, 4.0), (600, latest))
    assert assess(r, day(700))["risk"]["b2mTrend"] == trend


def test_b2m_trend_unknown_without_a_later_measurement():
    r = labs(record(), "b2m", (0, 3.0))
    assert assess(r, day(700))["risk"]["b2mTrend"] == "unknown"


def relapsing(first_rise_day: int):
    r = record()
    labs(r, "serum_m_protein", (0, 40), (100, 2), (first_rise_day, 7), (first_rise_day + 30, 8))
    return r


@pytest.mark.parametrize("months,early", [(EARLY_FIRST_RELAPSE_MONTHS - 0.1, True), (EARLY_FIRST_RELAPSE_MONTHS, False)])
def test_early_first_relapse_under_24_months(months, early):
    r = relapsing(round(months * DAYS_PER_MONTH))
    features = assess(r, day(1500))["risk"]["highRiskRelapseFeatures"]
    assert ("early-first-relapse" in features) is early


def test_relapse_on_therapy_and_other_features():
    r = relapsing(1000)
    drug(r, "lenalidomide", 50, None, active=True)
    fish(r, "del17p", True)
    labs(r, "marrow_plasma_cells", (1010, HEAVY_MARROW_INFILTRATION_PCT))
    labs(r, "circulating_plasma_cells", (1010, 2))
    condition(r, "extramedullary-disease", 1005)
    labs(r, "b2m", (40, 2.0), (1010, 3.0))
    a = assess(r, day(1100))
    assert a["risk"]["highRiskRelapseFeatures"] == [
        "circulating-plasma-cells", "extramedullary", "heavy-marrow-infiltration",
        "high-risk-cytogenetics", "relapse-on-therapy", "rising-b2m"]
    assert a["details"]["onTherapyAtRelapse"] is True


def test_marrow_below_60_is_not_heavy_infiltration():
    r = relapsing(1000)
    labs(r, "marrow_plasma_cells", (1010, HEAVY_MARROW_INFILTRATION_PCT - 0.1))
    assert "heavy-marrow-infiltration" not in assess(r, day(1100))["risk"]["highRiskRelapseFeatures"]
