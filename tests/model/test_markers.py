"""Section 2: marker series, nadir, involved FLC, dFLC, FLC ratio, measurable disease, comparators."""
from __future__ import annotations

import pytest

from myeloma_model.markers import (
    at_least,
    daily_points,
    flc_points,
    involved_chain,
    measurable_disease,
    nadir,
    value_at,
)
from myeloma_model.thresholds import (
    FLC_RATIO_NORMAL_HIGH,
    FLC_RATIO_NORMAL_LOW,
    MEASURABLE_INVOLVED_FLC_MG_L,
    MEASURABLE_SERUM_M_PROTEIN_G_L,
    MEASURABLE_URINE_M_PROTEIN_MG_24H,
)
from tests.model.builders import condition, day, labs, record


def test_nadir_is_lowest_since_line_start_else_lowest_on_record():
    r = labs(record(), "serum_m_protein", (0, 30), (100, 1), (400, 20), (500, 4), (600, 9))
    pts = daily_points(r.series("serum_m_protein"))
    assert nadir(pts).value == 1 and nadir(pts).when == day(100)
    assert nadir(pts, since=day(400)).value == 4


def test_less_than_value_can_be_a_nadir_but_greater_than_never():
    r = labs(record(), "serum_m_protein", (0, 80, ">"), (10, 60), (20, 1, "<"), (30, 3))
    pts = daily_points(r.series("serum_m_protein"))
    assert nadir(pts).value == 1 and nadir(pts).comparator == "<"
    only_gt = daily_points(labs(record(), "serum_m_protein", (0, 80, ">")).series("serum_m_protein"))
    assert nadir(only_gt) is None


def test_same_day_duplicates_are_one_measurement():
    r = labs(record(), "serum_m_protein", (0, 5), (0, 5), (10, 6))
    assert len(daily_points(r.series("serum_m_protein"))) == 2


def test_value_at_line_start_is_last_on_or_before_else_first_after():
    pts = daily_points(labs(record(), "creatinine", (10, 80), (20, 90), (40, 100)).series("creatinine"))
    assert value_at(pts, day(30)).value == 90
    assert value_at(pts, day(5)).value == 80
    assert value_at(pts, None).value == 80


def test_involved_chain_from_record_else_larger_chain():
    r = labs(record(), "kappa_flc", (0, 10), (30, 12))
    labs(r, "lambda_flc", (0, 300), (30, 250))
    assert involved_chain(r) == "lambda"
    r.light_chain = "kappa"
    assert involved_chain(r) == "kappa"


def test_involved_chain_from_conditions_only_when_they_agree():
    r = labs(record(), "kappa_flc", (0, 10), (30, 12))
    labs(r, "lambda_flc", (0, 300), (30, 250))
    condition(r, "multiple-myeloma", 0, light_chain="kappa")
    assert involved_chain(r) == "kappa"
    condition(r, "multiple-myeloma", 0, light_chain="lambda")  # conflicting isotypes: the data decide
    assert involved_chain(r) == "lambda"


def test_dflc_is_involved_minus_uninvolved_same_day():
    r = labs(record(light_chain="kappa"), "kappa_flc", (0, 400), (30, 500))
    labs(r, "lambda_flc", (0, 10))
    fl = flc_points(r)
    assert fl[0].dflc.value == 390 and fl[0].ratio == 40
    assert fl[1].dflc is None  # no same-day lambda


@pytest.mark.parametrize("ratio,abnormal", [
    (FLC_RATIO_NORMAL_HIGH, False), (FLC_RATIO_NORMAL_HIGH + 0.01, True),
    (FLC_RATIO_NORMAL_LOW, False), (FLC_RATIO_NORMAL_LOW - 0.01, True),
])
def test_flc_ratio_normal_range_is_inclusive(ratio, abnormal):
    r = labs(record(light_chain="kappa"), "kappa_flc", (0, 100 * ratio))
    labs(r, "lambda_flc", (0, 100))
    assert flc_points(r)[0].ratio_abnormal is abnormal


@pytest.mark.parametrize("value,measurable", [
    (MEASURABLE_SERUM_M_PROTEIN_G_L, True), (MEASURABLE_SERUM_M_PROTEIN_G_L - 0.1, False)])
def test_measurable_serum_m_protein(value, measurable):
    r = labs(record(), "serum_m_protein", (0, value))
    assert measurable_disease(r, None).serum is measurable


@pytest.mark.parametrize("value,measurable", [
    (MEASURABLE_URINE_M_PROTEIN_MG_24H, True), (MEASURABLE_URINE_M_PROTEIN_MG_24H - 1, False)])
def test_measurable_urine_m_protein(value, measurable):
    r = labs(record(), "urine_m_protein", (0, value))
    assert measurable_disease(r, None).urine is measurable


@pytest.mark.parametrize("kappa,lam,measurable", [
    (MEASURABLE_INVOLVED_FLC_MG_L, 10, True),        # >= 100 and ratio 10
    (MEASURABLE_INVOLVED_FLC_MG_L - 0.1, 10, False),  # below 100
    (MEASURABLE_INVOLVED_FLC_MG_L, 100, False),      # ratio normal
])
def test_measurable_flc_needs_level_and_abnormal_ratio(kappa, lam, measurable):
    r = labs(record(light_chain="kappa"), "kappa_flc", (0, kappa))
    labs(r, "lambda_flc", (0, lam))
    assert measurable_disease(r, None).flc is measurable


def test_measurable_is_judged_at_the_reference_date():
    r = labs(record(), "serum_m_protein", (0, 30), (200, 3))
    assert measurable_disease(r, day(0)).serum
    assert not measurable_disease(r, day(300)).serum


def test_comparator_less_than_is_never_at_least_threshold():
    r = labs(record(), "serum_m_protein", (0, 12, "<"), (1, 12, ">"))
    lt, gt = r.series("serum_m_protein")
    assert not at_least(lt, MEASURABLE_SERUM_M_PROTEIN_G_L)
    assert at_least(gt, MEASURABLE_SERUM_M_PROTEIN_G_L)
