"""order-select / order-sign services end to end (mappings + model + guidance + cards) on the
demo patients. "Today" is the examples' as-of date so the demo's dates mean what they say."""
from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cds_service.hooks import pipeline
from tests.schema_assert import assert_cds_response, assert_operation_outcome

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXPECTED = json.loads((EXAMPLES / "expected.json").read_text())
AS_OF = date.fromisoformat(EXPECTED["asOf"])
SIGN = "/cds-services/myeloma-order-sign"
SELECT = "/cds-services/myeloma-order-select"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CARFILZOMIB = {"coding": [{"system": RXNORM, "code": "1302966", "display": "carfilzomib"}], "text": "Kyprolis"}


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(pipeline, "today", lambda: AS_OF)


def load(rel: str) -> dict:
    return json.loads((EXAMPLES / rel).read_text())


def med_request(concept: dict, rid: str = "draft-1", patient: str = "p") -> dict:
    return {"resourceType": "MedicationRequest", "id": rid, "status": "draft", "intent": "proposal",
            "medicationCodeableConcept": concept, "subject": {"reference": f"Patient/{patient}"},
            "authoredOn": AS_OF.isoformat()}


def med_order_dstu2(concept: dict, rid: str = "order-123", patient: str = "p") -> dict:
    return {"resourceType": "MedicationOrder", "id": rid, "status": "draft", "dateWritten": AS_OF.isoformat(),
            "patient": {"reference": f"Patient/{patient}"}, "medicationCodeableConcept": concept}


def order_request(patient: str, *orders: dict, hook: str = "order-sign", typed: bool = True,
                  selections: list[str] | None = None) -> dict:
    """An order hook request for a demo patient: the patient-view example's prefetch, plus draftOrders."""
    base = copy.deepcopy(load(f"hooks/patient-view-{patient}.json"))
    bundle = {"resourceType": "Bundle", "entry": [{"resource": o} for o in orders]}
    if typed:
        bundle["type"] = "collection"
    base["hook"] = hook
    base["context"]["draftOrders"] = bundle
    if hook == "order-select":
        base["context"]["selections"] = selections or [f"{o['resourceType']}/{o['id']}" for o in orders]
    return base


def cards(client, url, body) -> list[dict]:
    resp = client.post(url, json=body)
    assert resp.status_code == 200, resp.get_json()
    out = resp.get_json()
    assert_cds_response(out)
    for c in out["cards"]:
        assert c["source"]["topic"]["code"] and c["source"]["url"].startswith("https://")
        assert all(o.get("display") for o in c["overrideReasons"])
    return out["cards"]


def about(cards_, word):
    return [c for c in cards_ if word in (c["summary"] + c.get("detail", "")).lower()]


# --- the done-when checks -------------------------------------------------------------------------

def test_discovery_lists_both_order_services(client):
    services = {s["id"]: s for s in client.get("/cds-services").get_json()["services"]}
    assert services["myeloma-order-select"]["hook"] == "order-select"
    assert services["myeloma-order-sign"]["hook"] == "order-sign"


def test_carfilzomib_order_sign_on_heart_failure_patient_warns(client):
    out = cards(client, SIGN, load("hooks/order-sign-carfilzomib-cardiac.json"))
    cardiac = [c for c in out if c["source"]["topic"]["code"] == "safety"]
    assert len(cardiac) == 1 and cardiac[0]["indicator"] == "warning"
    assert "carfilzomib" in cardiac[0]["summary"] and "heart failure" in cardiac[0]["summary"]
    echo = [c for c in out if c["source"]["topic"]["code"] == "investigations"]
    assert echo and "echo" in echo[0]["summary"]


def test_carfilzomib_order_sign_without_cardiac_disease_and_with_recent_echo_gives_no_card(client):
    assert cards(client, SIGN, load("hooks/order-sign-carfilzomib-len-refractory.json")) == []


# --- request shapes: DSTU2 MedicationOrder, Bundle without type, selections ----------------------

