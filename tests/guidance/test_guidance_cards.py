"""Guidance cards (relapse card, investigations order set, safety): CDS Hooks 2.0 shape, topics
in the service's code system, sources, override reasons, draft ServiceRequests validated as
FHIR R4B and coded."""
from __future__ import annotations

from cds_service.cards.contract_words import assessment_json
from datetime import date

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cds_service.cards import render_patient_view
from cds_service.cards.codes import DEFAULT_BASE
from cds_service.config import Config
from myeloma_model.contract import from_json
from myeloma_model.guidance import advise
from myeloma_model.records import (
    EcogScore,
    InvestigationRecord,
    LabResult,
    PatientRecord,
)
from tests.guidance.helpers import (
    assessment,
    drug,
    len_durable,
    len_refractory,
    triple_class_refractory,
)
from tests.schema_assert import assert_cds_response

AS_OF = date(2024, 7, 1)
TOPIC_SYSTEM = DEFAULT_BASE + "/codesystem/card-topic"
OVERRIDE_SYSTEM = DEFAULT_BASE + "/codesystem/override-reason"


def full(a: dict, record: PatientRecord | None = None) -> dict:
    a = dict(a)
    a.update(assessment_json(advise(from_json(a), record or PatientRecord("p1", in_scope=True), AS_OF)))
    return a


def cards_for(a, record=None, config=None):
    return render_patient_view(from_json(full(a, record)), config=config)


def by_topic(cards):
    out = {}
    for c in cards:
        out.setdefault(c["source"]["topic"]["code"], []).append(c)
    return out


@pytest.mark.parametrize("make", [len_durable, len_refractory, triple_class_refractory])
def test_relapse_gets_the_relapse_and_investigations_cards_in_the_services_code_systems(make):
    cards = cards_for(make())
    assert_cds_response({"cards": cards})
    assert [c["source"]["topic"]["code"] for c in cards] == ["relapse-treatment", "investigations"]
    for c in cards:
        assert c["source"]["topic"]["system"] == TOPIC_SYSTEM
        assert c["source"]["url"] == "https://www.rdm.ox.ac.uk/publications/2102870"
        assert len(c["summary"]) < 140
        assert c["overrideReasons"] and {o["system"] for o in c["overrideReasons"]} == {OVERRIDE_SYSTEM}


def test_code_systems_follow_the_public_base_url():
    cards = cards_for(len_durable(), config=Config(public_base_url="https://cds.hospital.test"))
    assert cards[0]["source"]["topic"]["system"] == "https://cds.hospital.test/codesystem/card-topic"
    assert cards[0]["links"][0]["url"] == "https://cds.hospital.test/app/launch"


def test_relapse_card_shows_strategy_reasons_regimens_evidence_and_cautions():
    card = cards_for(len_refractory(cautions=["carfilzomib-cardiac"]))[0]
    assert "switch drug class: DVd" in card["summary"]
    d = card["detail"]
    assert "refractory to lenalidomide" in d
    assert "CASTOR: 12-month PFS 60% vs 22%; ORR 84% vs 63% (Vd)" in d
    assert "CANDOR (the review gives no figures)" in d
    assert "heart failure or cardiomyopathy on record: carfilzomib carries a risk of cardiotoxicity" in d
    assert "carfilzomib-cardiac" not in d
    # the regimens not offered, each with its reason in clinical words (v2: notOffered)
    assert "DRd, KRd, IRd, ERd (refractory to lenalidomide, retreatment signal not met)" in d
    assert "IsaPd (for 2 or more prior lines; 1 prior line on record)" in d
    assert "not-triple-class-exposed" not in d and "for triple-class exposed disease" in d


@pytest.mark.parametrize("make,top", [
    (lambda: len_durable(riss="II"), "retreat within the same drug class: DRd, KRd or IRd"),
    (lambda: len_durable(hrc=["gain1q"]), "retreat within the same drug class: DRd, KRd or IRd"),
    (lambda: len_durable(age=84), "at reduced intensity: doublets first: Rd, Pd or Kd"),
    (lambda: len_refractory(age=84), "at reduced intensity: doublets first: Pd, Kd or Vd"),
])
def test_summary_names_the_strategy_and_the_first_three_of_the_ranked_list(make, top):
    a = full(make())
    card = cards_for(make())[0]
    assert card["summary"].endswith(top)
    assert [r["code"] for r in a["regimens"][:3]] == top.rsplit(": ", 1)[1].replace(" or", ",").split(", ")


def test_summary_never_names_a_strategy_its_first_regimen_contradicts():
    # retreat chosen, but every lenalidomide triplet has a refractory partner drug
    a = assessment(drug("lenalidomide", on=20.0, off=30.0),
                   *[drug(d, refractory=True, on=5.0, off=1.0, signal=False)
                     for d in ("daratumumab", "carfilzomib", "ixazomib", "elotuzumab")], prior_lines=2)
    assert full(a)["strategy"] == "retreat-same-class"
    assert "none of its regimens fits" in cards_for(a)[0]["summary"]


