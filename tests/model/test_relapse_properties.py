"""Property tests of the relapse rules on random marker series (hypothesis)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from myeloma_model import assess
from tests.model.builders import day, labs, record

values = st.lists(st.floats(min_value=0.1, max_value=80, allow_nan=False), min_size=2, max_size=12)


def series_record(vals, comparator=None):
    r = record()
    labs(r, "serum_m_protein", *[(30 * i, v, comparator) if comparator and i else (30 * i, v)
                                 for i, v in enumerate(vals)])
    return r


@settings(max_examples=60, deadline=None)
@given(values)
def test_censored_below_limit_results_never_create_progression(vals):
    status = assess(series_record(vals, comparator="<"), day(1000))["relapse"]["status"]
    assert status in ("none", "unknown")


@settings(max_examples=60, deadline=None)
@given(values)
def test_same_day_duplicates_never_change_the_verdict(vals):
    once = assess(series_record(vals), day(1000))["relapse"]
    twice_rec = series_record(vals)
    labs(twice_rec, "serum_m_protein", *[(30 * i, v) for i, v in enumerate(vals)])
    twice = assess(twice_rec, day(1000))["relapse"]
    assert (twice["status"], twice["date"], twice["criteria"]) == (once["status"], once["date"], once["criteria"])


@settings(max_examples=60, deadline=None)
@given(values)
def test_a_falling_series_never_progresses(vals):
    falling = sorted(vals, reverse=True)
    assert assess(series_record(falling), day(1000))["relapse"]["status"] == "none"