def test_sandbox_dstu2_medication_order_in_untyped_bundle_is_checked(client):
    body = order_request("cardiac", med_order_dstu2(CARFILZOMIB, patient="mm-cardiac"), hook="order-select",
                         typed=False)
    out = cards(client, SELECT, body)
    assert [c["indicator"] for c in out if c["source"]["topic"]["code"] == "safety"] == ["warning"]
    # no resource id in the text; the warning offers to remove the draft (CDS Hooks 2.0 delete)
    assert "MedicationOrder/order-123" not in out[0]["detail"]
    deletes = [a for s in out[0]["suggestions"] for a in s["actions"] if a["type"] == "delete"]
    assert deletes and deletes[0]["resourceId"] == "MedicationOrder/order-123"


@pytest.mark.parametrize("rid", [":", "a/b", "x" * 65, ""])
def test_a_draft_order_id_that_is_not_a_fhir_id_gets_the_warning_but_no_delete(client, rid):
    out = cards(client, SIGN, order_request("cardiac", med_request(CARFILZOMIB, rid=rid, patient="mm-cardiac")))
    warned = [c for c in out if c["indicator"] == "warning"]
    assert warned  # cards() checks the response against the CDS Hooks schema
    assert not [a for c in out for s in c.get("suggestions") or [] for a in s["actions"] if a["type"] == "delete"]


def test_r4_medication_request_in_untyped_bundle_on_order_select(client):
    body = order_request("cardiac", med_request(CARFILZOMIB, patient="mm-cardiac"), hook="order-select", typed=False)
    assert about(cards(client, SELECT, body), "heart failure")


def test_order_select_checks_only_the_selected_orders(client):
    statin = med_request({"coding": [{"system": RXNORM, "code": "83367", "display": "atorvastatin"}]}, rid="statin")
    carf = med_request(CARFILZOMIB, rid="carf", patient="mm-cardiac")
    body = order_request("cardiac", statin, carf, hook="order-select", selections=["MedicationRequest/statin"])
    assert cards(client, SELECT, body) == []
    body = order_request("cardiac", statin, carf, hook="order-select", selections=["MedicationRequest/carf"])
    assert about(cards(client, SELECT, body), "heart failure")


def test_non_myeloma_drug_gives_no_cards_and_needs_no_patient_data(client):
    statin = med_request({"coding": [{"system": RXNORM, "code": "83367", "display": "atorvastatin"}],
                          "text": "atorvastatin 20 mg"})
    body = order_request("cardiac", statin)
    del body["prefetch"]
    del body["fhirServer"]  # fetching would be impossible: a 412 if the service tried
    assert cards(client, SIGN, body) == []


def test_steroid_only_order_gives_no_cards_and_needs_no_patient_data(client):
    dex = med_request({"coding": [{"system": RXNORM, "code": "3264", "display": "dexamethasone"}]})
    body = order_request("cardiac", dex)
    del body["prefetch"]
    del body["fhirServer"]
    assert cards(client, SIGN, body) == []


def test_patient_without_myeloma_gets_no_cards(client):
    body = order_request("no-myeloma", med_request(CARFILZOMIB, patient="mm-no-myeloma"))
    assert cards(client, SIGN, body) == []


def test_draft_orders_that_are_not_a_bundle_are_a_400(client):
    body = order_request("cardiac", med_request(CARFILZOMIB))
    body["context"]["draftOrders"] = {"resourceType": "MedicationRequest"}
    resp = client.post(SIGN, json=body)
    assert resp.status_code == 400
    assert_operation_outcome(resp.get_json())


# --- refractoriness ----------------------------------------------------------------------------------

def _assessment(patient: str) -> dict:
    from cds_service.hooks.pipeline import assess_resources
    from fhir_mappings import resources_from_hook_request

    body = load(f"hooks/patient-view-{patient}.json")
    return assess_resources(resources_from_hook_request(body), patient_id=body["context"]["patientId"], as_of=AS_OF)


