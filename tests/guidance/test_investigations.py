"""Section 8 / Table 1: missing or stale baseline tests for the regimens offered."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from myeloma_model.guidance.investigations import TESTS, drug_prerequisites, missing_investigations
from myeloma_model.records import CytogeneticFinding, EcogScore, InvestigationRecord, LabResult, PatientRecord
from myeloma_model.thresholds import STALE_IMAGING_DAYS, STALE_LAB_DAYS

AS_OF = date(2024, 7, 1)
DRD = ["daratumumab", "lenalidomide", "dexamethasone"]
KD = ["carfilzomib", "dexamethasone"]


def rec(**kw) -> PatientRecord:
    return PatientRecord("p1", in_scope=True, **kw)


def days_ago(n: int) -> date:
    return AS_OF - timedelta(days=n)


def lab(analyte, n, value=1.0):
    return LabResult(analyte, value, days_ago(n))


def missing(drugs, record):
    return {i["code"]: i for i in missing_investigations(drugs, record, AS_OF)}


def test_nothing_on_record_lists_every_test_the_regimen_needs_with_its_reason():
    m = missing(DRD, rec())
    assert {"ecog", "fbc", "spep", "sflc", "renal-profile", "b2m-albumin", "coagulation", "blood-group",
            "urine-24h-protein", "marrow-biopsy-fish", "hbv-hcv-hiv"} == set(m)
    assert all(i["status"] == "missing" and i["reason"] for i in m.values())
    assert "interfere" in m["blood-group"]["reason"]


def test_no_regimens_no_investigations():
    assert missing_investigations([], rec(), AS_OF) == []


@pytest.mark.parametrize("age,listed", [(STALE_LAB_DAYS, False), (STALE_LAB_DAYS + 1, True)])
def test_lab_staleness_boundary(age, listed):
    r = rec(labs={"haemoglobin": [lab("haemoglobin", age)]})
    m = missing(KD, r)
    assert ("fbc" in m) is listed
    if listed:
        assert m["fbc"]["status"] == "stale" and m["fbc"]["lastDone"] == days_ago(age).isoformat()


@pytest.mark.parametrize("age,listed", [(STALE_IMAGING_DAYS, False), (STALE_IMAGING_DAYS + 1, True)])
def test_echo_staleness_boundary(age, listed):
    r = rec(investigations=[InvestigationRecord("echocardiogram", days_ago(age))])
    assert ("echocardiogram" in missing(KD, r)) is listed


@pytest.mark.parametrize("age,listed", [(STALE_IMAGING_DAYS, False), (STALE_IMAGING_DAYS + 1, True)])
def test_marrow_staleness_boundary_counts_fish_results(age, listed):
    r = rec(cytogenetics=[CytogeneticFinding("del17p", False, days_ago(age))])
    assert ("marrow-biopsy-fish" in missing(KD, r)) is listed


def test_blood_group_and_serologies_count_whenever_done():
    r = rec(investigations=[InvestigationRecord("blood-group", days_ago(3000)),
                            InvestigationRecord("hbv-hcv-hiv", None)])
    m = missing(DRD, r)
    assert "blood-group" not in m and "hbv-hcv-hiv" not in m


def test_echo_only_when_carfilzomib_is_offered():
    assert "echocardiogram" in missing(KD, rec())
    assert "echocardiogram" not in missing(DRD, rec())


def test_blood_group_only_when_anti_cd38_is_offered():
    assert "blood-group" not in missing(KD, rec())


def test_b2m_albumin_needs_both_results():
    only_b2m = rec(labs={"b2m": [lab("b2m", 5)]})
    both = rec(labs={"b2m": [lab("b2m", 5)], "albumin": [lab("albumin", 5)]})
    assert "b2m-albumin" in missing(KD, only_b2m)
    assert "b2m-albumin" not in missing(KD, both)


def test_ecog_counts_from_the_ecog_series():
    assert "ecog" not in missing(KD, rec(ecog=[EcogScore(1, days_ago(10))]))
    assert missing(KD, rec(ecog=[EcogScore(1, days_ago(STALE_LAB_DAYS + 1))]))["ecog"]["status"] == "stale"


def test_future_evidence_does_not_count():
    r = rec(investigations=[InvestigationRecord("echocardiogram", AS_OF + timedelta(days=1))])
    assert "echocardiogram" in missing(KD, r)


def test_regimens_needing_a_test_are_named():
    items = missing_investigations(KD + DRD, rec(), AS_OF, {"carfilzomib": ["KRd", "DKd"], "daratumumab": ["DRd"]})
    m = {i["code"]: i for i in items}
    assert m["echocardiogram"]["forRegimens"] == ["KRd", "DKd"]
    assert m["echocardiogram"]["forDrugs"] == ["carfilzomib"]


def test_drug_prerequisites_for_the_order_hooks():
    assert [t.code for t in drug_prerequisites("carfilzomib")] == ["echocardiogram"]
    assert {t.code for t in drug_prerequisites("daratumumab")} == {"blood-group", "hbv-hcv-hiv"}
    assert {t.code for t in drug_prerequisites("isatuximab")} == {"blood-group", "hbv-hcv-hiv"}
    assert [t.code for t in drug_prerequisites("bortezomib")] == ["neuropathy-assessment"]
    assert "pet-ct" in {t.code for t in drug_prerequisites("teclistamab")}


def test_every_contract_investigation_code_is_covered():
    assert {t.code for t in TESTS} == {
        "ecog", "fbc", "spep", "sflc", "renal-profile", "b2m-albumin", "coagulation", "blood-group",
        "urine-24h-protein", "marrow-biopsy-fish", "pet-ct", "hbv-hcv-hiv", "cmv-ebv", "echocardiogram",
        "neuropathy-assessment"}
