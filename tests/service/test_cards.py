"""The card set per situation (docs/cards.md): how many cards, which topics, which indicator,
one SMART link per response, summaries under 140 characters; on the demo patients as of
2025-06-30 and on small records built here."""
from __future__ import annotations

from cds_service.cards.contract_words import assessment_json
from myeloma_model.contract import from_json
import json
from datetime import date
from pathlib import Path

import pytest

from cds_service.cards import render_patient_view
from cds_service.cards.common import SUMMARY_MAX, guard_summary, make_card
from cds_service.config import Config
from cds_service.hooks.pipeline import assess_bundle
from myeloma_model import evaluate
from myeloma_model.records import LabResult, PatientRecord
from tests.schema_assert import assert_cds_response


def assess(record, as_of) -> dict:
    """The assessment in the JSON form the service sends (sentences worded)."""
    return assessment_json(evaluate(record, as_of))


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AS_OF = date(2025, 6, 30)
CONFIG = Config()


def example_assessment(name: str) -> dict:
    return assess_bundle(json.loads((EXAMPLES / "patients" / f"{name}.json").read_text()), as_of=AS_OF)


def topics(cards) -> list[str]:
    return [c["source"]["topic"]["code"] for c in cards]


def smart_links(cards) -> list[dict]:
    return [link for c in cards for link in c.get("links") or [] if link.get("type") == "smart"]


def check_response(cards):
    assert_cds_response({"cards": cards})
    assert len(cards) <= 3
    assert len(set(topics(cards))) == len(cards), "one card per topic"
    assert sum(c["indicator"] != "info" for c in cards) <= 1, "at most one warning or critical"
    assert all(len(c["summary"]) < 140 for c in cards)
    if cards:
        assert len(smart_links(cards)) == 1 and smart_links(cards) == cards[0]["links"]


# --- the demo patients (as of 2025-06-30) ------------------------------------------------------
@pytest.mark.parametrize("name, expected, indicator", [
    ("vignette", ["relapse-treatment", "investigations"], "warning"),  # biochemical relapse
    ("len-refractory", ["relapse-treatment", "investigations"], "warning"),
    ("cardiac", ["relapse-treatment", "investigations"], "warning"),
    ("triple-class", ["relapse-treatment", "investigations"], "critical"),  # clinical relapse (anaemia)
    ("stable-remission", [], None),
    ("no-myeloma", [], None),
])
def test_demo_patients_get_exactly_their_card_set(name, expected, indicator):
    cards = render_patient_view(from_json(example_assessment(name)), config=CONFIG)
    check_response(cards)
    assert topics(cards) == expected
    if cards:
        assert cards[0]["indicator"] == indicator
        assert cards[1]["indicator"] == "info"


def test_vignette_relapse_card_names_values_dates_timing_strategy_and_three_regimens():
    card = render_patient_view(from_json(example_assessment("vignette")), config=CONFIG)[0]
    assert card["summary"].startswith("Biochemical relapse since 28 Apr 2025: treat now")
    assert "retreat within the same drug class" in card["summary"]
    d = card["detail"]
    assert "Serum M-protein 2 g/L at the nadir (13 Jun 2022) -> 7.3 g/L (9 Jun 2025)" in d
    assert "1 prior line of therapy" in d and "line(s)" not in d
    assert d.count("\n1. ") == 1 and "\n3. " in d and "\n4. " not in d  # top three, one line each
    assert "POLLUX: ORR 93% vs 76% (Rd)" in d
    assert "further ranked options" in d  # the rest is behind the app link
    assert "|" not in d  # no tables in a side panel


def test_stable_patient_gets_an_info_card_only_when_the_setting_is_on():
    a = example_assessment("stable-remission")
    assert render_patient_view(from_json(a), config=CONFIG) == []
    cards = render_patient_view(from_json(a), config=Config(stable_disease_card=True))
    check_response(cards)
    assert topics(cards) == ["relapse-status"] and cards[0]["indicator"] == "info"
    assert "No myeloma progression" in cards[0]["summary"]


