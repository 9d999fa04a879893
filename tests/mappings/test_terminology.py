"""Terminology tables: every code is data, every drug/analyte key is one the model knows."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typing import get_args

from fhir_mappings import terminology as t
from myeloma_model.records import ANALYTE_UNITS, ConditionKind, InvestigationCode

DATA = Path(t.__file__).parent
CONTRACT_DRUGS = {
    "lenalidomide", "pomalidomide", "thalidomide", "bortezomib", "carfilzomib", "ixazomib",
    "daratumumab", "isatuximab", "elotuzumab", "belantamab-mafodotin", "teclistamab",
    "elranatamab", "linvoseltamab", "talquetamab", "idecabtagene-vicleucel",
    "ciltacabtagene-autoleucel", "selinexor", "cevostamab", "melphalan", "cyclophosphamide",
    "panobinostat", "venetoclax", "dexamethasone", "prednisolone",
}
CONTRACT_CLASSES = {
    "IMiD", "PI", "anti-CD38", "anti-SLAMF7", "BCMA-ADC", "BCMA-bispecific", "BCMA-CAR-T",
    "GPRC5D-bispecific", "FcRH5-bispecific", "XPO1", "alkylator", "HDAC", "BCL2",
    "corticosteroid",
}
STATUSES = {"verified", "candidate", "sourced", "unverified"}


def _all_code_entries():
    for name in ("observations.json", "drugs.json", "conditions.json", "investigations.json"):
        stack = [json.loads((DATA / name).read_text())]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if "code" in node and ("status" in node or "display" in node):
                    yield name, node
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)


def test_every_code_entry_is_marked_verified_candidate_or_unverified():
    entries = list(_all_code_entries())
    assert len(entries) > 150
    unmarked = [(n, e["code"]) for n, e in entries if e.get("status") not in STATUSES]
    assert unmarked == []


def test_drug_keys_and_classes_are_the_contract_ones():
    assert set(t.drug_keys()) == CONTRACT_DRUGS
    assert {t.drug_class(d) for d in CONTRACT_DRUGS} <= CONTRACT_CLASSES
    assert t.drug_class("lenalidomide") == "IMiD"
    assert t.drug_class("belantamab-mafodotin") == "BCMA-ADC"
    assert t.drug_class("aspirin") is None


def test_analyte_keys_are_record_keys_and_all_have_unit_tables():
    tab = t.tables()
    assert set(tab.analyte_by_code.values()) <= set(ANALYTE_UNITS)
    assert set(tab.unit_factors) == set(ANALYTE_UNITS)
    for analyte, factors in tab.unit_factors.items():
        canonical = ANALYTE_UNITS[analyte]
        # the canonical unit itself (in its UCUM spelling) converts with factor 1
        assert 1.0 in factors.values(), (analyte, canonical)


def test_condition_and_investigation_keys_are_record_literals():
    tab = t.tables()
    kinds = set(get_args(ConditionKind))
    assert {k for k, _ in tab.condition_by_snomed.values()} <= kinds
    assert {k for k, _ in tab.condition_by_icd10.values()} <= kinds
    assert set(tab.investigation_text) == set(get_args(InvestigationCode))
    assert set(tab.investigation_by_code.values()) <= set(get_args(InvestigationCode))


def test_prefetch_codes_cover_markers_ecog_fish_and_are_unique_tokens():
    tokens = t.prefetch_observation_codes()
    assert len(tokens) == len(set(tokens))
    for code in ("33358-3", "36916-5", "33944-0", "1952-1", "1751-7", "2532-0", "2160-0",
                 "718-7", "2465-3", "89247-1", "72824-6", "81752-8", "11118-7", "42482-0"):
        assert f"http://loinc.org|{code}" in tokens
    assert all(tok.count("|") == 1 for tok in tokens)


def test_investigation_coding_is_a_fhir_coding_or_none():
    coding = t.investigation_coding("spep")
    assert coding == {
        "system": "http://loinc.org",
        "code": "33358-3",
        "display": "Protein.monoclonal [Mass/volume] in Serum or Plasma by Electrophoresis",
    }
    coding["code"] = "mutated"  # callers get a copy
    assert t.investigation_coding("spep")["code"] == "33358-3"
    assert t.investigation_coding("neuropathy-assessment") is None
    assert t.investigation_coding("not-a-code") is None
    assert t.investigation_text("echocardiogram") == "Echocardiogram"


def test_name_pattern_is_whole_word_and_longest_first():
    pat = t.tables().drug_name_pattern
    assert [m.lower() for m in pat.findall("Darzalex Faspro 1800 mg")] == ["darzalex faspro"]
    assert pat.findall("Revlimidine") == []  # not a whole word
    assert [m.lower() for m in pat.findall("belantamab-mafodotin-blmf")] == ["belantamab-mafodotin"]


def test_fbc_request_is_the_coded_tests_of_the_count():
    # the CBC panel code 58410-2 is not in the checked terminology list: the count is ordered
    # as the verified tests it contains (section 8 "panels as the coded tests they contain")
    assert [c["code"] for c in t.investigation_order_codings("fbc")][:2] == ["718-7", "777-3"]


def test_draft_requests_only_emit_verified_or_sourced_codes():
    data = json.loads((DATA / "investigations.json").read_text())["investigations"]
    emitted = 0
    for key, entry in data.items():
        for coding in t.investigation_order_codings(key):
            emitted += 1
            assert entry["order"] and coding["code"] in {c["code"] for c in entry["order"]}
            assert {c["status"] for c in entry["order"]} <= {"verified", "sourced"}, key
    assert emitted >= 15
    assert t.investigation_coding("blood-group")["code"] == "882-1"
    assert t.investigation_coding("coagulation")["code"] == "5902-2"



@pytest.mark.parametrize("bad_system", [["http://www.nlm.nih.gov/research/umls/rxnorm"], {"x": 1}, 7])
def test_a_non_string_coding_system_is_no_system_not_a_crash(bad_system):
    from fhir_mappings.gaps import GapLog
    from fhir_mappings.medications import MedicationReader

    assert t.normalise_system(bad_system) is None
    order = {"resourceType": "MedicationRequest", "id": "m1", "status": "draft",
             "medicationCodeableConcept": {"coding": [{"system": bad_system, "code": "1302966"}], "text": "Kyprolis"}}
    # The code cannot be read without its system; the brand name in text still names the drug.
    assert [d.key for d in MedicationReader(GapLog(), {}).drugs_of(order)] == ["carfilzomib"]
