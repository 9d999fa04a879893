"""Every card of every example (patient-view and order hooks, as of the examples' date) and of the
test patients speaks a clinician's language: no enum code of the assessment contract, no file
name, section number, placeholder system or resource id; every drafted ServiceRequest carries a
checked LOINC or SNOMED CT code; summaries under 140 characters; one SMART link per
patient-view response."""
from __future__ import annotations

from cds_service.cards.contract_words import assessment_json
import copy
import json
import re
from datetime import date
from pathlib import Path

import pytest

from cds_service.cards import render_patient_view
from cds_service.config import Config
from cds_service.hooks import pipeline
from myeloma_model import evaluate
from myeloma_model.contract import from_json
from myeloma_model.guidance import advise
from myeloma_model.records import LabResult, PatientRecord
from tests.guidance.helpers import (
    assessment,
    drug,
    len_durable,
    len_refractory,
    triple_class_refractory,
)
from tests.schema_assert import assert_cds_response

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AS_OF = date(2025, 6, 30)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

# Enum codes of the assessment contract that are not words (hyphenated or abbreviated), the
# drug keys with hyphens, and camelCase field names: none may reach a card's text.
ENUM_CODES = [
    "treat-now", "retreat-same-class", "switch-class", "novel-mechanism", "serum-m-protein", "urine-m-protein",
    "marrow-plasma-cells", "bone-lesion", "circulating-plasma-cells", "heavy-marrow-infiltration",
    "high-risk-cytogenetics", "relapse-on-therapy", "early-first-relapse", "rising-b2m", "carfilzomib-cardiac",
    "renal-dose-adjust", "renal-severe", "vte-prophylaxis", "not-triple-class-exposed", "not-lenalidomide-exposed",
    "prior-lines", "renal-profile", "b2m-albumin", "urine-24h-protein", "marrow-biopsy-fish", "hbv-hcv-hiv",
    "cmv-ebv", "neuropathy-assessment", "ivig-indicated", "blood-group-before-transfusion", "not-evaluable",
    "belantamab-mafodotin", "idecabtagene-vicleucel", "ciltacabtagene-autoleucel", "BCMA-CAR-T", "BCMA-ADC",
    "GPRC5D-bispecific", "BCMA-bispecific", "FcRH5-bispecific", "relapse-status", "relapse-treatment",
    "treatment-options", "treatment-timing",
]
WORD_CODES = ["b2m", "dflc", "sflc", "fbc", "gain1q", "del17p", "del1p", "igg", "ldh", "ecog", "pet-ct",
              "None", "null", "True", "False", "serumMProtein", "involvedFlc", "dFlc", "kappaFlc", "lambdaFlc",
              "latestDate", "nadirDate", "crabDate", "highRiskRelapseFeatures", "missingInvestigations",
              "refractoryCategory", "tripleClassExposed", "priorLines", "medicationAdministrations",
              "medicationRequests", "medicationStatements", "dataGaps"]
FORBIDDEN = [re.compile(re.escape(c)) for c in ENUM_CODES] + [
    re.compile(rf"(?<![\w-]){re.escape(w)}(?![\w-])") for w in WORD_CODES] + [
    re.compile(r"\(s\)"),  # "line(s)"
    re.compile(r"\.md\b|\.json\b|\.py\b"),
    re.compile(r"\bsections? \d", re.IGNORECASE),
    re.compile(r"clinical-rules|assessment-contract|terminology\.", re.IGNORECASE),
    re.compile(r"\b(Patient|Observation|Condition|Medication\w*|Procedure|DiagnosticReport|ServiceRequest)/[\w.-]+"),
    re.compile(r"(?<![\d.])1 (prior lines|months|tests|draft orders|infections)\b"),
]
# Codes a drafted order may carry: VERIFIED in the project's checked terminology list, or seen
# in a cited public implementation guide ("sourced": PT 5902-2 and aPTT 3173-2, ABO/Rh 882-1).
ORDERABLE = {
    "http://loinc.org": {"718-7", "777-3", "6690-2", "751-8", "33358-3", "25700-6", "36916-5", "33944-0",
                         "14682-9", "98979-8", "1952-1", "1751-7", "98014-4", "2465-3", "5902-2", "3173-2", "882-1"},
}


def texts(card: dict) -> list[str]:
    """Every string a clinician reads on a card (not ids, URLs or the references of resources)."""
    out = [card["summary"], card.get("detail", ""), card["source"]["label"], card["source"]["topic"]["display"]]
    out += [o["display"] for o in card.get("overrideReasons") or []]
    out += [link["label"] for link in card.get("links") or []]
    for s in card.get("suggestions") or []:
        out.append(s["label"])
        for a in s.get("actions") or []:
            out.append(a["description"])
            res = a.get("resource") or {}
            out += [c.get("text", "") for c in [res.get("code") or {}, res.get("medicationCodeableConcept") or {}]]
            out += [r.get("text", "") for r in res.get("reasonCode") or []]
            out += [n.get("text", "") for n in res.get("note") or []]
    return out


def drafted_service_requests(cards: list[dict]) -> list[dict]:
    return [a["resource"] for c in cards for s in c.get("suggestions") or [] for a in s.get("actions") or []
            if a["type"] == "create" and a["resource"]["resourceType"] == "ServiceRequest"]


def check_cards(cards: list[dict], *, patient_view: bool = True):
    assert_cds_response({"cards": cards})
    for card in cards:
        assert len(card["summary"]) < 140, card["summary"]
        assert "example.org" not in json.dumps(card), card["summary"]
        for text in texts(card):
            for pattern in FORBIDDEN:
                found = pattern.search(text)
                assert found is None, f"{found.group(0)!r} in {text[max(0, found.start() - 60):found.end() + 60]!r}"
    for sr in drafted_service_requests(cards):
        (coding,) = sr["code"]["coding"]
        assert coding["code"] in ORDERABLE.get(coding["system"], set()), coding
        assert sr["reasonCode"][0]["text"]
    if patient_view and cards:
        smart = [link for c in cards for link in c.get("links") or [] if link["type"] == "smart"]
        assert len(smart) == 1 and cards[0]["links"] == smart
    return cards


