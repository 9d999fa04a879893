"""Section 3: IMWG progression, confirmation, SPR, status precedence, nadir reset, comparators."""
from __future__ import annotations

import pytest

from myeloma_model import assess
from myeloma_model.markers import MarkerBook
from myeloma_model.progression import serum_m_protein_progression
from myeloma_model.thresholds import (
    CRAB_CALCIUM_MMOL_L,
    PD_DFLC_ABSOLUTE_RISE_MG_L,
    PD_MARROW_PLASMA_CELL_RISE_POINTS,
    PD_RELATIVE_RISE,
    PD_SERUM_ABSOLUTE_RISE_G_L,
    PD_SERUM_ABSOLUTE_RISE_HIGH_NADIR_G_L,
    PD_SERUM_HIGH_NADIR_G_L,
    PD_URINE_ABSOLUTE_RISE_MG_24H,
    SPR_DOUBLING_MIN_NADIR_G_L,
    SPR_FLC_ABSOLUTE_RISE_MG_L,
    SPR_FLC_RELATIVE_RISE,
    SPR_SERUM_ABSOLUTE_RISE_G_L,
    SPR_URINE_ABSOLUTE_RISE_MG_24H,
)
from tests.model.builders import condition, day, drug, labs, record

AS_OF = day(2000)


def relapse(rec):
    return assess(rec, AS_OF)["relapse"]


def serum(*values, start=100, step=60, rec=None):
    """A serum M-protein series: baseline 40 g/L at day 0, then `values` every `step` days."""
    rec = rec or record()
    labs(rec, "serum_m_protein", (0, 40), *[(start + i * step, v) for i, v in enumerate(values)])
    return rec


# --- serum M-protein: >= 25 % AND >= 5 g/L -------------------------------------------------------

def test_serum_rise_of_exactly_5_g_l_and_25_percent_is_progression():
    nadir = PD_SERUM_ABSOLUTE_RISE_G_L / PD_RELATIVE_RISE  # 20 g/L: 25 % of it is exactly 5 g/L
    rel = relapse(serum(nadir, nadir + PD_SERUM_ABSOLUTE_RISE_G_L, nadir + PD_SERUM_ABSOLUTE_RISE_G_L))
    assert rel["status"] == "biochemical" and rel["criteria"] == ["serum-m-protein"]


def test_serum_rise_of_4_9_g_l_is_not_progression():
    nadir = PD_SERUM_ABSOLUTE_RISE_G_L / PD_RELATIVE_RISE
    rise = PD_SERUM_ABSOLUTE_RISE_G_L - 0.1
    assert relapse(serum(nadir, nadir + rise, nadir + rise))["status"] == "none"


def test_serum_rise_of_5_g_l_but_under_25_percent_is_not_progression():
    nadir = 30.0  # 5 g/L is 16.7 %
    assert relapse(serum(nadir, nadir + PD_SERUM_ABSOLUTE_RISE_G_L, nadir + 6))["status"] == "none"
    assert relapse(serum(nadir, nadir * (1 + PD_RELATIVE_RISE), nadir * (1 + PD_RELATIVE_RISE)))["status"] == "biochemical"


def test_serum_nadir_of_50_needs_a_10_g_l_rise_which_alone_suffices():
    below = PD_SERUM_HIGH_NADIR_G_L - 0.1
    high = PD_SERUM_HIGH_NADIR_G_L
    # Just below 50 g/L: 25 % AND 5 g/L (here the 25 % bar decides).
    needed_below = max(PD_SERUM_ABSOLUTE_RISE_G_L, below * PD_RELATIVE_RISE)
    assert serum_m_protein_progression(below + needed_below, below)
    assert not serum_m_protein_progression(below + needed_below - 0.1, below)
    # At a nadir of 50 g/L and above: a 10 g/L rise is enough (IMWG), even though it is < 25 %.
    assert serum_m_protein_progression(high + PD_SERUM_ABSOLUTE_RISE_HIGH_NADIR_G_L, high)
    assert not serum_m_protein_progression(high + PD_SERUM_ABSOLUTE_RISE_HIGH_NADIR_G_L - 0.1, high)
    assert serum_m_protein_progression(80 + PD_SERUM_ABSOLUTE_RISE_HIGH_NADIR_G_L, 80.0)  # 12.5 %


# --- urine M-protein: >= 25 % AND >= 200 mg/24h -----------------------------------------------------

@pytest.mark.parametrize("rise,status", [(PD_URINE_ABSOLUTE_RISE_MG_24H, "biochemical"),
                                         (PD_URINE_ABSOLUTE_RISE_MG_24H - 1, "none")])
def test_urine_rise_threshold(rise, status):
    nadir = PD_URINE_ABSOLUTE_RISE_MG_24H / PD_RELATIVE_RISE  # 800: 25 % is 200
    r = labs(record(), "urine_m_protein", (0, 3000), (100, nadir), (200, nadir + rise), (260, nadir + rise))
    rel = relapse(r)
    assert rel["status"] == status
    assert rel["criteria"] == (["urine-m-protein"] if status == "biochemical" else [])


