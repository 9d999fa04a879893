"""The cards show the course: the relapse a running line treats and the response so far, the
CRAB values of a clinical relapse with units and both dates, and how old the results are (aging:
the data age; stale: repeat SPEP/FLC first, options provisional). Dates as a clinician writes
them (words.day)."""
from __future__ import annotations

from cds_service.cards.contract_words import assessment_json
from myeloma_model.contract import from_json
from cds_service.cards import render_patient_view
from cds_service.cards.words import day as written
from cds_service.config import Config
from myeloma_model import evaluate
from tests.model.builders import condition, day, labs, record, regimen


def assess(record, as_of) -> dict:
    """The assessment in the JSON form the service sends (sentences worded)."""
    return assessment_json(evaluate(record, as_of))


STABLE_ON = Config(stable_disease_card=True)


def status_cards(a, config=None):
    """The relapse-status cards (a safety card, e.g. no blood group on daratumumab, may come too)."""
    return [c for c in render_patient_view(from_json(a), config=config) if c["source"]["topic"]["code"] == "relapse-status"]


def treated_relapse():
    r = record()
    regimen(r, ["bortezomib", "lenalidomide", "dexamethasone"], 0, 400)
    labs(r, "serum_m_protein", (-10, 30), (60, 2), (90, 2), (500, 16), (530, 20))
    regimen(r, ["daratumumab", "lenalidomide", "dexamethasone"], 545, active=True)
    labs(r, "serum_m_protein", (600, 9), (630, 9))  # 55 % below the line's baseline of 20 g/L: PR
    return r


def test_a_patient_on_treatment_for_a_relapse_gets_no_card_by_default_and_the_course_when_asked():
    a = assess(treated_relapse(), day(640))
    assert status_cards(a) == []  # no progression on the running line: nothing to act on
    [c] = status_cards(a, config=STABLE_ON)
    assert "unknown" not in c["summary"].lower()
    assert c["summary"] == (f"On treatment for the relapse of {written(day(500))}: DRd since "
                            f"{written(day(545))}, response so far PR")
    assert "DRd (daratumumab, lenalidomide and dexamethasone)" in c["detail"]
    assert "response so far partial response (PR)" in c["detail"]


def test_running_line_with_only_its_baseline_still_names_the_treated_relapse():
    r = treated_relapse()
    r.labs["serum_m_protein"] = [x for x in r.labs["serum_m_protein"] if x.when < day(545)]
    a = assess(r, day(560))
    assert a["relapse"]["status"] == "unknown"
    [c] = status_cards(a, config=STABLE_ON)
    assert c["summary"].startswith(f"On treatment for the relapse of {written(day(500))}: DRd")
    assert "not yet evaluable" in c["summary"]


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
    card = render_patient_view(from_json(a))[0]
    assert card["indicator"] == "critical"
    detail = card["detail"]
    assert f"IMWG progression first met on {written(day(500))}" in detail
    assert f"Clinical features since {written(day(540))}" in detail
    assert f"Calcium 2.9 mmol/L on {written(day(540))} (above 2.75 mmol/L)" in detail
    assert "Haemoglobin fell by 25 g/L, from 125 to 100 g/L" in detail
    assert f"New bone lesion recorded on {written(day(550))}" in detail


def test_aging_results_are_named_with_their_date_and_age():
    a = assess(treated_relapse(), day(630 + 120))
    assert a["dataFreshness"] == "aging"
    [c] = status_cards(a, config=STABLE_ON)
    assert c["summary"].startswith(f"Based on results up to {written(day(630))}, 3 months ago: On treatment")


def test_aging_results_lead_the_relapse_card_detail():
    r = record()
    regimen(r, ["bortezomib", "lenalidomide", "dexamethasone"], 0, 400)
    labs(r, "serum_m_protein", (-10, 30), (60, 2), (90, 2), (500, 8), (530, 9))
    a = assess(r, day(530 + 100))
    assert a["dataFreshness"] == "aging" and a["timing"] == "treat-now"
    detail = render_patient_view(from_json(a))[0]["detail"]
    assert detail.startswith(f"**Data age:** based on results up to {written(day(530))}, 3 months ago.")


def test_stale_results_lead_the_summary_and_the_strategy_is_provisional():
    r = record()
    regimen(r, ["bortezomib", "lenalidomide", "dexamethasone"], 0, 400)
    labs(r, "serum_m_protein", (-10, 30), (60, 2), (90, 2), (500, 8), (530, 9))
    as_of = day(530 + 200)
    a = assess(r, as_of)
    latest = day(530)
    assert (as_of - latest).days > 180 and a["timing"] == "confirm"
    [c] = render_patient_view(from_json(a))
    months = int((as_of - latest).days / 30.44)
    assert c["summary"].startswith(f"Results are {months} months old ({written(latest)})")
    assert "Repeat SPEP and FLC before deciding" in c["detail"]
    assert "**Provisional**, until new results confirm the relapse: " in c["detail"]
    assert a["regimens"][0]["code"] in c["detail"].split("**Provisional**")[1]
    assert f"On those results: Biochemical relapse since {written(day(500))}" in c["detail"]
    assert [s["label"] for s in c["suggestions"]] == ["Repeat SPEP and free light chains (draft orders)"]


def test_fresh_results_say_nothing_about_age():
    a = assess(treated_relapse(), day(640))
    [c] = status_cards(a, config=STABLE_ON)
    assert "based on results" not in c["summary"].lower() and "Data age" not in c["detail"]


def test_the_card_lists_the_course_of_each_line():
    detail = status_cards(assess(treated_relapse(), day(640)), config=STABLE_ON)[0]["detail"]
    assert "**Course:**" in detail and "Line 1: bortezomib, lenalidomide and dexamethasone" in detail
    assert "best response VGPR lasting 14.5 months; progressed" in detail and "Line 2: DRd" in detail