@pytest.fixture(autouse=True)
def examples_date(monkeypatch):
    monkeypatch.setattr(pipeline, "today", lambda: AS_OF)


def post(client, service: str, body: dict) -> list[dict]:
    resp = client.post(f"/cds-services/{service}", json=body)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return resp.get_json()["cards"]


@pytest.mark.parametrize("example", sorted(p.stem for p in (EXAMPLES / "hooks").glob("*.json")
                                           if "no-prefetch" not in p.stem))
def test_every_example_hook_gives_clinical_cards(client, example):
    body = json.loads((EXAMPLES / "hooks" / f"{example}.json").read_text())
    service = "myeloma-relapse" if body["hook"] == "patient-view" else "myeloma-order-sign"
    check_cards(post(client, service, body), patient_view=body["hook"] == "patient-view")


DRUGS = {  # RxNorm ingredient codes as the examples use them, and names for the rest
    "lenalidomide": {"coding": [{"system": RXNORM, "code": "342369", "display": "lenalidomide"}]},
    "daratumumab": {"coding": [{"system": RXNORM, "code": "1721947", "display": "daratumumab"}]},
    "bortezomib": {"coding": [{"system": RXNORM, "code": "358258", "display": "bortezomib"}]},
    "carfilzomib": {"coding": [{"system": RXNORM, "code": "1302966", "display": "carfilzomib"}]},
    "pomalidomide": {"coding": [{"system": RXNORM, "code": "1369713", "display": "pomalidomide"}]},
    "teclistamab": {"text": "teclistamab"},
    "belantamab mafodotin": {"text": "belantamab mafodotin"},
    "ide-cel": {"text": "idecabtagene vicleucel"},
}


@pytest.mark.parametrize("patient", ["vignette", "len-refractory", "triple-class", "cardiac", "stable-remission"])
def test_order_hook_cards_for_every_drug_on_every_patient_are_clinical(client, patient):
    base = json.loads((EXAMPLES / "hooks" / f"patient-view-{patient}.json").read_text())
    for name, concept in DRUGS.items():
        body = copy.deepcopy(base)
        body["hook"] = "order-sign"
        order = {"resourceType": "MedicationRequest", "id": "draft-1", "status": "draft", "intent": "proposal",
                 "medicationCodeableConcept": concept, "subject": {"reference": f"Patient/mm-{patient}"}}
        body["context"]["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]}
        cards = check_cards(post(client, "myeloma-order-sign", body), patient_view=False)
        for card in cards:
            # a treatment warning offers to remove the draft; missing tests offer the tests instead
            if card["indicator"] == "warning" and card["source"]["topic"]["code"] != "investigations":
                deletes = [a for s in card.get("suggestions") or [] for a in s["actions"] if a["type"] == "delete"]
                assert deletes and deletes[0]["resourceId"] == "MedicationRequest/draft-1", name


def guided(a: dict) -> dict:
    a = dict(a)
    a.update(assessment_json(advise(from_json(a), PatientRecord("p1", in_scope=True), date(2024, 7, 1))))
    return a


@pytest.mark.parametrize("make", [
    len_durable, len_refractory, triple_class_refractory,
    lambda: len_durable(age=85), lambda: len_durable(status="clinical", crab=["hypercalcaemia", "bone-lesion"]),
    lambda: len_durable(features=["rising-b2m", "early-first-relapse", "relapse-on-therapy"]),
    lambda: len_refractory(cautions=["carfilzomib-cardiac", "neuropathy", "renal-severe", "vte-prophylaxis"]),
    lambda: len_durable(status="suspected"),
    lambda: assessment(drug("daratumumab", active=True), drug("belantamab-mafodotin"),
                       drug("lenalidomide", refractory=True, active=True, signal=False)),
])
def test_test_patients_get_clinical_cards(make):
    a = guided(make())
    a["dataGaps"] = ["Observation/x-1: igg missing unit; value not used", "staging: no ldh result on record"]
    check_cards(render_patient_view(from_json(a), config=Config()))
    check_cards(render_patient_view(from_json(a), config=Config(stable_disease_card=True)))


def test_suspected_and_stable_records_get_clinical_cards():
    rising = [(date(2024, 1, 10), 2.0), (date(2025, 3, 3), 2.2), (date(2025, 6, 9), 7.5)]
    flat = [(date(2024, 1, 10), 2.0), (date(2025, 3, 3), 2.1), (date(2025, 6, 9), 2.0)]
    for values in (rising, flat):
        record = PatientRecord("p1", in_scope=True,
                               labs={"serum_m_protein": [LabResult("serum_m_protein", v, d) for d, v in values]})
        check_cards(render_patient_view(evaluate(record, AS_OF), config=Config(stable_disease_card=True)))


@pytest.mark.parametrize("bad", ["treat-now", "1 prior line(s)", "(clinical-model.md section 8)", "(see rules section 8)",
                                 "belantamab-mafodotin", "Draft order: `MedicationRequest/abc`", "rising b2m"])
def test_the_scan_catches_developer_vocabulary(bad):
    card = {"uuid": "u", "summary": "s", "indicator": "info", "detail": f"text {bad} text",
            "source": {"label": "l", "url": "https://x", "topic": {"system": "https://s", "code": "c", "display": "d"}}}
    with pytest.raises(AssertionError):
        check_cards([card], patient_view=False)
