"""The relapse card shows the course: the relapse a running line treats, the response so far,
the CRAB values of a clinical relapse with both dates, and how old the results are (s3, s3a, s10)."""
from __future__ import annotations

from cds_service.cards.relapse_status import render
from myeloma_model import assess
from tests.model.builders import condition, day, labs, record, regimen


def card(a):
    [c] = render(a)
    return c


def treated_relapse():
    r = record()
    regimen(r, ["bortezomib", "lenalidomide", "dexamethasone"], 0, 400)
    labs(r, "serum_m_protein", (-10, 30), (60, 2), (90, 2), (500, 16), (530, 20))
    regimen(r, ["daratumumab", "lenalidomide", "dexamethasone"], 545, active=True)
    labs(r, "serum_m_protein", (600, 9), (630, 9))  # 55 % below the line's baseline of 20 g/L: PR
    return r


def test_a_patient_on_treatment_for_a_relapse_gets_no_unknown_card():
    a = assess(treated_relapse(), day(640))
    c = card(a)
    assert "unknown" not in c["summary"].lower()
    assert c["summary"] == (f"On treatment for the relapse of {day(500).isoformat()}: DRd since "
                            f"{day(545).isoformat()}, response so far PR")


def test_running_line_with_only_its_baseline_still_names_the_treated_relapse():
    r = treated_relapse()
    r.labs["serum_m_protein"] = [x for x in r.labs["serum_m_protein"] if x.when < day(545)]
    a = assess(r, day(560))
    assert a["relapse"]["status"] == "unknown"
    assert card(a)["summary"].startswith(f"On treatment for the relapse of {day(500).isoformat()}: DRd")


def test_clinical_relapse_card_gives_both_dates_and_the_crab_values_with_units():
    r = record()
    regimen(r, ["bortezomib", "lenalidomide", "dexamethasone"], 0, 400)
    labs(r, "serum_m_protein", (-10, 30), (60, 2), (90, 2), (500, 8), (530, 9))
    labs(r, "calcium", (90, 2.4), (540, 2.9))
    labs(r, "haemoglobin", (90, 125), (545, 100))
    condition(r, "bone-lesion", 550)
    a = assess(r, day(560))
    assert a["relapse"]["status"] == "clinical"
    assert a["relapse"]["date"] == day(500).isoformat() and a["relapse"]["crabDate"] == day(540).isoformat()
    detail = card(a)["detail"]
    assert day(500).isoformat() in detail and day(540).isoformat() in detail
    assert "Calcium 2.9 mmol/L" in detail
    assert "Haemoglobin fell by 25 g/L, from 125 to 100 g/L" in detail
    assert f"New bone lesion recorded on {day(550).isoformat()}" in detail


def test_aging_results_are_named_with_their_date_and_age():
    a = assess(treated_relapse(), day(630 + 120))
    assert a["dataFreshness"] == "aging"
    c = card(a)
    assert c["summary"].startswith(f"Based on results up to {day(630).isoformat()}, 3 months ago: On treatment")
    assert "Data age" in c["detail"]


def test_stale_results_lead_the_summary_and_the_strategy_is_provisional():
    r = record()
    regimen(r, ["bortezomib", "lenalidomide", "dexamethasone"], 0, 400)
    labs(r, "serum_m_protein", (-10, 30), (60, 2), (90, 2), (500, 8), (530, 9))
    as_of = day(530 + 200)
    a = assess(r, as_of)
    latest = day(530)
    assert (as_of - latest).days > 180 and a["timing"] == "confirm"
    c = card(a)
    months = int((as_of - latest).days / 30.44)
    assert c["summary"].startswith(f"Results are {months} months old ({latest.isoformat()})")
    assert "Repeat SPEP and FLC before deciding" in c["detail"] and "Provisional" in c["detail"]


def test_fresh_results_say_nothing_about_age():
    a = assess(treated_relapse(), day(640))
    assert "based on results" not in card(a)["summary"]


def test_the_card_lists_the_response_of_each_line():
    detail = card(assess(treated_relapse(), day(640)))["detail"]
    assert "Response to each line" in detail and "| 1 |" in detail and "| 2 | DRd" in detail
