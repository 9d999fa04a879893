"""Data freshness (docs/clinical-model.md s10): thresholds at 90/91 and 180/181 days, stale -> confirm."""
from __future__ import annotations

from datetime import timedelta

import pytest

from myeloma_model import assess
from tests.model.builders import day, drug, labs, record, regimen


def relapsed():
    """Biochemical relapse confirmed on day 500 and 530 (latest marker day 530)."""
    r = record()
    regimen(r, ["bortezomib", "lenalidomide", "dexamethasone"], 0, 400)
    labs(r, "serum_m_protein", (-10, 30), (60, 2), (90, 2), (500, 8), (530, 9))
    return r


@pytest.mark.parametrize("age,freshness", [(90, "fresh"), (91, "aging"), (180, "aging"), (181, "stale")])
def test_freshness_thresholds(age, freshness):
    a = assess(relapsed(), day(530 + age))
    assert a["relapse"]["latestMarkerDate"] == day(530).isoformat()
    assert a["dataFreshness"] == freshness


def test_no_markers_is_none():
    a = assess(record(), day(100))
    assert a["dataFreshness"] == "none" and a["relapse"]["latestMarkerDate"] is None


def test_stale_data_never_treat_now_but_the_strategy_is_still_worked_out():
    fresh = assess(relapsed(), day(530 + 180))
    assert fresh["timing"] == "treat-now"
    stale = assess(relapsed(), day(530 + 181))
    assert stale["relapse"]["status"] == "biochemical"
    assert stale["timing"] == "confirm"
    assert stale["strategy"] != "none" and stale["regimens"]
    assert stale["guidance"]["provisional"] is True


def test_stale_data_confirm_also_without_a_relapse():
    r = record()
    labs(r, "serum_m_protein", (0, 20), (30, 20))
    assert assess(r, day(30 + 181))["timing"] == "confirm"
    assert assess(r, day(30 + 180))["timing"] == "none"


@pytest.mark.parametrize("days_old,gap", [(365, False), (366, True)])
def test_active_medication_on_evidence_older_than_12_months_is_a_data_gap(days_old, gap):
    r = record()
    drug(r, "lenalidomide", 0, active=True)
    a = assess(r, day(0) + timedelta(days=days_old))
    assert any(g.startswith("stale-active-medication drug=lenalidomide") for g in a["dataGaps"]) is gap
