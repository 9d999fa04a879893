"""Section 9: IVIG on a bispecific / after CAR-T; blood group before transfusion on anti-CD38."""
from __future__ import annotations

from datetime import date, timedelta

from myeloma_model.contract import from_json, to_json
from myeloma_model.guidance.safety import blood_group_before_transfusion, ivig_indicated, safety_findings
from myeloma_model.records import ConditionFact, InvestigationRecord, LabResult, PatientRecord
from myeloma_model.thresholds import IVIG_IGG_G_L, RECURRENT_INFECTION_MIN_EPISODES, RECURRENT_INFECTION_WINDOW_DAYS
from tests.guidance.helpers import assessment, drug

AS_OF = date(2024, 7, 1)
START = "2024-01-01"


def rec(igg=None, igg_day=date(2024, 6, 1), infections=(), investigations=()):
    r = PatientRecord("p1", in_scope=True, investigations=list(investigations),
                      conditions=[ConditionFact("infection", d) for d in infections])
    if igg is not None:
        r.labs["igg"] = [LabResult("igg", igg, igg_day)]
    return r


def on_teclistamab(active=True):
    return assessment(drug("teclistamab", active=active, first=START, last=None if active else "2024-03-01"))


def test_ivig_on_a_bispecific_with_igg_below_the_threshold():
    found = to_json(ivig_indicated(from_json(on_teclistamab()), rec(igg=IVIG_IGG_G_L - 0.1), AS_OF))
    assert found and found["code"] == "ivig-indicated" and found["drugs"] == ["teclistamab"]
    assert found["igg"] == {"value": IVIG_IGG_G_L - 0.1, "unit": "g/L", "date": found["igg"]["date"]}


def test_no_ivig_at_the_threshold():
    assert ivig_indicated(from_json(on_teclistamab()), rec(igg=IVIG_IGG_G_L), AS_OF) is None


def test_no_ivig_after_the_bispecific_stopped():
    assert ivig_indicated(from_json(on_teclistamab(active=False)), rec(igg=2.0), AS_OF) is None


def test_ivig_after_car_t_even_when_not_active():
    a = assessment(drug("ciltacabtagene-autoleucel", first=START, last=START))
    assert ivig_indicated(from_json(a), rec(igg=2.5), AS_OF)


def test_igg_before_the_therapy_began_does_not_count():
    assert ivig_indicated(from_json(on_teclistamab()), rec(igg=2.0, igg_day=date(2023, 12, 1)), AS_OF) is None


def test_no_ivig_without_a_t_cell_redirecting_therapy():
    assert ivig_indicated(from_json(assessment(drug("daratumumab", active=True))), rec(igg=2.0), AS_OF) is None


def test_recurrent_infections_on_a_bispecific():
    days = [AS_OF - timedelta(days=10 * (i + 1)) for i in range(RECURRENT_INFECTION_MIN_EPISODES)]
    found = ivig_indicated(from_json(on_teclistamab()), rec(igg=8.0, infections=days), AS_OF)
    assert found and found.infections == RECURRENT_INFECTION_MIN_EPISODES and found.assumptions
    assert found.igg is None


def test_fewer_infections_than_recurrent_do_not_fire():
    days = [AS_OF - timedelta(days=10 * (i + 1)) for i in range(RECURRENT_INFECTION_MIN_EPISODES - 1)]
    assert ivig_indicated(from_json(on_teclistamab()), rec(igg=8.0, infections=days), AS_OF) is None


def test_infections_outside_the_window_do_not_count():
    old = AS_OF - timedelta(days=RECURRENT_INFECTION_WINDOW_DAYS + 1)
    a = assessment(drug("teclistamab", active=True, first="2022-01-01", last=None))
    assert ivig_indicated(from_json(a), rec(igg=8.0, infections=[old, AS_OF - timedelta(days=5)]), AS_OF) is None


def test_blood_group_warning_on_anti_cd38_without_a_blood_group():
    found = blood_group_before_transfusion(from_json(assessment(drug("daratumumab", active=True))), rec(), AS_OF)
    assert found and found.code == "blood-group-before-transfusion"


def test_no_blood_group_warning_when_it_is_on_record():
    r = rec(investigations=[InvestigationRecord("blood-group", date(2019, 1, 1))])
    assert blood_group_before_transfusion(from_json(assessment(drug("isatuximab", active=True))), r, AS_OF) is None


def test_no_blood_group_warning_when_not_on_anti_cd38():
    assert blood_group_before_transfusion(from_json(assessment(drug("daratumumab", active=False))), rec(), AS_OF) is None


def test_safety_findings_lists_both():
    a = assessment(drug("daratumumab", active=True), drug("teclistamab", active=True, first=START, last=None))
    assert [s.code for s in safety_findings(from_json(a), rec(igg=1.0), AS_OF)] == [
        "ivig-indicated", "blood-group-before-transfusion"]
