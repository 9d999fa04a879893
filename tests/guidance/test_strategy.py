"""Section 7: novel-mechanism > switch-class > retreat-same-class, with the reasons listed."""
from __future__ import annotations

import pytest

from myeloma_model.guidance.strategy import advise_strategy, durability
from myeloma_model.thresholds import NOVEL_MECHANISM_MIN_PRIOR_LINES, RETREAT_MONTHS_ON_DRUG
from tests.guidance.helpers import assessment, drug, len_durable, len_refractory, line, triple_class_refractory


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


# --- section 3a durability in the lenalidomide decision (lines built by hand) ----------------------

LEN_LINE = ["bortezomib", "lenalidomide", "dexamethasone"]


def _len_with_response(best, months, signal=False):
    return assessment(drug("lenalidomide", on=26.0, off=13.0, last="2023-04-28", signal=signal),
                      drug("bortezomib", on=4.0, off=50.0), lines=[line(1, LEN_LINE, best, months)])


@pytest.mark.parametrize("best,months,value", [
    ("PR", 12.0, "durable"), ("VGPR", 40.1, "durable"), ("CR", 12.0, "durable"),
    ("PR", 11.9, "not-durable"), ("MR", 30.0, "not-durable"), ("SD", 30.0, "not-durable"),
    ("not-evaluable", None, "unknown"), (None, None, "unknown"),
])
def test_durability_is_pr_or_better_for_at_least_12_months(best, months, value):
    assert durability(_len_with_response(best, months))["value"] == value


def test_durable_response_retreats():
    s = strategy(_len_with_response("VGPR", 12.0))
    assert s["value"] == "retreat-same-class"
    assert any("VGPR lasting 12.0 months" in r for r in s["reasons"])


def test_short_response_without_the_signal_switches_class():
    s = strategy(_len_with_response("PR", 11.9))
    assert s["value"] == "switch-class"
    assert any("not durable" in r for r in s["reasons"])


def test_short_response_with_the_signal_still_retreats_and_says_the_response_was_short():
    s = strategy(_len_with_response("PR", 11.9, signal=True))
    assert s["value"] == "retreat-same-class"
    assert any("short" in r for r in s["reasons"])


def test_unknown_durability_retreats_and_says_it_could_not_be_judged():
    for a in (_len_with_response("not-evaluable", None), len_durable()):  # no `lines` at all: unknown too
        s = strategy(a)
        assert s["value"] == "retreat-same-class"
        assert any("could not be judged" in r for r in s["reasons"])


def test_the_most_recent_line_with_lenalidomide_decides():
    a = _len_with_response("VGPR", 40.0)
    a["lines"].append(line(2, ["lenalidomide", "daratumumab"], "PR", 6.0, start="2022-01-01"))
    assert durability(a)["value"] == "not-durable" and durability(a)["line"] == 2


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


@pytest.mark.parametrize("trend,word", [("rising", "rising"), ("stable", "stable"), ("unknown", "trend unknown")])
def test_reasons_include_the_b2m_trend(trend, word):
    assert any(word in r for r in strategy(len_durable(b2m=trend))["reasons"])


@pytest.mark.parametrize("remission,stated", [(23.9, False), (24.0, True)])
def test_stable_b2m_favours_retreatment_only_after_a_remission_of_24_months(remission, stated):
    a = assessment(drug("lenalidomide", on=26.0, off=13.0), drug("bortezomib"), b2m="stable",
                   lines=[line(1, LEN_LINE, "VGPR", remission)])
    text = " ".join(strategy(a)["reasons"])
    assert ("may still be effective" in text) is stated
    assert "Beta-2 microglobulin stable" in text


@pytest.mark.parametrize("at_relapse,stated", [(True, True), (False, False)])
def test_rising_b2m_favours_switching_only_with_a_relapse_on_or_soon_after_an_imid(at_relapse, stated):
    a = assessment(drug("lenalidomide", active=at_relapse, on=26.0, off=0.0 if at_relapse else 30.0,
                        last="2024-06-01" if at_relapse else "2021-01-01"), b2m="rising")
    assert any("favours switching" in r for r in strategy(a)["reasons"]) is stated


def test_running_lenalidomide_is_named_as_a_failing_drug_not_a_retreatment_signal():
    text = " ".join(strategy(len_refractory())["reasons"])
    assert "continue a failing drug" in text and "40.0 months on the drug" in text


def test_reasons_include_refractoriness_and_frailty():
    s = strategy(len_refractory(age=84, ecog=1, cautions=["carfilzomib-cardiac"]))
    text = " ".join(s["reasons"])
    assert "Refractory to: lenalidomide (IMiD)" in text
    assert "Fitness: frail" in text and "age 84" in text
