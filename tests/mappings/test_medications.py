"""Medication history -> DrugExposure: recognition, statuses, periods, administration merge."""
from __future__ import annotations

from datetime import date

import pytest

from myeloma_model.thresholds import LINE_GROUPING_DAYS
from tests.mappings.fhir import ATC, PID, RXNORM, concept, record


def med(rtype: str, medication: dict | None = None, *, status: str, id: str | None = None, **fields) -> dict:
    res = {"resourceType": rtype, "status": status, "subject": {"reference": f"Patient/{PID}"}}
    if id:
        res["id"] = id
    if medication is not None:
        res["medicationCodeableConcept"] = medication
    res.update(fields)
    return res


LEN = concept(RXNORM, "342369", "lenalidomide")


def exposures(rec):
    return [(e.drug, e.start, e.end, e.active, e.source) for e in rec.exposures]


# --- recognition -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("medication", "drug"),
    [
        (concept(RXNORM, "342369"), "lenalidomide"),  # ingredient
        (concept(RXNORM, "337535"), "lenalidomide"),  # Revlimid brand (product-level) code
        (concept(RXNORM, "2372199"), "daratumumab"),  # daratumumab / hyaluronidase (SC)
        (concept(RXNORM, "1723734"), "ixazomib"),  # ixazomib citrate (PIN)
        (concept(RXNORM, "2548742"), "selinexor"),  # Xpovio weekly pack (product-level, candidate)
        (concept(RXNORM, "1369723"), "pomalidomide"),  # Pomalyst pill (product-level, candidate)
        (concept(ATC, "L01XG02"), "carfilzomib"),
        (concept("http://www.whocc.no/atc/", "L01FC02"), "isatuximab"),
        ({"text": "REVLIMID 25 mg capsule"}, "lenalidomide"),  # brand name only, in text
        ({"coding": [{"system": "urn:local", "code": "X1", "display": "Pomalyst 4mg"}]}, "pomalidomide"),
        ({"text": "Darzalex Faspro 1800 mg SC"}, "daratumumab"),
        ({"text": "belantamab mafodotin-blmf"}, "belantamab-mafodotin"),
        ({"text": "Tecvayli step-up dose"}, "teclistamab"),
        ({"text": "cilta-cel infusion"}, "ciltacabtagene-autoleucel"),
        ({"text": "Hemady 20 mg"}, "dexamethasone"),
    ],
)
def test_drug_recognised_by_code_or_name(medication, drug):
    rec = record(med("MedicationStatement", medication, status="completed", effectiveDateTime="2024-01-01"))
    assert [e.drug for e in rec.exposures] == [drug]


def test_names_match_whole_words_only():
    rec = record(med("MedicationStatement", {"text": "Revlimidine (not a drug)"}, status="completed",
                     effectiveDateTime="2024-01-01"))
    assert rec.exposures == []


def test_melphalan_flufenamide_is_not_melphalan():
    rec = record(med("MedicationStatement", {"text": "melphalan flufenamide"}, status="completed",
                     effectiveDateTime="2024-01-01"))
    assert rec.exposures == []


def test_combination_text_gives_one_exposure_per_drug():
    rec = record(med("MedicationStatement", {"text": "Lenalidomide + dexamethasone"}, status="completed",
                     effectiveDateTime="2024-01-01"))
    assert sorted(e.drug for e in rec.exposures) == ["dexamethasone", "lenalidomide"]


def test_non_myeloma_drugs_are_ignored_and_unknown_antineoplastic_atc_is_reported():
    rec = record(
        med("MedicationStatement", concept(RXNORM, "1191", "aspirin"), status="active", effectiveDateTime="2024-01-01"),
        med("MedicationStatement", concept(ATC, "L01XX99"), id="ms-x", status="active", effectiveDateTime="2024-01-01"),
    )
    assert rec.exposures == []
    assert len(rec.data_gaps) == 1 and "MedicationStatement/ms-x" in rec.data_gaps[0] and "L01XX99" in rec.data_gaps[0]


def test_contained_medication_reference():
    res = med("MedicationRequest", status="completed", intent="order", authoredOn="2024-03-01",
              medicationReference={"reference": "#m1"},
              contained=[{"resourceType": "Medication", "id": "m1", "code": concept(RXNORM, "1302966")}])
    assert [e.drug for e in record(res).exposures] == ["carfilzomib"]


def test_bundled_medication_reference_listed_after_its_user():
    res = med("MedicationAdministration", status="completed", effectiveDateTime="2024-03-01",
              medicationReference={"reference": "Medication/velc"})
    medication = {"resourceType": "Medication", "id": "velc", "code": {"text": "Velcade 3.5 mg vial"}}
    assert [e.drug for e in record(res, medication).exposures] == ["bortezomib"]


