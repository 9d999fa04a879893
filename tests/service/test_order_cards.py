"""Order-hook cards: a warning on a draft order offers to remove it (CDS Hooks 2.0 `delete`
with `resourceId`) and to replace it with the first ranked alternative (`delete` + `create`
draft MedicationRequests coded with RxNorm ingredients); no resource id in the text."""
from __future__ import annotations

from myeloma_model.contract import from_json
from cds_service.cards.orders import render_order_findings
from myeloma_model.guidance.orders import Finding, RefractoryValues
from tests.guidance.helpers import drug, len_refractory
from tests.schema_assert import assert_cds_response

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def test_refractory_warning_offers_replace_and_remove():
    a = len_refractory()
    a["regimens"] = [{"code": "DRd", "drugs": ["daratumumab", "lenalidomide", "dexamethasone"]},
                     {"code": "DVd", "drugs": ["daratumumab", "bortezomib", "dexamethasone"]}]
    finding = Finding("refractory", "warning", "lenalidomide", RefractoryValues(active_at_relapse=False), [],
                      alternative="DVd")
    (card,) = render_order_findings([(finding, "MedicationRequest/abc")], patient_id="p1", assessment=from_json(a))
    assert_cds_response({"cards": [card]})
    assert card["summary"] == "Refractory to lenalidomide: retreatment is unlikely to work; consider DVd"
    assert "MedicationRequest/abc" not in card["detail"] and "Alternative from the same rules: DVd" in card["detail"]
    replace, remove = card["suggestions"]
    assert replace["label"].startswith("Replace with DVd")
    assert replace["actions"][0] == {"type": "delete", "description": "Remove the draft lenalidomide order",
                                     "resourceId": "MedicationRequest/abc"}
    created = [act["resource"] for act in replace["actions"][1:]]
    assert [r["medicationCodeableConcept"]["coding"][0]["code"] for r in created] == ["1721947", "358258", "3264"]
    assert all(r["status"] == "draft" and r["intent"] == "proposal" for r in created)
    assert all(r["medicationCodeableConcept"]["coding"][0]["system"] == RXNORM for r in created)
    assert remove["actions"] == [replace["actions"][0]]


def test_info_finding_and_an_order_without_id_offer_no_order_change():
    a = len_refractory()
    a["drugs"].update(dict([drug("bortezomib", refractory=True)]))
    info = Finding("refractory", "info", "bortezomib", RefractoryValues(), [])
    warning = Finding("refractory", "warning", "bortezomib", RefractoryValues(), [], alternative="DRd")
    cards = render_order_findings([(info, "MedicationRequest/x"), (warning, None)], patient_id="p1", assessment=from_json(a))
    assert all("suggestions" not in c for c in cards)


def test_no_replacement_when_the_alternative_has_a_drug_without_a_verified_code():
    a = len_refractory()
    a["regimens"] = [{"code": "teclistamab", "drugs": ["teclistamab"]}]
    finding = Finding("refractory", "warning", "lenalidomide", RefractoryValues(), [], alternative="teclistamab")
    (card,) = render_order_findings([(finding, "MedicationRequest/abc")], patient_id="p1", assessment=from_json(a))
    assert [s["label"] for s in card["suggestions"]] == ["Remove the draft lenalidomide order"]
