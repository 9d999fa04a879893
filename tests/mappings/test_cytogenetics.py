"""FISH / cytogenetics: coded detected / not detected, and findings written as text."""
from __future__ import annotations

import pytest

from fhir_mappings.cytogenetics import findings_in_text
from tests.mappings.fhir import LOINC, SNOMED, concept, obs, record

DETECTED = concept(LOINC, "LA11882-0", "Detected")
NOT_DETECTED = concept(LOINC, "LA11883-8", "Not detected")


def findings(rec):
    return sorted((c.abnormality, c.present) for c in rec.cytogenetics)


@pytest.mark.parametrize(
    ("loinc", "abnormality"),
    [("72824-6", "del17p"), ("81746-0", "del17p"), ("72726-3", "t(4;14)"), ("77033-9", "t(14;16)"),
     ("81752-8", "gain1q")],
)
def test_fish_codes_with_detected_and_not_detected(loinc, abnormality):
    assert findings(record(obs(loinc, valueCodeableConcept=DETECTED))) == [(abnormality, True)]
    assert findings(record(obs(loinc, valueCodeableConcept=NOT_DETECTED))) == [(abnormality, False)]


@pytest.mark.parametrize(
    ("value", "present"),
    [
        ({"valueCodeableConcept": concept(SNOMED, "10828004", "Positive")}, True),
        ({"valueCodeableConcept": concept(SNOMED, "260385009", "Negative")}, False),
        ({"valueCodeableConcept": {"text": "Detected in 18% of nuclei"}}, True),
        ({"valueString": "negative"}, False),
        ({"valueString": "Abnormal: present in 30% of plasma cells"}, True),
        ({"valueBoolean": True}, True),
    ],
)
def test_fish_value_forms(value, present):
    assert findings(record(obs("72824-6", **value))) == [("del17p", present)]


def test_fish_value_that_says_nothing_is_a_gap():
    rec = record(obs("72824-6", id="f1", valueString="see scanned report"))
    assert rec.cytogenetics == [] and "Observation/f1" in rec.data_gaps[0]


def test_panel_narrative_lists_findings():
    text = "FISH (CD138-selected): del(17p) not detected; t(4;14) detected; 1q gain (3 copies) in 40% of nuclei."
    rec = record(obs("50659-2", valueString=text))
    assert findings(rec) == [("del17p", False), ("gain1q", True), ("t(4;14)", True)]


def test_uncoded_observation_named_by_its_text():
    rec = record(obs(None, text="del(17p) by FISH", valueCodeableConcept=DETECTED))
    assert findings(rec) == [("del17p", True)]
    rec = record(obs(None, text="1q gain", valueCodeableConcept=NOT_DETECTED))
    assert findings(rec) == [("gain1q", False)]


def test_test_name_alone_is_not_a_positive_finding():
    # code.text lists what was tested; without a value it says nothing about the result
    rec = record(obs("98014-4", text="Myeloma FISH panel: del(17p), t(4;14), t(14;16), 1q gain", valueString="pending review"))
    assert rec.cytogenetics == []


def test_interpretation_text_is_read():
    o = obs("62367-8", valueString="see interpretation", interpretation=[{"text": "t(14;16) positive"}])
    assert findings(record(o)) == [("t(14;16)", True)]


def test_other_translocations_are_not_high_risk_findings():
    assert findings(record(obs("50659-2", valueString="t(11;14) detected"))) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("del(17p) detected, 1q gain not detected", [("del17p", True), ("gain1q", False)]),
        ("No del(17p) detected", [("del17p", False)]),
        ("del(17)(p13.1) in 20%", [("del17p", True)]),
        ("Gain of 1q21 (CKS1B)", [("gain1q", True)]),
        ("amp(1q)", [("gain1q", True)]),
        ("IGH::FGFR3 fusion detected", [("t(4;14)", True)]),
        ("IGH/MAFB fusion", []),
        ("del(1p32) present", [("del1p", True)]),
        ("Normal FISH: no deletion 17p", [("del17p", False)]),
    ],
)
def test_text_findings(text, expected):
    assert findings_in_text(text, None) == expected


def test_preliminary_fish_is_ignored():
    assert record(obs("72824-6", status="preliminary", valueCodeableConcept=DETECTED)).cytogenetics == []


def test_fish_panel_components():
    panel = obs("98014-4", id="panel", valueString="Abnormal")
    panel["component"] = [
        {"code": concept(LOINC, "72824-6"), "valueCodeableConcept": NOT_DETECTED},
        {"code": concept(LOINC, "81752-8"), "valueCodeableConcept": DETECTED},
        {"code": concept(LOINC, "72726-3"), "valueString": "negative"},
    ]
    rec = record(panel)
    assert findings(rec) == [("del17p", False), ("gain1q", True), ("t(4;14)", False)]
    assert {c.source_id for c in rec.cytogenetics} == {"Observation/panel"}
