"""Guidance cards (timing, options, investigations, safety): CDS Hooks 2.0 shape, topics, sources,
override reasons, draft ServiceRequests validated as FHIR R4B."""
from __future__ import annotations

from datetime import date

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cds_service.cards import render_patient_view
from cds_service.cards.common import TOPIC_SYSTEM
from myeloma_model.guidance import advise
from myeloma_model.records import InvestigationRecord, PatientRecord
from tests.guidance.helpers import assessment, drug, len_durable, len_refractory, triple_class_refractory
from tests.schema_assert import assert_cds_response

AS_OF = date(2024, 7, 1)


def full(a: dict, record: PatientRecord | None = None) -> dict:
    a = dict(a)
    a.update(advise(a, record or PatientRecord("p1", in_scope=True), AS_OF))
    return a


def cards_for(a, record=None):
    return render_patient_view(full(a, record))


def by_topic(cards):
    out = {}
    for c in cards:
        out.setdefault(c["source"]["topic"]["code"], []).append(c)
    return out


@pytest.mark.parametrize("make", [len_durable, len_refractory, triple_class_refractory])
def test_cards_validate_and_each_has_topic_source_url_and_override_reasons(make):
    cards = cards_for(make())
    assert_cds_response({"cards": cards})
    topics = by_topic(cards)
    assert {"relapse-status", "treatment-timing", "treatment-options", "investigations"} <= set(topics)
    for c in cards:
        assert c["source"]["topic"]["system"] == TOPIC_SYSTEM
        assert c["source"]["url"].startswith("https://")
        assert len(c["summary"]) < 140
        if c["source"]["topic"]["code"] != "relapse-status":
            assert c["overrideReasons"] and all({"system", "code", "display"} <= set(o) for o in c["overrideReasons"])


def test_options_card_shows_strategy_reasons_regimens_evidence_and_not_offered_in_clinical_words():
    a = full(len_refractory(cautions=["carfilzomib-cardiac"]))
    card = by_topic(render_patient_view(a))["treatment-options"][0]
    assert card["summary"] == "Switch drug class: DVd, DKd or IsaKd"  # carfilzomib (warning level) after DVd
    d = card["detail"]
    assert "Refractory to: lenalidomide" in d
    assert "CASTOR: 12-month PFS 60% vs 22%; ORR 84% vs 63% (Vd)" in d
    assert "CANDOR (no figures in the review)" in d
    assert "heart failure or cardiomyopathy" in d and "carfilzomib-cardiac" not in d
    assert "DRd: the disease is refractory to lenalidomide" in d
    assert "IsaPd: for 2 or more prior lines; 1 prior line(s) on record" in d
    assert "not-triple-class-exposed" not in d and "triple-class exposed disease" in d


@pytest.mark.parametrize("make,summary", [
    (lambda: len_durable(riss="II"), "Retreat within the same drug class: DRd, KRd or IRd"),
    (lambda: len_durable(hrc=["gain1q"]), "Retreat within the same drug class: DRd, KRd or IRd"),
    (lambda: len_durable(age=84), "Retreat within the same drug class at reduced intensity: doublets first: Rd, Pd or Kd"),
    (lambda: len_refractory(age=84), "Switch drug class at reduced intensity: doublets first: Pd, Kd or Vd"),
])
def test_summary_names_the_strategy_and_the_first_three_of_the_ranked_list(make, summary):
    a = full(make())
    card = by_topic(render_patient_view(a))["treatment-options"][0]
    assert card["summary"] == summary
    assert [r["code"] for r in a["regimens"][:3]] == summary.rsplit(": ", 1)[1].replace(" or", ",").split(", ")


def test_summary_never_names_a_strategy_its_first_regimen_contradicts():
    # retreat chosen, but every lenalidomide triplet has a refractory partner drug
    a = full(assessment(drug("lenalidomide", on=20.0, off=30.0),
                        *[drug(d, refractory=True, on=5.0, off=1.0, signal=False)
                          for d in ("daratumumab", "carfilzomib", "ixazomib", "elotuzumab")], prior_lines=2))
    assert a["strategy"] == "retreat-same-class"
    summary = by_topic(render_patient_view(a))["treatment-options"][0]["summary"]
    assert "none of its regimens fits" in summary


def test_options_card_shows_toxicity_and_notes():
    a = full(len_durable(prior_lines=3))
    a2 = full(assessment(drug("lenalidomide", on=20.0, off=30.0), drug("bortezomib", on=6.0, off=40.0),
                         drug("daratumumab", on=10.0, off=20.0), prior_lines=3))
    d = by_topic(render_patient_view(a2))["treatment-options"][0]["detail"]
    assert "KarMMa-3: ide-cel: adverse events 99%, CRS 88%" in d and "MajesTEC-1" in d and "HR 2.13" in d
    assert "thromboprophylaxis" in d and "withdrawn" in d
    assert "KarMMa-3" not in by_topic(render_patient_view(a))["treatment-options"][0]["detail"].split("Not offered")[0]


