"""The demo patients and hook requests in examples/: valid FHIR, valid CDS Hooks requests,
reproducible from the generator, and carrying the clinical facts their README claims.

FHIR validation uses fhir.resources 8, whose models are R4B. For the resources used here
(Patient, Condition, Observation, Procedure, DiagnosticReport, MedicationStatement,
MedicationRequest, MedicationAdministration, Bundle) R4B and R4 have the same elements, so an
R4B-valid example is R4-valid too; sekmet-fhir validates inbound resources with the same models.
"""
from __future__ import annotations

import importlib.util
import json
from datetime import date
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class

from cds_service.http.schemas import REQUEST, validator
from cds_service.hooks.services import patient_data_prefetch
from myeloma_model import thresholds as T

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PATIENT_FILES = sorted((EXAMPLES / "patients").glob("*.json"))
HOOK_FILES = sorted((EXAMPLES / "hooks").glob("*.json"))
REQUIRED_PATIENTS = {"vignette", "len-refractory", "triple-class", "stable-remission"}
SPEP = "33358-3"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def load_generator():
    spec = importlib.util.spec_from_file_location("build_examples", EXAMPLES / "build_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def resources_of(bundle: dict) -> list[dict]:
    return [e["resource"] for e in bundle.get("entry", [])]


def spep_series_g_l(bundle: dict) -> list[tuple[str, float]]:
    """Final serum M-protein results in g/L (the two units the examples use), by date;
    the same result reported twice (two feeds) counts once."""
    factor = {"g/L": 1.0, "g/dL": 10.0}
    out = []
    for r in resources_of(bundle):
        if (r["resourceType"] == "Observation" and r["status"] == "final"
                and r["code"]["coding"][0]["code"] == SPEP and "valueQuantity" in r):
            q = r["valueQuantity"]
            out.append((r["effectiveDateTime"], round(q["value"] * factor[q["code"]], 6)))
    return sorted(set(out))


def test_all_required_demo_patients_exist():
    assert REQUIRED_PATIENTS <= {p.stem for p in PATIENT_FILES}


@pytest.mark.parametrize("path", PATIENT_FILES + HOOK_FILES + [EXAMPLES / "expected.json"], ids=lambda p: p.name)
def test_example_is_json(path):
    assert isinstance(load(path), dict)


@pytest.mark.parametrize("path", PATIENT_FILES, ids=lambda p: p.stem)
def test_patient_bundle_is_valid_idempotent_transaction(path):
    bundle = load(path)
    get_fhir_model_class("Bundle").model_validate(bundle)  # raises on any invalid resource
    assert bundle["type"] == "transaction"
    resources = resources_of(bundle)
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    assert len(patients) == 1
    patient_ref = f"Patient/{patients[0]['id']}"
    full_urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    for entry in bundle["entry"]:
        res = entry["resource"]
        assert entry["fullUrl"].startswith("urn:uuid:")
        # PUT to the resource's own id: reloading updates instead of duplicating.
        assert entry["request"] == {"method": "PUT", "url": f"{res['resourceType']}/{res['id']}"}
        if res["resourceType"] != "Patient":
            assert res["subject"] == {"reference": patient_ref}


def test_generator_reproduces_committed_examples(tmp_path):
    written = load_generator().build(tmp_path)
    assert written
    for path in written:
        committed = EXAMPLES / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), f"{committed} differs: re-run examples/build_examples.py"


