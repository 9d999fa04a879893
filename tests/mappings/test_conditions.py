"""Conditions: scope, diagnosis date, light chain, comorbidity kinds, transplants, investigations."""
from __future__ import annotations

from datetime import date

import pytest

from tests.mappings.fhir import ICD10CM, PID, SNOMED, concept, obs, quantity, record

CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def cond(code: dict, *, clinical: str | None = "active", verification: str | None = "confirmed", id=None, **fields):
    res = {"resourceType": "Condition", "code": code, "subject": {"reference": f"Patient/{PID}"}}
    if id:
        res["id"] = id
    if clinical:
        res["clinicalStatus"] = concept(CLIN, clinical)
    if verification:
        res["verificationStatus"] = concept(VER, verification)
    res.update(fields)
    return res


MM = concept(SNOMED, "109989006", "Multiple myeloma")


@pytest.mark.parametrize(
    "code",
    [MM, concept(SNOMED, "285421005"), concept(ICD10CM, "C90.02"), concept(ICD10CM, "C9000"),
     concept("http://hl7.org/fhir/sid/icd-10", "C90.0")],
)
def test_active_myeloma_puts_the_patient_in_scope(code):
    rec = record(cond(code, onsetDateTime="2021-05-10"))
    assert rec.in_scope is True and rec.diagnosis_date == date(2021, 5, 10)


@pytest.mark.parametrize("clinical", ["active", "recurrence", "relapse", None])
def test_active_clinical_statuses(clinical):
    assert record(cond(MM, clinical=clinical)).in_scope is True


@pytest.mark.parametrize("clinical", ["inactive", "remission", "resolved"])
def test_myeloma_in_remission_or_inactive_stays_in_scope(clinical):
    """Section 1: only refuted / entered-in-error Conditions leave scope; remission is watched."""
    rec = record(cond(MM, clinical=clinical, id="mm1", onsetDateTime="2020-01-01"))
    assert rec.in_scope is True
    assert rec.diagnosis_date == date(2020, 1, 1)
    assert [c.active for c in rec.conditions if c.kind == "multiple-myeloma"] == [False]


@pytest.mark.parametrize("verification", ["refuted", "entered-in-error"])
def test_refuted_or_erroneous_myeloma_is_ignored(verification):
    rec = record(cond(MM, verification=verification, onsetDateTime="2020-01-01"))
    assert (rec.in_scope, rec.diagnosis_date, rec.conditions) == (False, None, [])


def test_text_alone_never_puts_a_patient_in_scope():
    rec = record(cond({"text": "Multiple myeloma"}))
    assert rec.in_scope is False


def test_plasma_cell_leukaemia_icd_is_not_myeloma_scope():
    assert record(cond(concept(ICD10CM, "C90.10"))).in_scope is False


def test_diagnosis_date_is_the_earliest_onset():
    rec = record(
        cond(concept(ICD10CM, "C90.02"), onsetPeriod={"start": "2023-04-01"}),
        cond(MM, recordedDate="2021-05-10T12:00:00Z"),
    )
    assert rec.diagnosis_date == date(2021, 5, 10)


@pytest.mark.parametrize(("code", "chain"), [("414553000", "kappa"), ("313427003", "lambda"), ("109989006", None)])
def test_light_chain_from_subtype(code, chain):
    assert record(cond(concept(SNOMED, code))).light_chain == chain


def test_conflicting_light_chains_are_not_used():
    rec = record(cond(concept(SNOMED, "414553000")), cond(concept(SNOMED, "313427003")))
    assert rec.light_chain is None and any("kappa and lambda" in g for g in rec.data_gaps)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (concept(SNOMED, "84114007"), "heart-failure"),
        (concept(ICD10CM, "I50.22"), "heart-failure"),
        (concept(ICD10CM, "I42.9"), "heart-failure"),
        (concept(SNOMED, "85898001"), "heart-failure"),  # candidate code, accepted on input
        (concept(ICD10CM, "G62.0"), "peripheral-neuropathy"),
        (concept(SNOMED, "302226006"), "peripheral-neuropathy"),
        (concept(ICD10CM, "I26.99"), "venous-thromboembolism"),
        (concept(ICD10CM, "C90.20"), "extramedullary-disease"),
        (concept(ICD10CM, "C90.31"), "plasmacytoma"),
        (concept(ICD10CM, "N18.4"), "renal-impairment"),
        ({"text": "Lytic lesion L3 vertebra"}, "bone-lesion"),
        ({"text": "Left femur deep vein thrombosis"}, "venous-thromboembolism"),
        ({"coding": [{"system": "urn:local", "code": "x", "display": "Bortezomib-induced peripheral neuropathy"}]},
         "peripheral-neuropathy"),
    ],
)
def test_comorbidity_kinds(code, kind):
    rec = record(cond(code, onsetDateTime="2024-02-02"))
    assert [(c.kind, c.onset, c.active) for c in rec.conditions] == [(kind, date(2024, 2, 2), True)]


