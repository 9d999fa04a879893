"""Section 6: age, ECOG, frailty, comorbidity cautions."""
from __future__ import annotations

from datetime import date

import pytest

from myeloma_model import assess
from myeloma_model.fitness import age_on, frailty
from myeloma_model.thresholds import (
    FRAIL_AGE_OVER,
    FRAIL_ECOG_MIN,
    INTERMEDIATE_AGE_MIN,
    INTERMEDIATE_ECOG,
    RENAL_DOSE_ADJUST_EGFR,
    RENAL_SEVERE_EGFR,
)
from tests.model.builders import condition, day, ecog, labs, record


@pytest.mark.parametrize("age,ecog_score,expected", [
    (INTERMEDIATE_AGE_MIN - 1, None, "fit"),        # 75
    (INTERMEDIATE_AGE_MIN, None, "intermediate"),   # 76
    (FRAIL_AGE_OVER, None, "intermediate"),         # 80
    (FRAIL_AGE_OVER + 1, None, "frail"),            # 81
    (None, INTERMEDIATE_ECOG - 1, "fit"),
    (None, INTERMEDIATE_ECOG, "intermediate"),
    (None, FRAIL_ECOG_MIN, "frail"),
    (60, FRAIL_ECOG_MIN, "frail"),
    (FRAIL_AGE_OVER + 1, 0, "frail"),
    (None, None, "unknown"),
])
def test_frailty(age, ecog_score, expected):
    assert frailty(age, ecog_score) == expected


def test_age_in_completed_years_at_as_of():
    assert age_on(date(1950, 6, 2), date(2025, 6, 1)) == 74
    assert age_on(date(1950, 6, 1), date(2025, 6, 1)) == 75


def test_latest_ecog_is_used():
    r = record(birth_date=date(1955, 1, 1))
    ecog(r, 3, when=10)
    ecog(r, 1, when=200)
    f = assess(r, day(300))["fitness"]
    assert f["ecog"] == 1 and f["frailty"] == "fit" and f["age"] == 65


@pytest.mark.parametrize("egfr,cautions", [
    (RENAL_DOSE_ADJUST_EGFR, []),
    (RENAL_DOSE_ADJUST_EGFR - 0.1, ["renal-dose-adjust"]),
    (RENAL_SEVERE_EGFR, ["renal-dose-adjust"]),
    (RENAL_SEVERE_EGFR - 0.1, ["renal-dose-adjust", "renal-severe"]),
])
def test_renal_cautions_from_the_latest_egfr(egfr, cautions):
    r = labs(record(), "egfr", (0, 20), (100, egfr))
    assert assess(r, day(200))["fitness"]["cautions"] == cautions


def test_condition_cautions():
    r = record()
    condition(r, "heart-failure", 0)
    condition(r, "peripheral-neuropathy", 0)
    condition(r, "venous-thromboembolism", 0, active=False)  # history counts
    assert assess(r, day(10))["fitness"]["cautions"] == ["carfilzomib-cardiac", "neuropathy", "vte-prophylaxis"]
    r2 = condition(record(), "heart-failure", 0, active=False)
    assert assess(r2, day(10))["fitness"]["cautions"] == []
