"""Section 7: novel-mechanism > switch-class > retreat-same-class, with the reasons listed."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from myeloma_model.guidance.strategy import advise_strategy, durable_response
from myeloma_model.thresholds import (
    DURABLE_RESPONSE_DAYS_OFF_DRUG,
    NOVEL_MECHANISM_MIN_PRIOR_LINES,
    RETREAT_MONTHS_ON_DRUG,
)
from tests.guidance.helpers import assessment, drug, len_durable, len_refractory, triple_class_refractory


def strategy(a):
    return advise_strategy(a, "treat-now")


def test_durable_lenalidomide_response_is_retreat_same_class():
    s = strategy(len_durable())
    assert s["value"] == "retreat-same-class"
    assert any("DRd, KRd, IRd" in r for r in s["reasons"])


def test_lenalidomide_refractory_is_switch_class():
    assert strategy(len_refractory())["value"] == "switch-class"


def test_triple_class_refractory_is_novel_mechanism():
    assert strategy(triple_class_refractory())["value"] == "novel-mechanism"


def test_novel_mechanism_wins_over_switch_class():
    a = triple_class_refractory()
    assert a["drugs"]["lenalidomide"]["refractory"]
    assert strategy(a)["value"] == "novel-mechanism"


def _tce_not_refractory(lines):
    return assessment(drug("lenalidomide", on=27.0, off=13.0, last="2023-04-28"), drug("bortezomib"),
                      drug("daratumumab"), prior_lines=lines)


def test_triple_class_exposed_with_enough_prior_lines_is_novel_mechanism():
    assert strategy(_tce_not_refractory(NOVEL_MECHANISM_MIN_PRIOR_LINES))["value"] == "novel-mechanism"


def test_triple_class_exposed_with_fewer_prior_lines_is_not_novel_mechanism():
    assert strategy(_tce_not_refractory(NOVEL_MECHANISM_MIN_PRIOR_LINES - 1))["value"] == "retreat-same-class"


def _relapse_after_last_dose(days, signal=False):
    last = date(2024, 1, 1)
    return assessment(drug("lenalidomide", on=10.0, off=3.0, last=last.isoformat(), signal=signal),
                      relapse_date=(last + timedelta(days=days)).isoformat())


def test_relapse_just_over_the_durable_window_is_durable():
    a = _relapse_after_last_dose(DURABLE_RESPONSE_DAYS_OFF_DRUG + 1)
    assert durable_response(a) is True
    assert strategy(a)["value"] == "retreat-same-class"


def test_relapse_at_the_durable_window_is_not_durable():
    a = _relapse_after_last_dose(DURABLE_RESPONSE_DAYS_OFF_DRUG)
    assert durable_response(a) is False
    assert strategy(a)["value"] == "switch-class"


def test_retreatment_signal_counts_as_durable():
    a = _relapse_after_last_dose(10, signal=True)
    assert durable_response(a) is True and strategy(a)["value"] == "retreat-same-class"


def test_unknown_durability_switches_class_and_says_so():
    a = assessment(drug("lenalidomide", on=None, off=None, last=None))
    s = strategy(a)
    assert s["value"] == "switch-class"
    assert any("could not be established" in x for x in s["assumptions"])


def test_lenalidomide_naive_without_refractoriness_assumes_lenalidomide_triplets():
    s = strategy(assessment(drug("bortezomib")))
    assert s["value"] == "retreat-same-class" and s["assumptions"]


def test_lenalidomide_naive_refractory_to_a_pi_switches_class():
    s = strategy(assessment(drug("bortezomib", refractory=True)))
    assert s["value"] == "switch-class" and any("PI" in r for r in s["reasons"])


def test_no_strategy_unless_treat_now():
    assert advise_strategy(len_refractory(), "confirm")["value"] == "none"


def test_reasons_name_time_on_and_off_the_index_drug_and_the_signal_threshold():
    s = strategy(len_durable())
    text = " ".join(s["reasons"])
    assert "27.0 months on the drug" in text and "13.0 months since the last dose" in text
    assert f"> {RETREAT_MONTHS_ON_DRUG:g} months" in text


@pytest.mark.parametrize("trend,word", [("rising", "favours switching"), ("stable", "favours retreatment"),
                                        ("unknown", "trend unknown")])
def test_reasons_include_the_b2m_trend(trend, word):
    assert any(word in r for r in strategy(len_durable(b2m=trend))["reasons"])


def test_reasons_include_refractoriness_frailty_and_comorbidities():
    s = strategy(len_refractory(age=84, ecog=1, cautions=["carfilzomib-cardiac"]))
    text = " ".join(s["reasons"])
    assert "Refractory to: lenalidomide (IMiD)" in text
    assert "Fitness: frail" in text and "age 84" in text
    assert "carfilzomib-cardiac" in text