def test_options_card_is_a_warning_when_the_best_option_carries_a_warning():
    a = full(len_durable(age=85))  # frail: doublets first (no warning), so still info
    assert by_topic(render_patient_view(a))["treatment-options"][0]["indicator"] == "info"
    b = full(assessment(drug("lenalidomide", refractory=True, on=40.0, off=1.0), drug("bortezomib", refractory=True,
                        on=40.0, off=1.0), drug("carfilzomib", refractory=True, on=40.0, off=1.0), prior_lines=2))
    regs = b["regimens"]
    assert regs and regs[0]["warning"]
    assert by_topic(render_patient_view(b))["treatment-options"][0]["indicator"] == "warning"


def test_timing_card_indicator_and_surveillance_wording():
    t = by_topic(cards_for(len_durable()))["treatment-timing"][0]
    assert t["indicator"] == "warning" and "surveillance" in t["summary"]
    t = by_topic(cards_for(len_durable(features=["extramedullary"])))["treatment-timing"][0]
    assert "unsafe" in t["summary"] and "extramedullary" in t["detail"]
    t = by_topic(cards_for(len_durable(status="clinical", crab=["anaemia"])))["treatment-timing"][0]
    assert t["indicator"] == "critical"


def test_suspected_relapse_gets_a_confirm_card_and_no_options():
    topics = by_topic(cards_for(len_durable(status="suspected")))
    assert topics["treatment-timing"][0]["indicator"] == "info"
    assert "treatment-options" not in topics and "investigations" not in topics


def test_no_relapse_no_guidance_cards():
    topics = by_topic(cards_for(len_durable(status="none")))
    assert set(topics) == {"relapse-status"}


def test_investigation_suggestions_create_valid_draft_service_requests():
    cards = cards_for(len_durable())
    card = by_topic(cards)["investigations"][0]
    assert card["selectionBehavior"] == "any"
    a = full(len_durable())
    assert len(card["suggestions"]) == len(a["missingInvestigations"])
    uuids = set()
    for s in card["suggestions"]:
        uuids.add(s["uuid"])
        (action,) = s["actions"]
        assert action["type"] == "create" and action["description"]
        res = action["resource"]
        ServiceRequest.model_validate(res)  # FHIR R4B validation
        assert res["status"] == "draft" and res["intent"] == "proposal"
        assert res["subject"] == {"reference": "Patient/p1"}
    assert len(uuids) == len(card["suggestions"])


def test_service_requests_carry_loinc_where_one_exists_else_text_only():
    from fhir_mappings.terminology import investigation_coding

    card = by_topic(cards_for(len_durable()))["investigations"][0]
    seen_coded = False
    for s in card["suggestions"]:
        res = s["actions"][0]["resource"]
        code = s["actions"][0]["description"].rsplit("(", 1)[1].split(")")[0]
        expected = investigation_coding(code)
        if expected:
            assert res["code"]["coding"] == [expected]
            seen_coded = True
        else:
            assert "coding" not in res["code"] and res["code"]["text"]
    assert seen_coded


def test_investigations_card_disappears_when_everything_is_current():
    from myeloma_model.guidance.investigations import TESTS
    from myeloma_model.records import EcogScore, LabResult

    rec = PatientRecord("p1", in_scope=True, investigations=[InvestigationRecord(t.code, AS_OF) for t in TESTS],
                        ecog=[EcogScore(1, AS_OF)])
    for analyte in ("haemoglobin", "serum_m_protein", "kappa_flc", "creatinine", "b2m", "albumin", "urine_m_protein",
                    "marrow_plasma_cells"):
        rec.labs[analyte] = [LabResult(analyte, 1.0, AS_OF)]
    assert "investigations" not in by_topic(cards_for(len_durable(), rec))


def test_safety_cards_are_warnings():
    a = assessment(drug("daratumumab", active=True), drug("lenalidomide", refractory=True, active=True, signal=False))
    safety = by_topic(cards_for(a))["safety"]
    assert [c["indicator"] for c in safety] == ["warning"]
    assert "blood group" in safety[0]["summary"]
    rec = PatientRecord("p1", in_scope=True, investigations=[InvestigationRecord("blood-group", date(2020, 1, 1))])
    assert "safety" not in by_topic(cards_for(a, rec))