def test_unrelated_conditions_are_ignored():
    assert record(cond(concept(SNOMED, "38341003", "Hypertension"))).conditions == []


# --- Procedures: transplant and investigations ---------------------------------------------
def proc(code: dict, *, status="completed", when="2021-10-20", id=None):
    res = {"resourceType": "Procedure", "status": status, "code": code, "subject": {"reference": f"Patient/{PID}"}}
    if id:
        res["id"] = id
    if when:
        res["performedDateTime"] = when
    return res


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (concept(SNOMED, "58776007"), "autologous"),
        (concept(SNOMED, "234336002", text="Autologous peripheral blood stem cell transplant"), "autologous"),
        (concept(SNOMED, "234336002"), "unknown"),
        (concept(SNOMED, "58390007"), "allogeneic"),
        ({"text": "ASCT (high-dose melphalan, autologous stem cell rescue)"}, "autologous"),
    ],
)
def test_stem_cell_transplant_procedures(code, kind):
    rec = record(proc(code))
    assert [(t.when, t.kind) for t in rec.transplants] == [(date(2021, 10, 20), kind)]


def test_kidney_transplant_is_not_a_stem_cell_transplant():
    assert record(proc({"text": "Kidney transplant"})).transplants == []


@pytest.mark.parametrize("status", ["not-done", "entered-in-error", "in-progress", "preparation"])
def test_only_completed_procedures_count(status):
    assert record(proc(concept(SNOMED, "58776007"), status=status)).transplants == []


def test_transplant_without_date_is_a_gap():
    rec = record(proc(concept(SNOMED, "58776007"), when=None, id="tx"))
    assert rec.transplants == [] and "Procedure/tx" in rec.data_gaps[0]


@pytest.mark.parametrize(
    ("code", "investigation"),
    [
        (concept(SNOMED, "40701008", "Echocardiography"), "echocardiogram"),
        ({"text": "Transthoracic echocardiogram"}, "echocardiogram"),
        ({"text": "Whole-body FDG PET-CT"}, "pet-ct"),
        ({"text": "Bone marrow aspirate and trephine biopsy"}, "marrow-biopsy-fish"),
        ({"text": "Baseline neuropathy assessment (TNSc)"}, "neuropathy-assessment"),
    ],
)
def test_investigation_procedures(code, investigation):
    rec = record(proc(code, when="2025-05-01"))
    assert [(i.code, i.when) for i in rec.investigations] == [(investigation, date(2025, 5, 1))]


@pytest.mark.parametrize(
    ("loinc", "investigation"),
    [("882-1", "blood-group"), ("890-4", "blood-group"), ("5902-2", "coagulation"), ("3173-2", "coagulation"),
     ("5196-1", "hbv-hcv-hiv"), ("16128-1", "hbv-hcv-hiv"), ("56888-1", "hbv-hcv-hiv"),
     ("1952-1", "b2m-albumin"), ("718-7", "fbc"), ("89247-1", "ecog"), ("98014-4", "marrow-biopsy-fish")],
)
def test_investigation_observations(loinc, investigation):
    rec = record(obs(loinc, valueString="see report"))
    assert investigation in {i.code for i in rec.investigations}


def test_final_diagnostic_report_evidences_an_investigation():
    report = {"resourceType": "DiagnosticReport", "id": "r1", "status": "final",
              "code": {"text": "PET-CT whole body"}, "effectiveDateTime": "2025-04-04",
              "subject": {"reference": f"Patient/{PID}"}}
    rec = record(report, dict(report, id="r2", status="preliminary"))
    assert [(i.code, i.when, i.source_id) for i in rec.investigations] == [
        ("pet-ct", date(2025, 4, 4), "DiagnosticReport/r1")]


def test_history_of_autologous_transplant_condition_with_onset():
    rec = record(cond(concept(SNOMED, "108631000119101"), onsetDateTime="2019-03-03"))
    assert [(t.when, t.kind) for t in rec.transplants] == [(date(2019, 3, 3), "autologous")]


def test_labs_with_investigation_and_analyte_codes_feed_both():
    rec = record(obs("718-7", valueQuantity=quantity(11, "g/dL")))
    assert [r.value for r in rec.series("haemoglobin")] == [110.0]
    assert [i.code for i in rec.investigations] == ["fbc"]


def test_no_clinical_status_but_abated_is_not_active():
    rec = record(cond(concept(SNOMED, "84114007"), clinical=None, abatementDateTime="2023-01-01"))
    assert [c.active for c in rec.conditions] == [False]