@pytest.mark.parametrize("hook,url", [("order-sign", SIGN), ("order-select", SELECT)])
def test_lenalidomide_ordered_for_disease_progressing_on_it_warns_with_alternative_and_delete(client, hook, url):
    a = _assessment("len-refractory")
    assert a["drugs"]["lenalidomide"]["activeAtRelapse"] is True
    order = med_request({"text": "Revlimid 10 mg"}, rid="len-1", patient="mm-len-refractory")
    out = about(cards(client, url, order_request("len-refractory", order, hook=hook)), "progressed while on lenalidomide")
    assert len(out) == 1
    card = out[0]
    assert card["indicator"] == "warning" and card["source"]["topic"]["code"] == "treatment-options"
    alternative = a["regimens"][0]["code"]
    assert "lenalidomide" not in a["regimens"][0]["drugs"]
    assert f"consider {alternative}" in card["summary"]
    assert f"Alternative from the same rules: {alternative}" in card["detail"]
    # replace (delete + create drafts of the alternative) or remove; no resource id in the text
    deletes = [act for sug in card["suggestions"] for act in sug["actions"] if act["type"] == "delete"]
    assert deletes and all(d == {"type": "delete", "description": "Remove the draft lenalidomide order",
                                 "resourceId": "MedicationRequest/len-1"} for d in deletes)
    assert card["suggestions"][-1]["label"] == "Remove the draft lenalidomide order"
    assert "MedicationRequest/len-1" not in card["detail"]


def test_a_drug_the_disease_progressed_on_gets_one_card_not_also_its_baseline_tests(client):
    """The lenalidomide order for disease progressing on it: the one warning (with the
    alternative) and no second card drafting PT/aPTT for a drug that should not be given."""
    order = med_request({"text": "Revlimid 10 mg"}, rid="len-1", patient="mm-len-refractory")
    out = cards(client, SIGN, order_request("len-refractory", order))
    assert [c["source"]["topic"]["code"] for c in out] == ["treatment-options"]


def test_a_comorbidity_warning_keeps_the_baseline_tests_card(client):
    """Carfilzomib in heart failure may still be given with care: the echocardiogram card stays."""
    out = cards(client, SIGN, load("hooks/order-sign-carfilzomib-cardiac.json"))
    assert {c["source"]["topic"]["code"] for c in out} == {"safety", "investigations"}


def test_pomalidomide_for_lenalidomide_refractory_disease_gets_no_treatment_warning(client):
    """Pomalidomide-based options are next-generation IMiD retreatment (section 7): offered, so no warning."""
    pom = med_request({"coding": [{"system": RXNORM, "code": "1369713", "display": "pomalidomide"}]},
                      patient="mm-len-refractory")
    out = [c for c in cards(client, SIGN, order_request("len-refractory", pom))
           if c["source"]["topic"]["code"] == "treatment-options"]
    assert not out


REGIMEN_DRUG_NAMES = sorted({d for r in __import__("myeloma_model.guidance.regimens", fromlist=["REGIMENS"]).REGIMENS.values()
                             for d in r.drugs if d != "dexamethasone"})


@pytest.mark.parametrize("hook,url", [("order-sign", SIGN), ("order-select", SELECT)])
@pytest.mark.parametrize("patient", ["vignette", "len-refractory", "triple-class", "cardiac"])
def test_order_hooks_and_patient_view_agree_on_every_regimen_drug(client, patient, hook, url):
    """Section 7.3: the order hooks apply the same filters as patient-view, drug by drug."""
    a = _assessment(patient)
    assert a["regimens"], "a treat-now patient"
    for name in REGIMEN_DRUG_NAMES:
        order = med_request({"text": name.replace("-", " ")}, rid=f"o-{name}", patient=a["patientId"])
        out = cards(client, url, order_request(patient, order, hook=hook))
        refused = [c for c in out if c["source"]["topic"]["code"] == "treatment-options"
                   and "retreatment may be considered" not in c["summary"]]
        offered = any(name in r["drugs"] for r in a["regimens"])
        assert bool(refused) is (not offered), (patient, name, [c["summary"] for c in refused])


def test_refractory_drug_card_follows_the_retreatment_signal(client):
    from cds_service.hooks.pipeline import assess_resources
    from fhir_mappings import resources_from_hook_request

    body = order_request("triple-class", med_request({"text": "Revlimid 25 mg"}, patient="mm-triple-class"))
    a = assess_resources(resources_from_hook_request(body), patient_id="mm-triple-class", as_of=AS_OF)
    info = a["drugs"]["lenalidomide"]
    assert info["refractory"]
    out = about(cards(client, SIGN, body), "refractory to lenalidomide")
    assert out and out[0]["indicator"] == ("info" if info["retreatmentSignal"] else "warning")


