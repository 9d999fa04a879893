"""Section 7: novel-mechanism > switch-class > retreat-same-class, with the reasons listed."""
from __future__ import annotations

import pytest

from myeloma_model.contract import from_json, to_json
from myeloma_model.guidance.strategy import advise_strategy, durability
from myeloma_model.thresholds import NOVEL_MECHANISM_MIN_PRIOR_LINES
from tests.guidance.helpers import assessment, drug, len_durable, len_refractory, line, triple_class_refractory


def strategy(a):
    """The strategy advice with its reasons in their JSON form (codes with values)."""
    s = advise_strategy(from_json(a), "treat-now")
    return {"value": s.value, "reasons": to_json(s.reasons), "assumptions": list(s.assumptions)}


def codes(s) -> list[str]:
    return [r["code"] for r in s["reasons"]]


def s_category(s) -> str:
    return next(r for r in s["reasons"] if r["code"] == "refractory")["category"]


def test_durable_lenalidomide_response_is_retreat_same_class():
    s = strategy(len_durable())
    assert s["value"] == "retreat-same-class"
    # the helper carries no `lines`: durability unknown, still retreatment (durable: see below)
    assert s["reasons"][0] == {"code": "lenalidomide-durability-unknown"}


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
    assert durability(from_json(_len_with_response(best, months))).value == value


def test_durable_response_retreats():
    s = strategy(_len_with_response("VGPR", 12.0))
    assert s["value"] == "retreat-same-class"
    assert s["reasons"][0] == {"code": "lenalidomide-durable"}
    assert {"code": "earlier-response", "drug": "lenalidomide", "line": 1, "bestResponse": "VGPR",
            "durationMonths": 12.0, "durability": "durable"} in s["reasons"]


def test_short_response_without_the_signal_switches_class():
    s = strategy(_len_with_response("PR", 11.9))
    assert s["value"] == "switch-class"
    assert s["reasons"][0]["code"] == "lenalidomide-not-durable"
    assert next(r for r in s["reasons"] if r["code"] == "earlier-response")["durability"] == "not-durable"


def test_short_response_with_the_signal_still_retreats_and_says_the_response_was_short():
    s = strategy(_len_with_response("PR", 11.9, signal=True))
    assert s["value"] == "retreat-same-class"
    assert s["reasons"][0]["code"] == "lenalidomide-signal-short-response"


def test_unknown_durability_retreats_and_says_it_could_not_be_judged():
    for a in (_len_with_response("not-evaluable", None), len_durable()):  # no `lines` at all: unknown too
        s = strategy(a)
        assert s["value"] == "retreat-same-class"
        assert s["reasons"][0]["code"] == "lenalidomide-durability-unknown"


def test_the_most_recent_line_with_lenalidomide_decides():
    a = _len_with_response("VGPR", 40.0)
    a["lines"].append(line(2, ["lenalidomide", "daratumumab"], "PR", 6.0, start="2022-01-01"))
    assert durability(from_json(a)).value == "not-durable" and durability(from_json(a)).line == 2


def test_lenalidomide_naive_without_refractoriness_assumes_lenalidomide_triplets():
    s = strategy(assessment(drug("bortezomib")))
    assert s["value"] == "retreat-same-class" and s["assumptions"] == ["lenalidomide-naive-triplets"]


def test_lenalidomide_naive_refractory_to_a_pi_switches_class():
    s = strategy(assessment(drug("bortezomib", refractory=True)))
    assert s["value"] == "switch-class" and s["reasons"][0] == {"code": "other-class-refractory", "classes": ["PI"]}
    assert s["assumptions"] == ["lenalidomide-naive-switch"]


def test_no_strategy_unless_treat_now():
    assert advise_strategy(from_json(len_refractory()), "confirm").value == "none"


def test_reasons_name_time_on_and_off_the_index_drug_and_the_signal():
    s = strategy(len_durable())
    times = next(r for r in s["reasons"] if r["code"] == "index-drug-times")
    assert times["monthsOnDrug"] == 27.0 and times["monthsSinceLastDose"] == 13.0
    assert times["retreatmentSignal"] is False and times["activeAtRelapse"] is False


def test_reasons_are_codes_and_values_never_display_sentences():
    for make in (len_durable, len_refractory, triple_class_refractory):
        for r in strategy(make())["reasons"]:
            assert set(r) >= {"code"} and " " not in r["code"]


@pytest.mark.parametrize("trend,code", [("rising", "b2m-rising"), ("stable", "b2m-stable"), ("unknown", "b2m-unknown")])
def test_reasons_include_the_b2m_trend(trend, code):
    assert code in codes(strategy(len_durable(b2m=trend)))


@pytest.mark.parametrize("remission,stated", [(23.9, False), (24.0, True)])
def test_stable_b2m_favours_retreatment_only_after_a_remission_of_24_months(remission, stated):
    a = assessment(drug("lenalidomide", on=26.0, off=13.0), drug("bortezomib"), b2m="stable",
                   lines=[line(1, LEN_LINE, "VGPR", remission)])
    found = codes(strategy(a))
    assert ("b2m-stable-long-remission" in found) is stated
    assert ("b2m-stable" in found) is not stated


@pytest.mark.parametrize("at_relapse,stated", [(True, True), (False, False)])
def test_rising_b2m_favours_switching_only_with_a_relapse_on_or_soon_after_an_imid(at_relapse, stated):
    a = assessment(drug("lenalidomide", active=at_relapse, on=26.0, off=0.0 if at_relapse else 30.0,
                        last="2024-06-01" if at_relapse else "2021-01-01"), b2m="rising")
    assert ("b2m-rising-after-imid" in codes(strategy(a))) is stated


def test_running_lenalidomide_is_named_as_a_failing_drug_not_a_retreatment_signal():
    times = next(r for r in strategy(len_refractory())["reasons"] if r["code"] == "index-drug-times")
    assert times["activeAtRelapse"] is True and times["monthsOnDrug"] == 40.0


def test_reasons_include_refractoriness_and_frailty():
    s = strategy(len_refractory(age=84, ecog=1, cautions=["carfilzomib-cardiac"]))
    assert {"code": "refractory", "drugs": ["lenalidomide"], "category": s_category(s)} in s["reasons"]
    assert {"code": "fitness", "frailty": "frail", "age": 84, "ecog": 1} in s["reasons"]