# --- dFLC: only without measurable M-protein; >= 25 % AND > 100 mg/L ---------------------------------

def flc_patient(dflc_values, serum_baseline=None):
    r = record(light_chain="kappa")
    for i, v in enumerate(dflc_values):
        labs(r, "kappa_flc", (i * 60, v + 10))
        labs(r, "lambda_flc", (i * 60, 10))
    if serum_baseline is not None:
        labs(r, "serum_m_protein", (0, serum_baseline), (60, 1), (120, 1))
    return r


@pytest.mark.parametrize("rise,status", [(PD_DFLC_ABSOLUTE_RISE_MG_L, "none"),
                                         (PD_DFLC_ABSOLUTE_RISE_MG_L + 0.1, "biochemical")])
def test_dflc_rise_must_exceed_100(rise, status):
    nadir = PD_DFLC_ABSOLUTE_RISE_MG_L / PD_RELATIVE_RISE  # 400: 25 % is 100
    rel = relapse(flc_patient([2000, nadir, nadir + rise, nadir + rise]))
    assert rel["status"] == status
    if status == "biochemical":
        assert rel["criteria"] == ["dflc"]


def test_dflc_not_used_when_serum_m_protein_is_measurable_at_line_start():
    values = [2000, 400, 900, 950]
    assert relapse(flc_patient(values, serum_baseline=30))["criteria"] == []
    assert relapse(flc_patient(values, serum_baseline=5))["criteria"] == ["dflc"]


# --- marrow plasma cells: +10 points, only when nothing is measurable ---------------------------------

@pytest.mark.parametrize("rise,status", [(PD_MARROW_PLASMA_CELL_RISE_POINTS, "biochemical"),
                                         (PD_MARROW_PLASMA_CELL_RISE_POINTS - 0.1, "none")])
def test_marrow_plasma_cell_rise(rise, status):
    r = labs(record(), "marrow_plasma_cells", (0, 40), (100, 5), (200, 5 + rise), (300, 5 + rise))
    assert relapse(r)["status"] == status


def test_marrow_not_used_when_m_protein_measurable():
    r = labs(record(), "marrow_plasma_cells", (0, 40), (100, 5), (200, 30), (300, 30))
    labs(r, "serum_m_protein", (0, 30), (100, 1), (300, 1))
    assert relapse(r)["criteria"] == []


# --- confirmation and status precedence --------------------------------------------------------------

def test_single_rise_on_latest_is_suspected_and_dated():
    rel = relapse(serum(2, 7))
    assert rel["status"] == "suspected" and rel["date"] == day(160).isoformat()


def test_two_consecutive_rises_confirm_and_date_is_the_first():
    rel = relapse(serum(2, 7, 8))
    assert rel["status"] == "biochemical" and rel["date"] == day(160).isoformat()
    assert rel["markers"]["serumMProtein"] == {
        "latest": 8.0, "nadir": 2.0, "unit": "g/L",
        "latestDate": day(220).isoformat(), "nadirDate": day(100).isoformat()}


def test_non_consecutive_rises_do_not_confirm():
    assert relapse(serum(2, 7, 3, 7.5))["status"] == "suspected"
    assert relapse(serum(2, 7, 3, 4))["status"] == "none"


def test_same_day_duplicate_does_not_confirm():
    r = serum(2, 7)
    labs(r, "serum_m_protein", (160, 7))
    assert relapse(r)["status"] == "suspected"


def test_clinical_needs_a_progression_criterion_and_a_crab_feature():
    r = serum(2, 7)
    labs(r, "calcium", (170, CRAB_CALCIUM_MMOL_L + 0.01))
    rel = relapse(r)
    assert rel["status"] == "clinical" and rel["crabFeatures"] == ["hypercalcaemia"]
    r2 = serum(2, 3)
    labs(r2, "calcium", (170, CRAB_CALCIUM_MMOL_L + 0.01))
    assert relapse(r2)["status"] == "none"


def test_clinical_beats_biochemical():
    r = serum(2, 7, 8)
    condition(r, "bone-lesion", 200)
    assert relapse(r)["status"] == "clinical"


def test_unknown_without_two_results():
    assert relapse(record())["status"] == "unknown"
    assert relapse(labs(record(), "serum_m_protein", (0, 5)))["status"] == "unknown"


# --- nadir reset at a new line ------------------------------------------------------------------------

def test_nadir_resets_at_the_start_of_a_new_line():
    r = serum(2, 7, 8)  # progression on lenalidomide, then a new line
    drug(r, "lenalidomide", 1, 250)
    drug(r, "daratumumab", 250, None, active=True)
    labs(r, "serum_m_protein", (300, 6), (360, 6.5))
    rel = relapse(r)
    assert rel["status"] == "none"
    assert rel["markers"]["serumMProtein"]["nadir"] == 6.0
    a = assess(r, AS_OF)
    assert a["details"]["progressionEvents"] == [{"date": day(160).isoformat(), "status": "biochemical", "line": 1}]


