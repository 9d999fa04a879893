"""Section 4: treat now / confirm / none, and the high-risk features that make surveillance unsafe."""
from __future__ import annotations

from cds_service.cards.contract_words import assessment_json
import pytest

from cds_service.cards.treatment import HIGH_RISK_FEATURES
from myeloma_model.contract import from_json, to_json
from myeloma_model.guidance import advise
from myeloma_model.guidance.timing import advise_timing as typed_timing
from myeloma_model.records import PatientRecord
from tests.guidance.helpers import assessment, len_durable

FEATURES = ["circulating-plasma-cells", "extramedullary", "heavy-marrow-infiltration", "high-risk-cytogenetics",
            "relapse-on-therapy", "early-first-relapse", "rising-b2m"]


def advise_timing(a) -> dict:
    """The timing advice as a dict: its value, the status's own value, then its JSON fields."""
    t = typed_timing(a)
    return {"value": t.value, "statusValue": t.status_value, **to_json(t)}


def test_clinical_relapse_is_treat_now_and_surveillance_unsafe():
    t = advise_timing(from_json(assessment(status="clinical", crab=["anaemia"])))
    assert t["value"] == "treat-now" and t["surveillance"] == "unsafe"
    assert t["reasons"] == ["clinical-relapse"]


def test_biochemical_without_high_risk_features_offers_surveillance_as_the_alternative():
    t = advise_timing(from_json(assessment(status="biochemical")))
    assert t["value"] == "treat-now"
    assert t["surveillance"] == "alternative"
    assert t["reasons"] == ["biochemical-default", "surveillance-alternative"]


@pytest.mark.parametrize("feature", FEATURES)
def test_each_high_risk_feature_makes_surveillance_unsafe_and_is_named(feature):
    t = advise_timing(from_json(assessment(status="biochemical", features=[feature])))
    assert t["value"] == "treat-now"
    assert t["surveillance"] == "unsafe"
    assert t["highRiskRelapseFeatures"] == [feature]
    assert t["reasons"] == ["biochemical-default", "surveillance-unsafe"]


def test_every_contract_feature_has_a_clinical_name_on_the_card():
    assert set(HIGH_RISK_FEATURES) == set(FEATURES)
    assert all(HIGH_RISK_FEATURES[f] != f and ("-" not in f or f not in HIGH_RISK_FEATURES[f]) for f in FEATURES)


def test_suspected_relapse_asks_to_confirm():
    t = advise_timing(from_json(assessment(status="suspected")))
    assert t["value"] == "confirm" and t["surveillance"] is None
    assert "repeat" in t["reasons"][0]


@pytest.mark.parametrize("status", ["none", "unknown"])
def test_no_relapse_means_no_timing_advice(status):
    t = advise_timing(from_json(assessment(status=status)))
    assert t == {"value": "none", "statusValue": "none", "stale": False, "reasons": [], "highRiskRelapseFeatures": [],
                 "surveillance": None}


@pytest.mark.parametrize("status,timing", [("suspected", "confirm"), ("none", "none"), ("unknown", "none")])
def test_no_strategy_or_regimens_unless_treat_now(status, timing):
    a = len_durable(status=status)
    out = assessment_json(advise(from_json(a), PatientRecord("p1", in_scope=True), __import__("datetime").date(2024, 7, 1)))
    assert out["timing"] == timing
    assert out["strategy"] == "none" and out["regimens"] == [] and out["missingInvestigations"] == []


def test_biochemical_relapse_gets_strategy_and_regimens():
    from datetime import date

    out = assessment_json(advise(from_json(len_durable(status="biochemical")), PatientRecord("p1", in_scope=True), date(2024, 7, 1)))
    assert out["timing"] == "treat-now" and out["strategy"] != "none" and out["regimens"]


def test_out_of_scope_gets_no_guidance():
    from datetime import date

    a = len_durable()
    a["inScope"] = False
    out = assessment_json(advise(from_json(a), PatientRecord("p1"), date(2024, 7, 1)))
    assert out["timing"] == "none" and out["regimens"] == [] and out["safety"] == []