def test_medication_ingredients_when_the_medication_has_no_code():
    medication = {"resourceType": "Medication", "id": "kd", "ingredient": [
        {"itemCodeableConcept": concept(RXNORM, "1302966")}, {"itemCodeableConcept": concept(RXNORM, "3264")}]}
    res = med("MedicationStatement", status="completed", effectivePeriod={"start": "2024-01-01", "end": "2024-06-01"},
              medicationReference={"reference": "Medication/kd"})
    assert sorted(e.drug for e in record(res, medication).exposures) == ["carfilzomib", "dexamethasone"]


# --- MedicationStatement ----------------------------------------------------------------------
@pytest.mark.parametrize(("status", "active"), [("active", True), ("completed", False), ("stopped", False),
                                               ("on-hold", False), ("intended", False)])
def test_statement_statuses_that_count(status, active):
    rec = record(med("MedicationStatement", LEN, status=status, effectivePeriod={"start": "2024-01-01"}))
    assert exposures(rec) == [("lenalidomide", date(2024, 1, 1), None, active, "MedicationStatement")]


@pytest.mark.parametrize("status", ["not-taken", "entered-in-error", "unknown"])
def test_statement_statuses_that_do_not_count(status):
    rec = record(med("MedicationStatement", LEN, status=status, effectiveDateTime="2024-01-01"))
    assert rec.exposures == []


def test_statement_period():
    rec = record(med("MedicationStatement", LEN, status="completed",
                     effectivePeriod={"start": "2021-12-20", "end": "2023-12-18"}))
    assert exposures(rec) == [("lenalidomide", date(2021, 12, 20), date(2023, 12, 18), False, "MedicationStatement")]


# --- MedicationRequest ------------------------------------------------------------------------
def test_request_with_bounds_period():
    res = med("MedicationRequest", LEN, status="completed", intent="order", authoredOn="2024-01-01",
              dosageInstruction=[{"timing": {"repeat": {"boundsPeriod": {"start": "2024-01-05", "end": "2024-09-30"}}}}])
    assert exposures(record(res)) == [("lenalidomide", date(2024, 1, 5), date(2024, 9, 30), False, "MedicationRequest")]


def test_request_with_validity_period():
    res = med("MedicationRequest", LEN, status="stopped", intent="order", authoredOn="2024-01-01",
              dispenseRequest={"validityPeriod": {"start": "2024-01-02", "end": "2024-04-01"}})
    assert exposures(record(res))[0][1:3] == (date(2024, 1, 2), date(2024, 4, 1))


def test_request_authored_on_with_supply_duration_bounds_the_end():
    res = med("MedicationRequest", LEN, status="completed", intent="order", authoredOn="2024-01-01",
              dispenseRequest={"expectedSupplyDuration": {"value": 28, "unit": "days", "code": "d"},
                               "numberOfRepeatsAllowed": 2})
    assert exposures(record(res))[0][1:3] == (date(2024, 1, 1), date(2024, 3, 24))


def test_active_request_without_end_is_open():
    res = med("MedicationRequest", LEN, status="active", intent="plan", authoredOn="2025-01-01")
    assert exposures(record(res)) == [("lenalidomide", date(2025, 1, 1), None, True, "MedicationRequest")]


@pytest.mark.parametrize("status", ["cancelled", "entered-in-error", "draft", "unknown"])
def test_request_statuses_that_do_not_count(status):
    res = med("MedicationRequest", LEN, status=status, intent="order", authoredOn="2024-01-01")
    assert record(res).exposures == []


def test_proposals_are_not_exposure():
    res = med("MedicationRequest", LEN, status="active", intent="proposal", authoredOn="2024-01-01")
    assert record(res).exposures == []


# --- MedicationAdministration -----------------------------------------------------------------
def _dara(day: str, status: str = "completed", **kw):
    return med("MedicationAdministration", concept(RXNORM, "1721947"), status=status, effectiveDateTime=day, **kw)


def test_administration_series_merge_into_periods_split_by_long_pauses():
    weekly = [f"2024-01-{d:02d}" for d in (1, 8, 15, 22, 29)]
    monthly = ["2024-02-26", "2024-03-25"]  # 28 days apart: same course
    after_pause = ["2024-09-02", "2024-09-30"]  # > LINE_GROUPING_DAYS later: a new period
    rec = record(*[_dara(d) for d in after_pause + monthly + weekly])
    assert exposures(rec) == [
        ("daratumumab", date(2024, 1, 1), date(2024, 3, 25), False, "MedicationAdministration"),
        ("daratumumab", date(2024, 9, 2), date(2024, 9, 30), False, "MedicationAdministration"),
    ]