# --- comparators ---------------------------------------------------------------------------------------

def test_less_than_value_never_creates_a_rise():
    r = labs(record(), "serum_m_protein", (0, 30), (100, 0.5), (200, 10, "<"), (300, 10, "<"))
    assert relapse(r)["status"] == "none"


def test_greater_than_value_is_not_a_nadir_but_can_show_a_rise():
    r = labs(record(), "serum_m_protein", (0, 1, ">"), (100, 2), (200, 7, ">"), (300, 8))
    rel = relapse(r)
    assert rel["status"] == "biochemical" and rel["markers"]["serumMProtein"]["nadir"] == 2.0


def test_less_than_nadir_counts_as_zero():
    # docs/clinical-model.md s2: "<1 g/L" is below the reporting limit and counts as 0 for the nadir,
    # so a rise to 5 g/L (>= 5 g/L above 0) is progression; 4.9 g/L is not.
    r = labs(record(), "serum_m_protein", (0, 30), (100, 1, "<"), (200, 5), (300, 5))
    rel = relapse(r)
    assert rel["status"] == "biochemical"
    assert rel["markers"]["serumMProtein"]["nadirComparator"] == "<"
    r2 = labs(record(), "serum_m_protein", (0, 30), (100, 1, "<"), (200, 4.9), (300, 4.9))
    assert relapse(r2)["status"] == "none"


def test_less_than_haemoglobin_is_not_zero():
    # only the myeloma markers count "<x" as 0; other analytes keep x as an upper bound
    r = labs(record(), "haemoglobin", (0, 50, "<"))
    assert MarkerBook(r).points("haemoglobin")[0].high == 50


# --- significant paraprotein relapse -------------------------------------------------------------------

@pytest.mark.parametrize("nadir,spr", [(SPR_DOUBLING_MIN_NADIR_G_L, True), (SPR_DOUBLING_MIN_NADIR_G_L - 0.1, False)])
def test_spr_doubling_needs_a_nadir_of_5(nadir, spr):
    rel = relapse(serum(nadir, 2 * nadir, 2 * nadir))
    assert rel["significantParaproteinRelapse"] is spr


@pytest.mark.parametrize("rise,spr", [(SPR_SERUM_ABSOLUTE_RISE_G_L, True), (SPR_SERUM_ABSOLUTE_RISE_G_L - 0.1, False)])
def test_spr_serum_rise_of_10(rise, spr):
    nadir = 25.0  # doubling out of reach
    rel = relapse(serum(nadir, nadir + rise, nadir + rise))
    assert rel["status"] == "biochemical" and rel["significantParaproteinRelapse"] is spr


def test_spr_needs_confirmation():
    assert relapse(serum(25, 36))["significantParaproteinRelapse"] is False


@pytest.mark.parametrize("rise,spr", [(SPR_URINE_ABSOLUTE_RISE_MG_24H, True), (SPR_URINE_ABSOLUTE_RISE_MG_24H - 1, False)])
def test_spr_urine_rise_of_500(rise, spr):
    r = labs(record(), "urine_m_protein", (0, 5000), (100, 1000), (200, 1000 + rise), (300, 1000 + rise))
    assert relapse(r)["significantParaproteinRelapse"] is spr


@pytest.mark.parametrize("nadir,rise,spr", [
    (400, SPR_FLC_ABSOLUTE_RISE_MG_L, True), (400, SPR_FLC_ABSOLUTE_RISE_MG_L - 0.1, False),
    (1000, SPR_FLC_RELATIVE_RISE * 1000, True), (1000, SPR_FLC_RELATIVE_RISE * 1000 - 0.1, False),
])
def test_spr_involved_flc_rise_max_200_or_25_percent(nadir, rise, spr):
    r = record(light_chain="kappa")
    for i, v in enumerate([3000, nadir, nadir + rise, nadir + rise]):
        labs(r, "kappa_flc", (i * 60, v))
        labs(r, "lambda_flc", (i * 60, 10))
    assert relapse(r)["significantParaproteinRelapse"] is spr


def test_spr_flc_needs_an_abnormal_ratio():
    r = record(light_chain="kappa")
    for i, v in enumerate([3000, 400, 700, 700]):
        labs(r, "kappa_flc", (i * 60, v))
        labs(r, "lambda_flc", (i * 60, 500))  # ratio 1.4: normal
    assert relapse(r)["significantParaproteinRelapse"] is False


def test_spr_flag_reported_even_when_clinical():
    r = serum(5, 10, 10)
    labs(r, "calcium", (170, 3.0))
    rel = relapse(r)
    assert rel["status"] == "clinical" and rel["significantParaproteinRelapse"] is True
