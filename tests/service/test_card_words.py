"""Clinical wording helpers: drug names, dates, plurals, data gaps without ids or record keys."""
from __future__ import annotations

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
