"""Observations: status semantics, value[x] forms, comparators, dates, duplicates, ECOG."""
from __future__ import annotations

from datetime import date

import pytest

from fhir_mappings import resources_from_bundle
from tests.mappings.fhir import LOINC, PID, concept, obs, quantity, record, values

SPEP = "33358-3"


@pytest.mark.parametrize("status", ["final", "amended", "corrected"])
def test_final_amended_corrected_results_are_used(status):
    rec = record(obs(SPEP, status=status, valueQuantity=quantity(7, "g/L")))
    assert values(rec, "serum_m_protein") == [7.0]


@pytest.mark.parametrize("status", ["preliminary", "cancelled", "entered-in-error", "registered", "unknown"])
def test_other_statuses_are_ignored(status):
    rec = record(obs(SPEP, status=status, valueQuantity=quantity(7, "g/L")))
    assert rec.series("serum_m_protein") == []
    assert rec.data_gaps == []


def test_an_entered_in_error_value_does_not_disturb_the_series():
    rec = record(
        obs(SPEP, when="2025-01-01", valueQuantity=quantity(2, "g/L")),
        obs(SPEP, when="2025-02-01", status="entered-in-error", valueQuantity=quantity(40, "g/L")),
        obs(SPEP, when="2025-03-01", valueQuantity=quantity(3, "g/L")),
    )
    assert values(rec, "serum_m_protein") == [2.0, 3.0]


def test_missing_status_is_reported_and_not_used():
    o = obs(SPEP, id="nostatus", valueQuantity=quantity(7, "g/L"))
    del o["status"]
    rec = record(o)
    assert rec.series("serum_m_protein") == [] and "Observation/nostatus" in rec.data_gaps[0]


@pytest.mark.parametrize("comparator", ["<", "<=", ">", ">="])
def test_quantity_comparators_are_kept(comparator):
    rec = record(obs(SPEP, valueQuantity=quantity(0.1, "g/dL", comparator=comparator)))
    (r,) = rec.series("serum_m_protein")
    assert (r.value, r.comparator) == (pytest.approx(1.0), comparator)


def test_unknown_comparator_is_not_guessed():
    rec = record(obs(SPEP, valueQuantity=quantity(1, "g/L", comparator="ad")))
    assert rec.series("serum_m_protein") == [] and rec.data_gaps


@pytest.mark.parametrize(
    ("text", "value", "comparator"),
    [("<0.1 g/dL", 1.0, "<"), ("7.2 g/L", 7.2, None), ("> 50 g/L", 50.0, ">"), ("≤0.2 g/dL", 2.0, "<="), ("0.35g/dL", 3.5, None)],
)
def test_value_string_is_parsed_with_unit_and_comparator(text, value, comparator):
    rec = record(obs(SPEP, valueString=text))
    (r,) = rec.series("serum_m_protein")
    assert (round(r.value, 6), r.comparator) == (value, comparator)


@pytest.mark.parametrize("text", ["see report", "7,2 g/L", "trace", "7.2 furlongs"])
def test_unreadable_value_strings_are_data_gaps(text):
    rec = record(obs(SPEP, id="odd", valueString=text))
    assert rec.series("serum_m_protein") == []
    assert any("Observation/odd" in g for g in rec.data_gaps)


def test_value_string_without_unit_is_a_missing_unit_gap():
    rec = record(obs(SPEP, id="bare", valueString="7.2"))
    assert rec.series("serum_m_protein") == [] and "missing unit" in rec.data_gaps[0]


def test_data_absent_reason_is_silently_skipped():
    rec = record(obs(SPEP, dataAbsentReason={"text": "not performed"}))
    assert rec.series("serum_m_protein") == [] and rec.data_gaps == []


def test_date_from_effective_period_start_or_issued():
    a = obs(SPEP, when=None, valueQuantity=quantity(5, "g/L"), effectivePeriod={"start": "2025-02-03T08:00:00Z"})
    b = obs(SPEP, when=None, valueQuantity=quantity(6, "g/L"), issued="2025-03-04T10:00:00+01:00")
    rec = record(a, b)
    assert [r.when for r in rec.series("serum_m_protein")] == [date(2025, 2, 3), date(2025, 3, 4)]


def test_result_without_any_date_is_a_gap():
    rec = record(obs(SPEP, id="nodate", when=None, valueQuantity=quantity(5, "g/L")))
    assert rec.series("serum_m_protein") == [] and "Observation/nodate" in rec.data_gaps[0]


def test_series_are_sorted_by_date_whatever_the_input_order():
    rec = record(*[obs(SPEP, when=d, valueQuantity=quantity(v, "g/L")) for d, v in
                   [("2025-03-01", 3), ("2024-01-01", 1), ("2024-06-01", 2)]])
    assert values(rec, "serum_m_protein") == [1.0, 2.0, 3.0]


def test_duplicate_results_are_counted_once():
    # same analyte, same day, same value (sent as g/dL and as g/L), and the same id twice (paging)
    a = obs(SPEP, id="dup", when="2025-01-10T09:00:00Z", valueQuantity=quantity(0.7, "g/dL"))
    b = obs(SPEP, when="2025-01-10T09:00:00Z", valueQuantity=quantity(7, "g/L"))
    c = obs(SPEP, when="2025-01-10", valueQuantity=quantity(8, "g/L"))
    rec = record(a, dict(a), b, c)
    assert values(rec, "serum_m_protein") == [7.0, 8.0]