def test_stable_disease_card_setting_is_read_from_the_environment():
    assert Config.from_env({"CDS_STABLE_DISEASE_CARD": "on"}).stable_disease_card is True
    assert Config.from_env({}).stable_disease_card is False
    with pytest.raises(ValueError):
        Config.from_env({"CDS_STABLE_DISEASE_CARD": "maybe"})


# --- a suspected rise: one info card with one coded order set ---------------------------------
def suspected_record() -> PatientRecord:
    """Serum M-protein nadir 2.0 g/L, then 2.2 and 7.5 g/L: the rise is on the latest result only."""
    values = [(date(2024, 1, 10), 2.0), (date(2025, 3, 3), 2.2), (date(2025, 6, 9), 7.5)]
    labs = {"serum_m_protein": [LabResult("serum_m_protein", v, d) for d, v in values]}
    return PatientRecord(patient_id="p1", in_scope=True, labs=labs)


def test_suspected_rise_gets_one_info_card_with_one_order_set_to_repeat_spep_and_flc():
    a = assess(suspected_record(), AS_OF)
    assert a["relapse"]["status"] == "suspected"
    cards = render_patient_view(from_json(a), config=CONFIG)
    check_response(cards)
    (card,) = cards
    assert card["indicator"] == "info" and topics(cards) == ["relapse-status"]
    assert "repeat SPEP and FLC within 4 weeks" in card["summary"]
    (suggestion,) = card["suggestions"]
    codes = [act["resource"]["code"]["coding"][0]["code"] for act in suggestion["actions"]]
    # SPEP (M-protein and immunofixation), free kappa AND free lambda
    assert {"33358-3", "36916-5", "33944-0"} <= set(codes)
    for act in suggestion["actions"]:
        assert act["type"] == "create"
        assert act["resource"]["occurrencePeriod"] == {"start": "2025-06-30", "end": "2025-07-28"}
        assert act["resource"]["reasonCode"][0]["text"]


def test_stale_markers_get_the_repeat_card_with_provisional_options():
    a = example_assessment("vignette")
    a["timing"], a["dataFreshness"] = "confirm", "stale"
    a["relapse"]["latestMarkerDate"] = "2024-11-04"
    cards = render_patient_view(from_json(a), config=CONFIG)
    check_response(cards)
    (card,) = cards
    # as of 2025-06-30: 7 whole months since 4 Nov 2024
    assert card["summary"].startswith("Results are 7 months old (4 Nov 2024): repeat SPEP and FLC")
    assert "Repeat SPEP and FLC before deciding" in card["detail"]
    assert ("**Provisional**, until new results confirm the relapse: "
            f"{a['regimens'][0]['code']}") not in card["detail"]  # the strategy is named first
    top = [r["code"] for r in a["regimens"][:3]]
    assert f"({top[0]}, {top[1]} or {top[2]})" in card["detail"].split("**Provisional**")[1]


def test_aging_record_says_how_old_its_results_are():
    a = example_assessment("vignette")
    a["dataFreshness"], a["relapse"]["latestMarkerDate"] = "aging", "2025-02-01"
    card = render_patient_view(from_json(a), config=CONFIG)[0]
    # 149 days before 2025-06-30: 4 whole months
    assert card["detail"].startswith("**Data age:** based on results up to 1 Feb 2025, 4 months ago.")


def test_treatment_of_an_earlier_relapse_is_named_on_the_stable_card():
    a = example_assessment("stable-remission")
    a["lines"] = [{"number": 2, "start": "2024-09-01", "end": None, "drugs": ["daratumumab", "bortezomib"],
                   "bestResponse": "PR", "treats": "2024-08-15", "progressed": False}]
    assert render_patient_view(from_json(a), config=CONFIG) == []  # nothing to act on: no card by default
    card = render_patient_view(from_json(a), config=Config(stable_disease_card=True))[0]
    assert card["summary"] == ("On treatment for the relapse of 15 Aug 2024: daratumumab and bortezomib since "
                               "1 Sep 2024, response so far PR")
    assert "daratumumab and bortezomib since 1 Sep 2024, response so far partial response (PR)" in card["detail"]


