"""UCUM conversion into the canonical units (docs/clinical-model.md#units)."""
from __future__ import annotations

import pytest

from fhir_mappings.units import to_canonical
from myeloma_model.records import ANALYTE_UNITS
from tests.mappings.fhir import obs, quantity, record, values


@pytest.mark.parametrize(
    ("loinc", "analyte", "value", "unit", "expected"),
    [
        ("33358-3", "serum_m_protein", 0.7, "g/dL", 7.0),
        ("33358-3", "serum_m_protein", 7.0, "g/L", 7.0),
        ("33358-3", "serum_m_protein", 700, "mg/dL", 7.0),
        ("36916-5", "kappa_flc", 15.0, "mg/dL", 150.0),
        ("36916-5", "kappa_flc", 150.0, "mg/L", 150.0),
        ("33944-0", "lambda_flc", 1.2, "mg/dL", 12.0),
        ("1952-1", "b2m", 0.35, "mg/dL", 3.5),
        ("76484-5", "b2m", 296.45, "nmol/L", 3.5),
        ("1751-7", "albumin", 3.5, "g/dL", 35.0),
        ("17861-6", "calcium", 11.0, "mg/dL", 11.0 / 4.008),
        ("2160-0", "creatinine", 2.0, "mg/dL", 176.8),
        ("14682-9", "creatinine", 177, "umol/L", 177.0),
        ("718-7", "haemoglobin", 11.2, "g/dL", 112.0),
        ("718-7", "haemoglobin", 7.0, "mmol/L", 112.77),
        ("2465-3", "igg", 400, "mg/dL", 4.0),
        ("42482-0", "urine_m_protein", 0.25, "g/(24.h)", 250.0),
        ("42482-0", "urine_m_protein", 250, "mg/(24.h)", 250.0),
        ("98979-8", "egfr", 58, "mL/min/{1.73_m2}", 58.0),
        ("777-3", "platelets", 150, "10*3/uL", 150.0),
        ("777-3", "platelets", 150, "10*9/L", 150.0),
        ("2532-0", "ldh", 300, "U/L", 300.0),
    ],
)
def test_ucum_quantities_convert_to_the_canonical_unit(loinc, analyte, value, unit, expected):
    rec = record(obs(loinc, valueQuantity=quantity(value, unit)))
    assert values(rec, analyte) == [pytest.approx(expected, rel=1e-6)]
    assert rec.data_gaps == []


@pytest.mark.parametrize(
    ("human", "analyte", "loinc", "value", "expected"),
    [
        ("g/dl", "serum_m_protein", "33358-3", 0.5, 5.0),
        ("mg/24h", "urine_m_protein", "42482-0", 300, 300.0),
        ("g/24 hr", "urine_m_protein", "42482-0", 0.3, 300.0),
        ("mL/min/1.73m2", "egfr", "98979-8", 45, 45.0),
        ("x10^9/L", "platelets", "777-3", 120, 120.0),
        ("K/uL", "platelets", "777-3", 120, 120.0),
        ("µmol/L", "creatinine", "14682-9", 90, 90.0),
    ],
)
def test_human_unit_strings_are_read_when_no_ucum_code_is_given(human, analyte, loinc, value, expected):
    rec = record(obs(loinc, valueQuantity=quantity(value, human, code=None)))
    assert values(rec, analyte) == [pytest.approx(expected)]


@pytest.mark.parametrize("unit", ["mg/dL", "mg/dl"])
def test_the_litre_may_be_written_l_or_L_mg_dl_reads_as_mg_dL(unit):
    # docs/clinical-model.md s2: UCUM allows `l` for the litre, so 700 mg/dl serum M-protein is 7 g/L.
    rec = record(obs("33358-3", valueQuantity=quantity(700, unit)))
    assert values(rec, "serum_m_protein") == [7.0]
    assert rec.data_gaps == []


def test_mg_per_litre_is_a_hundred_times_smaller_than_mg_per_decilitre():
    rec = record(obs("33358-3", valueQuantity=quantity(7000, "mg/L")))
    assert values(rec, "serum_m_protein") == [7.0]