def test_results_after_the_as_of_date_are_not_used():
    rec = record(obs(SPEP, when="2025-06-30", valueQuantity=quantity(5, "g/L")),
                 obs(SPEP, when="2025-07-01", valueQuantity=quantity(9, "g/L")))
    assert values(rec, "serum_m_protein") == [5.0]
    assert any("after the as-of date" in g for g in rec.data_gaps)


def test_components_of_a_panel_are_read():
    panel = obs(None, text="Free light chains", valueString=None)
    panel.pop("valueString")
    panel["component"] = [
        {"code": concept(LOINC, "36916-5"), "valueQuantity": quantity(150, "mg/L")},
        {"code": concept(LOINC, "33944-0"), "valueQuantity": quantity(1.0, "mg/dL")},
        {"code": concept(LOINC, "40844-3"), "valueQuantity": quantity(15, "{ratio}")},
    ]
    rec = record(panel)
    assert values(rec, "kappa_flc") == [150.0]
    assert values(rec, "lambda_flc") == [10.0]
    assert values(rec, "flc_ratio") == [15.0]


def test_resources_of_another_patient_are_ignored():
    mine = obs(SPEP, valueQuantity=quantity(5, "g/L"))
    other = obs(SPEP, when="2025-02-01", valueQuantity=quantity(50, "g/L"))
    other["subject"] = {"reference": "https://ehr.example/fhir/Patient/someone-else"}
    rec = record(mine, other)
    assert values(rec, "serum_m_protein") == [5.0]
    assert any("another patient" in g for g in rec.data_gaps)


def test_system_oid_is_accepted_for_loinc():
    o = obs(None, valueQuantity=quantity(7, "g/L"))
    o["code"] = {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.1", "code": SPEP}]}
    assert values(record(o), "serum_m_protein") == [7.0]


def test_patient_birth_date_and_id_from_the_patient_resource():
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": PID, "birthDate": "1954-03-02"}},
        {"resource": obs(SPEP, valueQuantity=quantity(5, "g/L"))},
    ]}
    rec = record(*resources_from_bundle(bundle), patient_id=None)
    assert rec.patient_id == PID and rec.birth_date == date(1954, 3, 2)


# --- ECOG ------------------------------------------------------------------------------------
ECOG = "89247-1"


@pytest.mark.parametrize(
    "value",
    [
        {"valueInteger": 2},
        {"valueQuantity": {"value": 2, "unit": "{score}"}},
        {"valueCodeableConcept": concept(LOINC, "LA9624-3", "Symptomatic, <50% in bed")},
    ],
)
def test_ecog_as_integer_quantity_or_loinc_answer(value):
    rec = record(obs(ECOG, **value))
    assert [(e.score, e.when) for e in rec.ecog] == [(2, date(2025, 1, 10))]


def test_ecog_answer_in_interpretation_as_mcode_profiles_it():
    o = obs(ECOG, interpretation=[concept(LOINC, "LA9627-6")])
    assert [e.score for e in record(o).ecog] == [5]


@pytest.mark.parametrize("value", [{"valueInteger": 7}, {"valueQuantity": {"value": 1.5}}, {"valueString": "good"}])
def test_ecog_out_of_range_or_unreadable_is_a_gap(value):
    rec = record(obs(ECOG, id="ecog-bad", **value))
    assert rec.ecog == [] and "Observation/ecog-bad" in rec.data_gaps[0]


def test_latest_ecog_is_last():
    rec = record(obs(ECOG, when="2025-05-01", valueInteger=1), obs(ECOG, when="2024-01-01", valueInteger=3))
    assert [e.score for e in rec.ecog] == [3, 1]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0])
def test_implausible_numbers_are_not_used(value):
    rec = record(obs(SPEP, id="weird", valueQuantity=quantity(value, "g/L")))
    assert rec.series("serum_m_protein") == [] and "Observation/weird" in rec.data_gaps[0]


@pytest.mark.parametrize(
    "value",
    [{"valueString": "No monoclonal protein detected"}, {"valueString": "None detected"}, {"valueString": "negative"},
     {"valueCodeableConcept": concept(LOINC, "LA11883-8", "Not detected")},
     {"valueCodeableConcept": {"text": "Not detected"}}],
)
def test_paraprotein_not_detected_is_a_measured_zero(value):
    rec = record(obs(SPEP, **value))
    assert [(r.value, r.comparator) for r in rec.series("serum_m_protein")] == [(0.0, None)]
    assert rec.data_gaps == []


def test_not_detected_is_only_zero_for_paraproteins():
    rec = record(obs("36916-5", id="flc", valueString="not detected"))
    assert rec.series("kappa_flc") == [] and "Observation/flc" in rec.data_gaps[0]


def test_detected_band_without_a_number_is_not_zero():
    rec = record(obs(SPEP, id="band", valueString="Monoclonal band detected, too small to quantify"))
    assert rec.series("serum_m_protein") == [] and "Observation/band" in rec.data_gaps[0]
