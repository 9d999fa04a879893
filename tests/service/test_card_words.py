"""Clinical wording helpers: drug names, dates, plurals, data gaps without ids or record keys."""
from __future__ import annotations

from myeloma_model.contract import from_json
from cds_service.cards.words import clinical_text, day, drug_name, join_and, plural


def test_drug_keys_read_as_clinical_names():
    assert drug_name("belantamab-mafodotin") == "belantamab mafodotin"
    assert drug_name("idecabtagene-vicleucel") == "idecabtagene vicleucel (ide-cel)"
    assert drug_name("lenalidomide") == "lenalidomide"


def test_dates_and_plurals():
    assert day("2025-04-28") == "28 Apr 2025" and day(None) == "an unknown date"
    assert plural(1, "prior line") == "1 prior line" and plural(2, "prior line") == "2 prior lines"
    assert plural(0, "test") == "0 tests"
    assert join_and(["DRd", "DVd", "DKd"], "or") == "DRd, DVd or DKd" and join_and(["x"]) == "x"


def test_data_gaps_lose_resource_ids_and_record_keys():
    assert clinical_text("Observation/mm-1: igg missing unit; value not used") == \
        "IgG result without a unit; value not used"
    assert clinical_text("staging: no ldh result on record") == "Staging: no LDH result on record"
    assert "medicationAdministrations" not in clinical_text("medicationAdministrations: data unavailable (HTTP 500)")


def test_data_gaps_write_dates_as_a_clinician_does():
    assert clinical_text("Lenalidomide: recorded as active, but the latest evidence is from 2021-09-06") == \
        "Lenalidomide: recorded as active, but the latest evidence is from 6 Sep 2021"


def test_regimens_refused_for_refractoriness_form_one_group_naming_every_drug():
    from cds_service.cards.treatment import not_offered_line

    a = {"patientId": "p1", "asOf": "2025-06-30", "inScope": True, "priorLines": 1, "notOffered": [
        {"code": "DVd", "reason": "refractory", "drugs": ["daratumumab"]},
        {"code": "KRd", "reason": "refractory", "drugs": ["carfilzomib", "lenalidomide"]},
        {"code": "IsaPd", "reason": "prior-lines", "drugs": []}]}
    line = not_offered_line(from_json(a))
    assert ("DVd, KRd (each contains a drug the disease is refractory to: daratumumab, carfilzomib and "
            "lenalidomide, retreatment signal not met)") in line
    assert line.startswith("**Not offered:** IsaPd (for 2 or more prior lines; 1 prior line on record)")
    assert not_offered_line(from_json({**a, "notOffered": []})) is None
