"""Section 8 / Table 1: missing or stale baseline tests for the regimens offered."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from fhir_mappings.terminology import (
    investigation_is_assessment,
    investigation_order_codings,
)
from myeloma_model.contract import to_json
from myeloma_model.guidance.investigations import (
    TESTS,
    drug_prerequisites,
    missing_investigations,
)
from myeloma_model.records import (
    CytogeneticFinding,
    EcogScore,
    InvestigationRecord,
    LabResult,
    PatientRecord,
)
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
    return {i["code"]: i for i in to_json(missing_investigations(drugs, record, AS_OF))}


def test_nothing_on_record_lists_every_test_the_regimen_needs():
    m = missing(DRD, rec())
    assert {"ecog", "fbc", "spep", "sflc", "renal-profile", "b2m-albumin", "coagulation", "blood-group",
            "urine-24h-protein", "marrow-biopsy-fish", "hbv-hcv-hiv"} == set(m)
    assert all(i["status"] == "missing" and i["lastDone"] is None for i in m.values())
    # codes and values only: the wording is the card layer's
    assert not any("label" in i or "reason" in i for i in m.values())
    assert m["fbc"]["maxAgeDays"] == 30 and m["marrow-biopsy-fish"]["maxAgeDays"] == 90
    assert m["blood-group"]["maxAgeDays"] is None


def test_ecog_and_neuropathy_examination_are_assessments_not_orders():
    m = missing(["bortezomib", "dexamethasone"], rec())
    assert m["ecog"]["assessment"] is True and m["neuropathy-assessment"]["assessment"] is True
    assert m["fbc"]["assessment"] is False
    assert investigation_is_assessment("ecog") and investigation_is_assessment("neuropathy-assessment")
    assert investigation_order_codings("ecog") == [] and investigation_order_codings("neuropathy-assessment") == []


def _codes(test):
    return {(c["system"], c["code"]) for c in investigation_order_codings(test)}


def test_panels_are_ordered_as_the_coded_tests_they_contain():
    loinc = "http://loinc.org"
    assert _codes("sflc") == {(loinc, "36916-5"), (loinc, "33944-0")}  # kappa AND lambda
    assert _codes("coagulation") == {(loinc, "5902-2"), (loinc, "3173-2")}  # PT AND aPTT
    assert _codes("b2m-albumin") == {(loinc, "1952-1"), (loinc, "1751-7")}
    assert {(loinc, "718-7"), (loinc, "777-3")} <= _codes("fbc")
    assert _codes("igg") == {(loinc, "2465-3")}
    assert (loinc, "33358-3") in _codes("spep")


def test_unverified_codes_are_never_ordered():
    # candidates only (urine M-protein 42482-0, the K/L ratio 48378-4) or no checked code at all
    assert investigation_order_codings("urine-24h-protein") == []
    assert (("http://loinc.org", "48378-4")) not in _codes("sflc")
    assert investigation_order_codings("pet-ct") == [] and investigation_order_codings("echocardiogram") == []


@pytest.mark.parametrize("drug_name", ["teclistamab", "ciltacabtagene-autoleucel", "talquetamab"])
def test_igg_before_car_t_or_bispecific(drug_name):
    assert "igg" in missing([drug_name], rec())
    assert "igg" not in missing([drug_name], rec(labs={"igg": [lab("igg", 10, 6.0)]}))
    assert "igg" not in missing(DRD, rec())


RELAPSE_DATE = date(2024, 5, 1)


def _relapse_markers(n):
    return rec(labs={"serum_m_protein": [lab("serum_m_protein", n, 7.0)],
                     "kappa_flc": [lab("kappa_flc", n, 200.0)], "lambda_flc": [lab("lambda_flc", n, 5.0)]})


@pytest.mark.parametrize("age,listed", [(60, False), (61, True)])
def test_spep_and_flc_that_established_the_relapse_are_current_for_60_days(age, listed):
    relapse = AS_OF - timedelta(days=age)  # the result that met the criterion is on the relapse date
    m = {i["code"]: i for i in to_json(missing_investigations(KD, _relapse_markers(age), AS_OF, relapse_date=relapse))}
    assert ("spep" in m) is listed and ("sflc" in m) is listed


def test_spep_before_the_relapse_is_stale_after_30_days():
    m = {i["code"]: i for i in to_json(missing_investigations(KD, _relapse_markers(45), AS_OF,
                                                              relapse_date=AS_OF - timedelta(days=20)))}
    assert m["spep"]["status"] == "stale" and m["spep"]["maxAgeDays"] == 30


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
    items = to_json(missing_investigations(KD + DRD, rec(), AS_OF, {"carfilzomib": ["KRd", "DKd"], "daratumumab": ["DRd"]}))
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
        "neuropathy-assessment", "igg"}