# --- indicators and topics ---------------------------------------------------------------------
def test_safety_warning_outranks_a_biochemical_relapse_but_not_a_clinical_one():
    a = example_assessment("vignette")
    a["safety"] = ["blood-group-before-transfusion"]
    a["guidance"]["safety"] = [{"code": "blood-group-before-transfusion", "drugs": ["daratumumab"]}]
    cards = render_patient_view(from_json(a), config=CONFIG)
    check_response(cards)
    assert topics(cards) == ["relapse-treatment", "investigations", "safety"]
    assert [c["indicator"] for c in cards] == ["info", "info", "warning"]
    a["relapse"]["status"] = "clinical"
    cards = render_patient_view(from_json(a), config=CONFIG)
    assert [c["indicator"] for c in cards] == ["critical", "info", "info"]


def test_safety_finding_is_shown_for_a_stable_patient_too():
    a = example_assessment("stable-remission")
    a["safety"] = ["ivig-indicated"]
    a["guidance"]["safety"] = [{"code": "ivig-indicated", "drugs": ["teclistamab"],
                                "igg": {"value": 3.1, "unit": "g/L", "date": "2025-06-01"}, "infections": 0}]
    cards = render_patient_view(from_json(a), config=CONFIG)
    check_response(cards)
    assert topics(cards) == ["safety"] and cards[0]["indicator"] == "warning"
    assert "IgG 3.1 g/L on 1 Jun 2025 (below 4 g/L)" in cards[0]["detail"]


def test_out_of_scope_gives_no_cards():
    a = example_assessment("no-myeloma")
    assert a["inScope"] is False
    assert render_patient_view(from_json(a), config=Config(stable_disease_card=True)) == []


# --- builder ------------------------------------------------------------------------------------
def test_summary_guard_cuts_at_a_word():
    out = guard_summary("word " * 60)
    assert len(out) <= SUMMARY_MAX and out.endswith("…") and "  " not in out
    assert guard_summary("short  one\nline") == "short one line"


def test_card_uuids_are_unique_and_optional_fields_omitted():
    c1 = make_card(summary="s", indicator="info", topic="safety")
    c2 = make_card(summary="s", indicator="info", topic="safety")
    assert c1["uuid"] != c2["uuid"]
    assert not {"suggestions", "links", "overrideReasons", "detail", "selectionBehavior"} & set(c1)
    with pytest.raises(ValueError):
        make_card(summary="s", indicator="hard-stop", topic="safety")
    with pytest.raises(ValueError):
        make_card(summary="s", indicator="info", topic="treatment-timing")


def test_response_schema_rejects_nonconformant_cards():
    base = make_card(summary="s", indicator="info", topic="safety")
    bad = [
        {**base, "summary": "x" * 140},
        {**base, "indicator": "success"},
        {**base, "suggestions": [{"label": "do"}]},  # no selectionBehavior
        {**base, "links": []},
        {**base, "overrideReasons": [{"code": "c", "system": "s"}]},  # no display
        {**base, "links": [{"label": "l", "url": "https://x", "type": "absolute", "appContext": "a"}]},
        {**base, "selectionBehavior": "at-most-one",
         "suggestions": [{"label": "a", "isRecommended": True}, {"label": "b", "isRecommended": True}]},
        {**base, "suggestions": [{"label": "a", "actions": [{"type": "create", "resource": {"resourceType": "X"}}]}],
         "selectionBehavior": "any"},  # action without description
    ]
    for card in bad:
        with pytest.raises(AssertionError):
            assert_cds_response({"cards": [card]})
