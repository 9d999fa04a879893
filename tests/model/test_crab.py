"""Section 3: CRAB / clinical features new since the nadir or the start of the current line."""
from __future__ import annotations

import pytest

from myeloma_model import assess
from myeloma_model.crab import anaemia, crab_features, hypercalcaemia, new_bone_lesion, renal
from myeloma_model.thresholds import CRAB_CALCIUM_MMOL_L, CRAB_CREATININE_RISE_UMOL_L, CRAB_HAEMOGLOBIN_FALL_G_L
from tests.model.builders import condition, day, drug, labs, record


@pytest.mark.parametrize("calcium,present", [(CRAB_CALCIUM_MMOL_L, False), (CRAB_CALCIUM_MMOL_L + 0.01, True)])
def test_hypercalcaemia_is_strictly_above_2_75(calcium, present):
    r = labs(record(), "calcium", (10, calcium))
    assert hypercalcaemia(r, day(0)) is present


def test_hypercalcaemia_before_the_nadir_is_not_new():
    r = labs(record(), "calcium", (10, 3.1))
    assert not hypercalcaemia(r, day(20))


@pytest.mark.parametrize("fall,present", [(CRAB_HAEMOGLOBIN_FALL_G_L, True), (CRAB_HAEMOGLOBIN_FALL_G_L - 0.1, False)])
def test_haemoglobin_fall_from_best_since_nadir(fall, present):
    r = labs(record(), "haemoglobin", (0, 90), (100, 130), (200, 140), (300, 140 - fall))
    assert anaemia(r, day(50)) is present


def test_haemoglobin_best_before_nadir_does_not_count():
    r = labs(record(), "haemoglobin", (0, 150), (100, 125), (200, 120))
    assert not anaemia(r, day(50))


@pytest.mark.parametrize("rise,present", [(CRAB_CREATININE_RISE_UMOL_L, True), (CRAB_CREATININE_RISE_UMOL_L - 1, False)])
def test_creatinine_rise_from_the_start_of_the_current_line(rise, present):
    r = labs(record(), "creatinine", (0, 80), (300, 80 + rise))
    assert renal(r, line_start=day(1), since=day(0)) is present


def test_creatinine_baseline_is_the_current_line_start_not_diagnosis():
    r = labs(record(), "creatinine", (0, 300), (400, 100), (500, 300))
    assert renal(r, line_start=day(450), since=day(0)) is True
    assert renal(r, line_start=day(1), since=day(0)) is False


def test_new_lesion_plasmacytoma_or_extramedullary_since_the_nadir():
    r = record()
    condition(r, "bone-lesion", 5)
    assert not new_bone_lesion(r, day(10))
    condition(r, "plasmacytoma", 20)
    assert new_bone_lesion(r, day(10))
    r2 = condition(record(), "extramedullary-disease", 20)
    assert crab_features(r2, None, day(10)) == ["bone-lesion"]
    r3 = condition(record(), "bone-lesion", None)  # undated: cannot be shown to be new
    assert not new_bone_lesion(r3, day(10))


def test_diagnostic_crab_does_not_make_a_later_relapse_clinical():
    r = labs(record(), "serum_m_protein", (0, 40), (100, 2), (160, 7), (220, 8))
    labs(r, "calcium", (0, 3.2))
    labs(r, "haemoglobin", (0, 80), (160, 130))
    drug(r, "lenalidomide", 1, 90)
    a = assess(r, day(300))
    assert a["relapse"]["status"] == "biochemical" and a["relapse"]["crabFeatures"] == []
