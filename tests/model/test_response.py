"""Response to each line (docs/clinical-model.md s3a, IMWG 2016): thresholds on both sides, with the
rules' literal numbers."""
from __future__ import annotations

import pytest

from myeloma_model import assess
from myeloma_model.records import ImmunofixationResult
from myeloma_model.response import response_durability
from tests.model.builders import day, labs, record, regimen

VRD = ["bortezomib", "lenalidomide", "dexamethasone"]


def line_one(*serum, as_of=400, **kw):
    """VRd from day 0; serum M-protein baseline 20 g/L on day -10, then the given (day, value)."""
    r = record()
    regimen(r, VRD, 0, active=True)
    labs(r, "serum_m_protein", (-10, 20), *serum)
    return r


def first_line(r, as_of=400):
    a = assess(r, day(as_of))
    return a["lines"][0], a


@pytest.mark.parametrize("value,best", [(10.0, "PR"), (10.2, "MR")])  # 50 % vs 49 % reduction from 20 g/L
def test_partial_response_needs_a_50_percent_reduction(value, best):
    line, _ = first_line(line_one((60, value), (90, value)))
    assert line["bestResponse"] == best


@pytest.mark.parametrize("value,best", [(2.0, "VGPR"), (2.2, "PR")])  # 90 % vs 89 %
def test_vgpr_needs_a_90_percent_reduction(value, best):
    line, _ = first_line(line_one((60, value), (90, value)))
    assert line["bestResponse"] == best


@pytest.mark.parametrize("value,best", [(15.0, "MR"), (15.2, "SD")])  # 25 % vs 24 %
def test_minimal_response_needs_a_25_percent_reduction(value, best):
    line, _ = first_line(line_one((60, value), (90, value)))
    assert line["bestResponse"] == best


def test_one_result_does_not_confirm_a_response_two_consecutive_do():
    one, _ = first_line(line_one((60, 10), (90, 18)))
    assert one["bestResponse"] == "SD"
    two, _ = first_line(line_one((60, 10), (90, 10), (120, 18)))
    assert two["bestResponse"] == "PR" and two["bestResponseDate"] == day(60).isoformat()


def _undetectable(r):
    return labs(r, "serum_m_protein", (60, 1, "<"), (90, 1, "<"))


def test_immunofixation_negative_gives_cr_absent_gives_vgpr_with_a_gap():
    neg = line_one()
    _undetectable(neg)
    neg.immunofixation += [ImmunofixationResult("serum", True, day(62)), ImmunofixationResult("serum", True, day(91))]
    line, a = first_line(neg)
    assert line["bestResponse"] == "CR"
    assert "cr-without-marrow-assessment line=1" in a["dataGaps"]  # the model's code; the cards word it

    absent = _undetectable(line_one())
    line, a = first_line(absent)
    assert line["bestResponse"] == "VGPR"
    assert "cr-not-confirmed-no-immunofixation line=1" in a["dataGaps"]


def test_positive_immunofixation_keeps_an_undetectable_m_protein_at_vgpr():
    pos = _undetectable(line_one())
    pos.immunofixation += [ImmunofixationResult("serum", False, day(60)), ImmunofixationResult("serum", False, day(90))]
    line, a = first_line(pos)
    assert line["bestResponse"] == "VGPR"
    assert not any("cr-not-confirmed" in g for g in a["dataGaps"])


@pytest.mark.parametrize("marrow,best", [(4.9, "CR"), (5.0, "VGPR")])
def test_cr_needs_marrow_plasma_cells_below_5_percent_when_recorded(marrow, best):
    r = _undetectable(line_one())
    r.immunofixation += [ImmunofixationResult("serum", True, day(60)), ImmunofixationResult("serum", True, day(90))]
    labs(r, "marrow_plasma_cells", (95, marrow))
    line, a = first_line(r)
    assert line["bestResponse"] == best
    assert not any("marrow-assessment" in g for g in a["dataGaps"])


def test_baseline_below_10_g_l_is_not_evaluable():
    r = record()
    regimen(r, VRD, 0, active=True)
    labs(r, "serum_m_protein", (-10, 9.9), (60, 1), (90, 1))
    line, _ = first_line(r)
    assert line["bestResponse"] == "not-evaluable" and line["bestResponseDate"] is None