@pytest.mark.parametrize("path", HOOK_FILES, ids=lambda p: p.stem)
def test_hook_request_validates_against_service_schema(path):
    body = load(path)
    errors = sorted(validator(REQUEST).iter_errors(body), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


@pytest.mark.parametrize("path", [p for p in HOOK_FILES if "no-prefetch" not in p.stem], ids=lambda p: p.stem)
def test_prefetch_has_every_declared_key_with_valid_resources(path):
    body = load(path)
    prefetch = body["prefetch"]
    assert set(prefetch) == set(patient_data_prefetch())
    pid = body["context"]["patientId"]
    assert prefetch["patient"]["resourceType"] == "Patient" and prefetch["patient"]["id"] == pid
    for key, value in prefetch.items():
        if key == "patient":
            continue
        get_fhir_model_class("Bundle").model_validate(value)
        assert value["type"] == "searchset"
        for r in resources_of(value):
            assert r["subject"]["reference"] == f"Patient/{pid}"


def test_prefetch_equals_the_patient_bundle():
    bundle, hook = load(EXAMPLES / "patients" / "vignette.json"), load(EXAMPLES / "hooks" / "patient-view-vignette.json")
    in_bundle = {(r["resourceType"], r["id"]) for r in resources_of(bundle)}
    prefetch = hook["prefetch"]
    in_prefetch = {("Patient", prefetch["patient"]["id"])} | {
        (r["resourceType"], r["id"]) for k, v in prefetch.items() if k != "patient" for r in resources_of(v)}
    assert in_prefetch == in_bundle


def test_no_prefetch_request_is_sandbox_shaped():
    body = load(EXAMPLES / "hooks" / "patient-view-vignette-no-prefetch.json")
    assert "prefetch" not in body
    # the loopback sekmet server of examples/sekmet/settings.yaml, where load-demo puts the data
    assert body["fhirServer"] == "http://127.0.0.1:8081/fhir"
    assert body["context"] == {"userId": "Practitioner/COREPRACTITIONER1", "patientId": "mm-vignette"}


@pytest.mark.parametrize("patient", ["cardiac", "len-refractory"])
def test_order_sign_carries_a_draft_carfilzomib_request(patient):
    body = load(EXAMPLES / "hooks" / f"order-sign-carfilzomib-{patient}.json")
    assert body["hook"] == "order-sign"
    draft = body["context"]["draftOrders"]
    get_fhir_model_class("Bundle").model_validate(draft)
    (order,) = resources_of(draft)
    assert order["resourceType"] == "MedicationRequest" and order["status"] == "draft"
    assert {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1302966",
            "display": "carfilzomib"} in order["medicationCodeableConcept"]["coding"]


def _conditions(patient: str) -> list[str]:
    return [c["code"]["coding"][0]["code"] for c in resources_of(load(EXAMPLES / "patients" / f"{patient}.json"))
            if c["resourceType"] == "Condition"]


def test_cardiac_patient_has_heart_failure_and_the_other_a_recent_echo():
    assert "84114007" in _conditions("cardiac")
    assert "84114007" not in _conditions("len-refractory")
    as_of = date.fromisoformat(load(EXAMPLES / "expected.json")["asOf"])
    echo_dates = [r["performedDateTime"] for r in resources_of(load(EXAMPLES / "patients" / "len-refractory.json"))
                  if r["resourceType"] == "Procedure" and r["code"]["coding"][0]["code"] == "40701008"]
    assert echo_dates and (as_of - date.fromisoformat(max(echo_dates))).days <= T.STALE_IMAGING_DAYS


# -- the clinical facts each example was built to show (checked on the data, not the model) ----
def _first_pd(series: list[tuple[str, float]], line_start: str) -> tuple[float, list[str]]:
    """Nadir since line_start and the dates whose value meets IMWG serum PD against it."""
    in_line = [(d, v) for d, v in series if d >= line_start]
    nadir, meets = None, []
    for d, v in in_line:
        if nadir is not None and v - nadir >= T.PD_SERUM_ABSOLUTE_RISE_G_L and v >= nadir * (1 + T.PD_RELATIVE_RISE):
            meets.append(d)
        nadir = v if nadir is None else min(nadir, v)
    return nadir, meets


@pytest.mark.parametrize("patient,line_start,first_pd", [
    ("vignette", "2021-05-01", "2025-04-28"),
    ("len-refractory", "2021-02-01", "2025-03-31"),
    ("cardiac", "2020-02-01", "2025-03-03"),
    ("triple-class", "2022-02-14", "2025-03-17"),
])
def test_relapse_is_confirmed_on_the_last_two_results_and_not_before(patient, line_start, first_pd):
    series = spep_series_g_l(load(EXAMPLES / "patients" / f"{patient}.json"))
    _, meets = _first_pd(series, line_start)
    assert meets[0] == first_pd
    assert meets == [d for d, _ in series[-2:]]  # two consecutive results: confirmed


def test_vignette_rise_is_two_to_seven_g_l_below_the_spr_bars():
    series = spep_series_g_l(load(EXAMPLES / "patients" / "vignette.json"))
    nadir, _ = _first_pd(series, "2021-05-01")
    latest = series[-1][1]
    assert nadir == 2.0 and 7.0 <= latest < 8.0
    assert latest - nadir < T.SPR_SERUM_ABSOLUTE_RISE_G_L and nadir < T.SPR_DOUBLING_MIN_NADIR_G_L
    # the result before the first PD result does not meet PD (the relapse is not older)
    before = [v for d, v in series if d < "2025-04-28"][-1]
    assert before - nadir < T.PD_SERUM_ABSOLUTE_RISE_G_L


def test_stable_remission_markers_never_meet_progression():
    series = spep_series_g_l(load(EXAMPLES / "patients" / "stable-remission.json"))
    _, meets = _first_pd(series, "2022-09-01")
    assert meets == []


def _age(birth: str, on: str) -> int:
    b, d = date.fromisoformat(birth), date.fromisoformat(on)
    return d.year - b.year - ((d.month, d.day) < (b.month, b.day))


def test_ages_match_the_expected_fitness():
    expected = load(EXAMPLES / "expected.json")
    for name, exp in expected["patients"].items():
        if "fitness.age" not in exp:
            continue
        patient = resources_of(load(EXAMPLES / "patients" / f"{name}.json"))[0]
        assert _age(patient["birthDate"], expected["asOf"]) == exp["fitness.age"], name


def test_lenalidomide_stopped_long_enough_before_the_vignette_relapse():
    """Not refractory: progression more than REFRACTORY_WINDOW_DAYS after the last dose."""
    resources = resources_of(load(EXAMPLES / "patients" / "vignette.json"))
    ends = [r["effectivePeriod"]["end"] for r in resources if r["resourceType"] == "MedicationStatement"
            and r["medicationCodeableConcept"]["coding"][0]["code"] == "342369"]
    gap = (date(2025, 4, 28) - date.fromisoformat(max(ends))).days
    assert gap > T.REFRACTORY_WINDOW_DAYS


def test_stable_remission_withdrawn_result_would_look_like_progression():
    """The entered-in-error result is a real trap: read as valid, it would meet IMWG PD."""
    resources = resources_of(load(EXAMPLES / "patients" / "stable-remission.json"))
    (withdrawn,) = [r for r in resources if r["resourceType"] == "Observation" and r["status"] == "entered-in-error"]
    nadir, _ = _first_pd(spep_series_g_l(load(EXAMPLES / "patients" / "stable-remission.json")), "2022-09-01")
    value = withdrawn["valueQuantity"]["value"]
    assert value - nadir >= T.PD_SERUM_ABSOLUTE_RISE_G_L and value >= nadir * (1 + T.PD_RELATIVE_RISE)