@pytest.mark.parametrize(
    ("loinc", "analyte", "value", "unit", "expected"),
    [
        ("17861-6", "calcium", 11.0, "mg/dl", 11.0 / 4.008),  # hypercalcaemia in lower case
        ("2160-0", "creatinine", 2.0, "mg/dl", 176.8),
        ("718-7", "haemoglobin", 9.5, "g/dl", 95.0),
        ("33358-3", "serum_m_protein", 0.7, "g/dL{total}", 7.0),  # annotation ignored
        ("14682-9", "creatinine", 0.177, "mmol/l", 177.0),
        ("777-3", "platelets", 150, "10*3/uL", 150.0),
    ],
)
def test_ucum_expressions_are_parsed_not_matched(loinc, analyte, value, unit, expected):
    rec = record(obs(loinc, valueQuantity=quantity(value, unit)))
    assert values(rec, analyte) == [pytest.approx(expected, rel=1e-6)]
    assert rec.data_gaps == []


def test_a_string_that_is_not_ucum_is_a_data_gap():
    rec = record(obs("33358-3", id="o1", valueQuantity=quantity(0.5, "grams per decilitre")))
    assert rec.series("serum_m_protein") == []
    assert any("Observation/o1" in g and "grams per decilitre" in g for g in rec.data_gaps)


def test_unknown_unit_is_a_data_gap_naming_observation_and_unit():
    rec = record(obs("33358-3", id="spep-odd", valueQuantity=quantity(5, "mmol/L")))
    assert rec.series("serum_m_protein") == []
    assert len(rec.data_gaps) == 1
    assert "Observation/spep-odd" in rec.data_gaps[0] and "mmol/L" in rec.data_gaps[0]


def test_mass_unit_for_a_count_is_not_converted():
    rec = record(obs("777-3", id="plt", valueQuantity=quantity(150, "g/L")))
    assert rec.series("platelets") == [] and "g/L" in rec.data_gaps[0]


def test_missing_unit_is_a_data_gap_for_a_quantity_that_needs_one():
    rec = record(obs("33358-3", id="nounit", valueQuantity={"value": 7.0}))
    assert rec.series("serum_m_protein") == []
    assert any("Observation/nounit" in g and "missing unit" in g for g in rec.data_gaps)


def test_flc_ratio_needs_no_unit():
    rec = record(
        obs("40844-3", valueQuantity={"value": 3.2}),
        obs("48378-4", when="2025-02-01", valueQuantity=quantity(3.4, "{ratio}")),
    )
    assert values(rec, "flc_ratio") == [3.2, 3.4]
    assert rec.data_gaps == []


def test_ldh_reference_high_is_kept_in_canonical_units():
    o = obs("2532-0", valueQuantity=quantity(300, "U/L"))
    o["referenceRange"] = [{"low": quantity(100, "U/L"), "high": quantity(280, "U/L")}]
    rec = record(o)
    assert rec.series("ldh")[0].ref_high == 280.0


def test_many_results_in_one_unknown_unit_are_summarised_not_listed_one_by_one():
    rec = record(*[obs("33358-3", when=f"2024-01-{d:02d}", valueQuantity=quantity(d, "mmol/L")) for d in range(1, 29)])
    assert rec.series("serum_m_protein") == []
    assert 1 < len(rec.data_gaps) <= 10
    assert any("more like" in g for g in rec.data_gaps)


def test_every_analyte_converts_its_canonical_unit_by_one():
    canonical_spelling = {"mg/24h": "mg/(24.h)", "mL/min/1.73m2": "mL/min/{1.73_m2}", "1": "1"}
    for analyte, unit in ANALYTE_UNITS.items():
        value, problem = to_canonical(analyte, 2.5, canonical_spelling.get(unit, unit))
        assert (value, problem) == (2.5, None), analyte


def test_converted_values_carry_no_binary_noise_and_dedupe_across_units():
    rec = record(obs("33358-3", valueQuantity=quantity(1.1, "g/dL")), obs("33358-3", valueQuantity=quantity(11, "g/L")))
    assert [r.value for r in rec.series("serum_m_protein")] == [11.0]


def test_ucum_system_code_and_human_unit_read_alike():
    lenient = {"value": 0.5, "unit": "g/dl", "code": "g/dl"}  # no system: the human unit is read
    strict = {"value": 0.5, "unit": "g/dl", "code": "g/dl", "system": "http://unitsofmeasure.org"}
    assert values(record(obs("33358-3", valueQuantity=lenient)), "serum_m_protein") == [5.0]
    assert values(record(obs("33358-3", valueQuantity=strict)), "serum_m_protein") == [5.0]