def test_without_a_baseline_before_the_start_the_first_result_within_30_days_is_the_baseline():
    r = record()
    regimen(r, VRD, 0, active=True)
    labs(r, "serum_m_protein", (30, 20), (90, 10), (120, 10))
    assert first_line(r)[0]["bestResponse"] == "PR"
    late = record()
    regimen(late, VRD, 0, active=True)
    labs(late, "serum_m_protein", (31, 20), (90, 10), (120, 10))
    assert first_line(late)[0]["bestResponse"] == "not-evaluable"


@pytest.mark.parametrize("urine,best", [(99, "VGPR"), (100, "PR"), (199, "PR")])
def test_urine_only_vgpr_below_100_pr_below_200(urine, best):
    r = record()
    regimen(r, VRD, 0, active=True)
    labs(r, "urine_m_protein", (-5, 1000), (60, urine), (90, urine))
    assert first_line(r)[0]["bestResponse"] == best


def test_serum_and_urine_measurable_need_both_and_a_paired_urine_result():
    r = line_one((60, 2), (90, 2))
    labs(r, "urine_m_protein", (-5, 1000), (65, 500), (85, 500))  # urine: 50 % = MR
    assert first_line(r)[0]["bestResponse"] == "MR"
    unpaired = line_one((60, 2), (90, 2))
    labs(unpaired, "urine_m_protein", (-5, 1000), (200, 50))  # more than 30 days away
    assert first_line(unpaired)[0]["bestResponse"] == "SD"


def test_flc_only_normal_ratio_is_cr():
    r = record()
    regimen(r, VRD, 0, active=True)
    labs(r, "kappa_flc", (-5, 500), (60, 15), (90, 15))
    labs(r, "lambda_flc", (-5, 10), (60, 12), (90, 12))
    line, _ = first_line(r)
    assert line["bestResponse"] == "CR"


def test_duration_runs_from_the_response_to_the_line_progression():
    r = line_one((60, 10), (90, 10), (300, 16), (330, 17))
    line, a = first_line(r)
    assert line["progressed"] is True and line["progressionDate"] == day(300).isoformat()
    assert line["durationMonths"] == round(240 / 30.44, 1)


def test_less_than_results_count_as_zero_for_the_response():
    line, _ = first_line(line_one((60, 3, "<"), (90, 3, "<")))
    assert line["bestResponse"] == "VGPR"  # "<3 g/L" is 0, not a 85 % reduction


@pytest.mark.parametrize("months,verdict", [(12.0, "durable"), (11.9, "not-durable")])
def test_durable_response_needs_pr_or_better_for_12_months(months, verdict):
    assert response_durability("PR", months) == verdict


def test_durability_below_pr_is_not_durable_and_not_evaluable_is_unknown():
    assert response_durability("MR", 40.0) == "not-durable"
    assert response_durability("not-evaluable", None) == "unknown"
    assert response_durability(None, None) == "unknown"  # no line with the drug: nothing judged


def test_a_running_line_treating_a_relapse_reports_on_its_own_series():
    r = record()
    regimen(r, VRD, 0, 400)
    labs(r, "serum_m_protein", (-10, 30), (60, 2), (90, 2), (500, 8), (530, 9))
    regimen(r, ["daratumumab", "lenalidomide", "dexamethasone"], 545, active=True)
    labs(r, "serum_m_protein", (600, 4))
    a = assess(r, day(610))
    second = a["lines"][1]
    assert second["treats"] == day(500).isoformat()
    assert a["relapse"]["status"] == "none"  # baseline 9 g/L and 4 g/L: judged, no rise
    assert a["relapse"]["date"] is None
    assert a["lines"][0]["progressed"] is True and second["progressed"] is False


def test_a_line_started_after_a_single_rising_result_treats_that_rise():
    r = record()
    regimen(r, VRD, 0, 400)
    labs(r, "serum_m_protein", (-10, 30), (60, 2), (90, 2), (500, 8))
    regimen(r, ["daratumumab", "lenalidomide", "dexamethasone"], 545, active=True)
    labs(r, "serum_m_protein", (600, 4))
    a = assess(r, day(610))
    assert a["lines"][0]["progressed"] is False  # one rising result is not a progression
    assert a["lines"][1]["treats"] == day(500).isoformat()
    assert a["relapse"]["status"] != "unknown"