def test_drug_without_refractoriness_gets_no_refractory_card(client):
    dara = med_request({"coding": [{"system": RXNORM, "code": "1721947", "display": "daratumumab"}]},
                       patient="mm-vignette")
    out = cards(client, SIGN, order_request("vignette", dara))
    assert not about(out, "refractory")


# --- Table 1 prerequisites ------------------------------------------------------------------------

def test_anti_cd38_order_without_blood_group_suggests_draft_service_requests(client):
    dara = med_request({"coding": [{"system": RXNORM, "code": "1721947", "display": "daratumumab"}]},
                       patient="mm-vignette")
    out = [c for c in cards(client, SIGN, order_request("vignette", dara))
           if c["source"]["topic"]["code"] == "investigations"]
    assert len(out) == 1 and out[0]["indicator"] == "warning" and out[0]["selectionBehavior"] == "at-most-one"
    order_set = out[0]["suggestions"][0]  # one order set: a draft ServiceRequest per coded test
    assert "daratumumab" in order_set["label"]
    assert "882-1" in {a["resource"]["code"]["coding"][0]["code"] for a in order_set["actions"]}  # ABO and Rh
    for action in order_set["actions"]:
        res = action["resource"]
        ServiceRequest.model_validate(res)
        assert res["status"] == "draft" and res["intent"] == "proposal"
        assert res["subject"] == {"reference": "Patient/mm-vignette"}


def test_medication_reference_to_a_medication_in_draft_orders_is_recognised(client):
    med = {"resourceType": "Medication", "id": "kyp", "code": CARFILZOMIB}
    order = med_request(CARFILZOMIB, patient="mm-cardiac")
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "Medication/kyp"}
    body = order_request("cardiac", order, med)
    assert about(cards(client, SIGN, body), "heart failure")


# --- garbage in draftOrders: a 4xx or cards, never a 5xx --------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                     lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
                     max_leaves=8)
_concept = st.fixed_dictionaries({}, optional={
    "coding": st.lists(st.fixed_dictionaries({}, optional={
        "system": st.sampled_from([RXNORM, "http://www.whocc.no/atc", ""]) | _json,
        "code": st.sampled_from(["1302966", "L01XG02", "342369", "x"]) | _json,
        "display": st.sampled_from(["carfilzomib", "Revlimid", ""]) | _json}), max_size=2) | _json,
    "text": st.sampled_from(["Kyprolis", "velcade 1.3 mg/m2", "paracetamol"]) | _json})
_order = st.fixed_dictionaries({"resourceType": st.sampled_from(["MedicationRequest", "MedicationOrder"])}, optional={
    "id": st.text(max_size=5) | _json, "medicationCodeableConcept": _concept | _json,
    "medicationReference": _json, "status": st.sampled_from(["draft", "active"]) | _json})
_draft = st.fixed_dictionaries({"resourceType": st.just("Bundle")}, optional={
    "type": st.sampled_from(["collection", "batch"]) | _json,
    "entry": st.lists(st.fixed_dictionaries({}, optional={"resource": _order | _json}), max_size=3) | _json})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(draft=_draft | _json, hook=st.sampled_from(["order-sign", "order-select"]))
def test_generated_draft_orders_never_give_5xx(client, draft, hook):
    body = order_request("cardiac", med_request(CARFILZOMIB, patient="mm-cardiac"), hook=hook)
    body["context"]["draftOrders"] = draft
    resp = client.post(SELECT if hook == "order-select" else SIGN, json=body)
    assert resp.status_code < 500, resp.get_json()
    if resp.status_code == 200:
        assert_cds_response(resp.get_json())
    else:
        assert_operation_outcome(resp.get_json())


def test_non_string_coding_system_in_a_draft_order_is_a_400(client):
    bad = med_request({"coding": [{"system": [None], "code": "1302966"}]}, patient="mm-cardiac")
    resp = client.post(SIGN, json=order_request("cardiac", bad))
    assert resp.status_code == 400
    assert_operation_outcome(resp.get_json(), expression="context.draftOrders")