def test_administration_merge_threshold_from_both_sides():
    start = date(2024, 1, 1)
    within = start.fromordinal(start.toordinal() + LINE_GROUPING_DAYS).isoformat()
    beyond = start.fromordinal(start.toordinal() + LINE_GROUPING_DAYS + 1).isoformat()
    assert len(record(_dara("2024-01-01"), _dara(within)).exposures) == 1
    assert len(record(_dara("2024-01-01"), _dara(beyond)).exposures) == 2


@pytest.mark.parametrize("status", ["not-done", "entered-in-error", "unknown"])
def test_administration_statuses_that_do_not_count(status):
    assert record(_dara("2024-01-01", status=status)).exposures == []


def test_in_progress_infusion_is_open_and_active():
    res = med("MedicationAdministration", concept(RXNORM, "1721947"), status="in-progress",
              effectivePeriod={"start": "2025-06-29T09:00:00Z"})
    assert exposures(record(res)) == [("daratumumab", date(2025, 6, 29), None, True, "MedicationAdministration")]


def test_medication_without_any_date_is_a_gap():
    rec = record(med("MedicationStatement", LEN, status="completed", id="ms-nodate"))
    assert rec.exposures == [] and "MedicationStatement/ms-nodate" in rec.data_gaps[0]


def test_active_statement_with_only_a_date_is_open_from_that_date():
    rec = record(med("MedicationStatement", LEN, status="active", effectiveDateTime="2025-01-01"))
    assert exposures(rec) == [("lenalidomide", date(2025, 1, 1), None, True, "MedicationStatement")]
    rec = record(med("MedicationStatement", LEN, status="completed", effectiveDateTime="2025-01-01"))
    assert exposures(rec) == [("lenalidomide", date(2025, 1, 1), date(2025, 1, 1), False, "MedicationStatement")]


def test_statement_with_only_date_asserted():
    rec = record(med("MedicationStatement", LEN, status="completed", dateAsserted="2024-05-05"))
    assert exposures(rec)[0][1] == date(2024, 5, 5)


def test_course_with_a_recent_last_dose_is_still_running():
    as_of = date(2025, 6, 30)
    recent = record(_dara("2025-05-05"), _dara("2025-06-02"), as_of=as_of)
    assert exposures(recent) == [("daratumumab", date(2025, 5, 5), None, True, "MedicationAdministration")]
    stopped = record(_dara("2025-04-07"), _dara("2025-05-05"), as_of=as_of)  # last dose 56 days ago
    assert exposures(stopped) == [("daratumumab", date(2025, 4, 7), date(2025, 5, 5), False, "MedicationAdministration")]


def test_administrations_after_the_as_of_date_are_left_out():
    rec = record(_dara("2025-01-06"), _dara("2025-08-04"), as_of=date(2025, 6, 30))
    assert exposures(rec) == [("daratumumab", date(2025, 1, 6), date(2025, 1, 6), False, "MedicationAdministration")]


def test_request_without_bounds_runs_to_the_last_administration_that_references_it():
    # v2 s5: authoredOn to the last MedicationAdministration referencing the request.
    req = med("MedicationRequest", LEN, status="active", intent="order", authoredOn="2024-01-01", id="rq1")
    given = [med("MedicationAdministration", LEN, status="completed", effectiveDateTime=d,
                 request={"reference": "MedicationRequest/rq1"}) for d in ("2024-01-02", "2024-02-01", "2024-03-01")]
    rec = record(req, *given)
    [request] = [e for e in rec.exposures if e.source == "MedicationRequest"]
    assert (request.start, request.end) == (date(2024, 1, 1), date(2024, 3, 1))


def test_request_bounds_period_wins_over_administrations():
    req = med("MedicationRequest", LEN, status="completed", intent="order", authoredOn="2024-01-01", id="rq2",
              dosageInstruction=[{"timing": {"repeat": {"boundsPeriod": {"start": "2024-01-05", "end": "2024-09-30"}}}}])
    given = med("MedicationAdministration", LEN, status="completed", effectiveDateTime="2024-02-01",
                request={"reference": "MedicationRequest/rq2"})
    [request] = [e for e in record(req, given).exposures if e.source == "MedicationRequest"]
    assert request.end == date(2024, 9, 30)


def test_exposure_evidence_is_the_latest_of_start_and_date_asserted():
    st = med("MedicationStatement", LEN, status="active", effectivePeriod={"start": "2022-01-01"}, dateAsserted="2024-05-01")
    [e] = record(st).exposures
    assert e.evidence == date(2024, 5, 1)
