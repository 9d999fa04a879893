"""Relapse-status card: indicator per status, conformant card, the values that drove it."""
from __future__ import annotations

import pytest

from cds_service.cards import render_patient_view
from cds_service.cards.common import SUMMARY_MAX, TOPIC_SYSTEM, guard_summary, make_card
from cds_service.config import Config
from tests.schema_assert import assert_cds_response


def assessment(status: str, **relapse) -> dict:
    rel = {"status": status, "significantParaproteinRelapse": False, "date": None, "criteria": [],
           "crabFeatures": [], "markers": {}}
    rel.update(relapse)
    return {"patientId": "p", "asOf": "2026-11-23", "inScope": True, "relapse": rel, "dataGaps": []}


@pytest.mark.parametrize("status, indicator", [
    ("clinical", "critical"), ("biochemical", "warning"), ("suspected", "info"), ("none", "info"), ("unknown", "info"),
])
def test_indicator_follows_status(status, indicator):
    cards = render_patient_view(assessment(status), config=Config())
    assert_cds_response({"cards": cards})
    card = cards[0]
    assert card["indicator"] == indicator
    assert card["source"]["topic"] == {"system": TOPIC_SYSTEM, "code": "relapse-status", "display": "Relapse status"}
    assert "Lancet Oncol 2016" in card["source"]["label"] and card["source"]["url"].startswith("https://")
    assert "Vijjalwar" in card["detail"]  # the review is cited


def test_biochemical_card_shows_marker_values_and_dates():
    a = assessment(
        "biochemical", date="2026-09-01", criteria=["serum-m-protein"], significantParaproteinRelapse=False,
        markers={"serumMProtein": {"latest": 7.0, "nadir": 2.0, "unit": "g/L",
                                   "latestDate": "2026-10-01", "nadirDate": "2025-06-01"}},
    )
    a["dataGaps"] = ["Observation/9: unknown unit 'furlong'"]
    card = render_patient_view(a)[0]
    assert card["summary"].startswith("Biochemical relapse") and "2026-09-01" in card["summary"]
    detail = card["detail"]
    assert "| Serum M-protein | 2 (2025-06-01) | 7 (2026-10-01) | g/L |" in detail
    assert "serum M-protein rise" in detail
    assert "unknown unit 'furlong'" in detail


def test_clinical_card_names_crab_features_and_fits_summary():
    a = assessment("clinical", date="2026-09-01", criteria=["serum-m-protein", "dflc"],
                   crabFeatures=["hypercalcaemia", "anaemia", "renal", "bone-lesion"])
    card = render_patient_view(a)[0]
    assert len(card["summary"]) <= SUMMARY_MAX
    assert "hypercalcaemia" in card["summary"]
    assert "renal impairment" in card["detail"] and "new bone lesion" in card["detail"]
    assert_cds_response({"cards": [card]})


def test_out_of_scope_gives_no_cards():
    a = assessment("unknown")
    a["inScope"] = False
    assert render_patient_view(a) == []


def test_summary_guard_cuts_at_a_word():
    long = "word " * 60
    out = guard_summary(long)
    assert len(out) <= SUMMARY_MAX and out.endswith("…") and "  " not in out
    assert guard_summary("short  one\nline") == "short one line"


def test_card_uuids_are_unique_and_optional_fields_omitted():
    c1 = make_card(summary="s", indicator="info", topic="safety", source_label="x")
    c2 = make_card(summary="s", indicator="info", topic="safety", source_label="x")
    assert c1["uuid"] != c2["uuid"]
    assert not {"suggestions", "links", "overrideReasons", "detail", "selectionBehavior"} & set(c1)
    with pytest.raises(ValueError):
        make_card(summary="s", indicator="hard-stop", topic="safety", source_label="x")


def test_response_schema_rejects_nonconformant_cards():
    base = make_card(summary="s", indicator="info", topic="safety", source_label="x")
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
