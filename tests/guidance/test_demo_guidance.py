"""Done-when checks of the guidance issue on the demo patients (examples/), end to end:
FHIR Bundle -> fhir_mappings -> model -> guidance, and the patient-view hook's cards."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from cds_service.cards.contract_words import assessment_json
from cds_service.hooks import pipeline
from fhir_mappings import build_patient_record, resources_from_bundle
from myeloma_model import evaluate
from tests.schema_assert import assert_cds_response

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXPECTED = json.loads((EXAMPLES / "expected.json").read_text())
AS_OF = date.fromisoformat(EXPECTED["asOf"])


def assessment_of(name: str) -> dict:
    bundle = json.loads((EXAMPLES / "patients" / f"{name}.json").read_text())
    resources = resources_from_bundle(bundle)
    pid = next(r["id"] for r in resources if r["resourceType"] == "Patient")
    return assessment_json(evaluate(build_patient_record(resources, patient_id=pid, as_of=AS_OF), AS_OF))


def codes(a):
    return [r["code"] for r in a["regimens"]]


def test_vignette_treat_now_retreat_with_drd_krd_ird():
    a = assessment_of("vignette")
    assert a["timing"] == "treat-now"
    assert a["strategy"] == "retreat-same-class"
    assert {"DRd", "KRd", "IRd"} <= set(codes(a))
    assert all(r["warning"] is None for r in a["regimens"] if r["code"] in ("DRd", "KRd", "IRd"))


def test_len_refractory_switches_class_with_pi_anti_cd38_triplets_first():
    a = assessment_of("len-refractory")
    assert a["strategy"] == "switch-class"
    assert codes(a)[0] in ("DVd", "DKd", "IsaKd")
    for r in a["regimens"]:
        if "lenalidomide" in r["drugs"]:
            assert r["warning"] and "lenalidomide" in r["warning"], r["code"]


def test_triple_class_is_novel_mechanism():
    a = assessment_of("triple-class")
    assert a["strategy"] == "novel-mechanism"
    assert codes(a)[0] in ("cilta-cel", "ide-cel", "teclistamab", "elranatamab", "linvoseltamab", "talquetamab")
    for r in a["regimens"]:
        refractory = [d for d in r["drugs"] if a["drugs"].get(d, {}).get("refractory")]
        if refractory:
            assert r["warning"]


def test_cardiac_patient_carfilzomib_regimens_carry_the_cardiac_caution_and_come_last():
    a = assessment_of("cardiac")
    carf = [r for r in a["regimens"] if "carfilzomib" in r["drugs"]]
    assert carf and all("carfilzomib-cardiac" in r["cautions"] and r["warning"] for r in carf)
    assert codes(a)[0] == "DVd"


def test_stable_remission_gets_no_treatment_advice():
    a = assessment_of("stable-remission")
    assert a["timing"] == "none" and a["strategy"] == "none" and a["regimens"] == []


@pytest.mark.parametrize("name", sorted(EXPECTED["patients"]))
def test_patient_view_cards_validate_and_have_topics(client, monkeypatch, name):
    monkeypatch.setattr(pipeline, "today", lambda: AS_OF)
    body = json.loads((EXAMPLES / "hooks" / f"patient-view-{name}.json").read_text())
    resp = client.post("/cds-services/myeloma-relapse", json=body)
    assert resp.status_code == 200
    out = resp.get_json()
    assert_cds_response(out)
    topics = [c["source"]["topic"]["code"] for c in out["cards"]]
    assert all(topics)
    expected = EXPECTED["patients"][name]
    if expected.get("timing") == "treat-now":
        assert topics[:2] == ["relapse-treatment", "investigations"]
    if not expected["inScope"]:
        assert out["cards"] == []