def test_t_cell_options_carry_the_toxicity_figures_of_the_review_and_imid_options_thromboprophylaxis():
    a = assessment(drug("lenalidomide", on=20.0, off=30.0), drug("bortezomib", on=6.0, off=40.0),
                   drug("daratumumab", on=10.0, off=20.0), prior_lines=3)
    d = cards_for(a)[0]["detail"]
    assert "KarMMa-3, ide-cel: adverse events 99%, CRS 88%" in d and "MajesTEC-1" in d and "HR 2.13" in d
    d = cards_for(len_durable())[0]["detail"]
    assert "thromboembolism (plan thromboprophylaxis)" in d and "KarMMa-3" not in d


def test_regimen_line_words_the_regimens_codes_kept_drug_cautions_same_class_and_notes():
    from cds_service.cards.treatment import regimen_line
    from myeloma_model.contract import regimen_from_json

    a = full(assessment(drug("lenalidomide", refractory=True, on=40.0, off=10.0, signal=True), prior_lines=2,
                        cautions=["renal-severe"]))
    kept = next(r for r in a["regimens"] if r["retreatmentSignalDrugs"] == ["lenalidomide"])
    line = regimen_line(regimen_from_json(kept))
    assert "refractory to lenalidomide, kept only because the retreatment signal is met (Goel 2024, retrospective)" in line
    assert "eGFR below 30 (severe renal impairment)" in line and "renal-severe" not in line
    pom = next(r for r in a["regimens"] if "pomalidomide" in r["drugs"])
    assert "same class as pomalidomide: activity may be retained" in regimen_line(regimen_from_json(pom))


def test_relapse_card_timing_wording_and_indicator():
    card = cards_for(len_durable())[0]
    assert card["indicator"] == "warning" and "treat now (or close surveillance)" in card["summary"]
    card = cards_for(len_durable(features=["extramedullary"]))[0]
    assert "Close surveillance is not safe: extramedullary disease" in card["detail"]
    card = cards_for(len_durable(status="clinical", crab=["anaemia"]))[0]
    assert card["indicator"] == "critical" and card["summary"].startswith("Clinical relapse since 1 Jun 2024")


def test_frail_patient_strategy_is_named_at_reduced_intensity():
    card = cards_for(len_durable(age=85))[0]
    assert "at reduced intensity: doublets first" in card["summary"]


def test_suspected_relapse_gets_one_card_and_no_options():
    cards = cards_for(len_durable(status="suspected"))
    assert [c["source"]["topic"]["code"] for c in cards] == ["relapse-status"]
    assert cards[0]["indicator"] == "info" and "Leading options" not in cards[0].get("detail", "")


def test_no_relapse_no_cards():
    assert cards_for(len_durable(status="none")) == []


def test_investigations_are_one_order_set_of_valid_coded_draft_service_requests():
    card = by_topic(cards_for(len_durable()))["investigations"][0]
    (suggestion,) = card["suggestions"]
    assert suggestion["uuid"] and suggestion["label"].startswith("Order the pre-treatment tests")
    codes = []
    for action in suggestion["actions"]:
        assert action["type"] == "create" and action["description"]
        res = action["resource"]
        ServiceRequest.model_validate(res)  # FHIR R4B validation
        assert res["status"] == "draft" and res["intent"] == "proposal"
        assert res["subject"] == {"reference": "Patient/p1"}
        (coding,) = res["code"]["coding"]
        assert coding["system"] in ("http://loinc.org", "http://snomed.info/sct")
        assert res["reasonCode"][0]["text"]
        codes.append(coding["code"])
    assert len(codes) == len(set(codes))
    # nothing on record: free light chains as kappa AND lambda, PT AND aPTT, FBC as its tests
    assert {"36916-5", "33944-0", "5902-2", "3173-2", "718-7", "777-3"} <= set(codes)
    assert "89247-1" not in codes  # ECOG is an assessment, never an order
    assert "ECOG" in card["summary"] and "at the visit" in card["summary"]
    assert "Peripheral neuropathy examination" not in str(suggestion)


def test_igg_is_ordered_before_car_t_or_a_bispecific():
    card = by_topic(cards_for(triple_class_refractory()))["investigations"][0]
    codes = {a["resource"]["code"]["coding"][0]["code"] for a in card["suggestions"][0]["actions"]}
    assert "2465-3" in codes


def test_investigations_card_disappears_when_everything_is_current():
    from myeloma_model.guidance.investigations import TESTS

    rec = PatientRecord("p1", in_scope=True, investigations=[InvestigationRecord(t.code, AS_OF) for t in TESTS],
                        ecog=[EcogScore(1, AS_OF)])
    for analyte in ("haemoglobin", "serum_m_protein", "kappa_flc", "creatinine", "b2m", "albumin", "urine_m_protein",
                    "marrow_plasma_cells", "igg"):
        rec.labs[analyte] = [LabResult(analyte, 1.0, AS_OF)]
    assert "investigations" not in by_topic(cards_for(len_durable(), rec))


def test_safety_card_only_with_a_finding():
    a = assessment(drug("daratumumab", active=True), drug("lenalidomide", refractory=True, active=True, signal=False))
    safety = by_topic(cards_for(a))["safety"]
    assert len(safety) == 1
    assert "blood group" in safety[0]["summary"]
    rec = PatientRecord("p1", in_scope=True, investigations=[InvestigationRecord("blood-group", date(2020, 1, 1))])
    assert "safety" not in by_topic(cards_for(a, rec))
