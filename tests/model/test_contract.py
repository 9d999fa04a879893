"""The typed assessment (myeloma_model/contract.py) and its one JSON serialiser.

`assess()` is `to_json(evaluate())`; reading the JSON back with `from_json` and serialising it
again gives the same bytes for every demo patient and for the builders' patients, so every field,
its order, and the additions left out when absent survive the typed form."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from fhir_mappings import build_patient_record, resources_from_bundle
from myeloma_model import assess, evaluate
from myeloma_model.contract import Assessment, DrugEntry, from_json, to_json
from tests.model.builders import day, record
from tests.model.test_assessment_contract import full_patient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AS_OF = date.fromisoformat(json.loads((EXAMPLES / "expected.json").read_text())["asOf"])
DEMOS = sorted(p.stem for p in (EXAMPLES / "patients").glob("*.json"))


def demo_record(name: str):
    bundle = json.loads((EXAMPLES / "patients" / f"{name}.json").read_text())
    return build_patient_record(resources_from_bundle(bundle), patient_id=None, as_of=AS_OF)


def same_bytes(a: dict, b: dict) -> bool:
    return json.dumps(a) == json.dumps(b)


def test_every_demo_patient_is_listed():
    assert {"vignette", "no-myeloma", "triple-class"} <= set(DEMOS)


@pytest.mark.parametrize("name", DEMOS)
def test_demo_patient_round_trips_byte_for_byte(name):
    rec = demo_record(name)
    typed = evaluate(rec, AS_OF)
    out = to_json(typed)
    assert same_bytes(out, assess(demo_record(name), AS_OF))
    assert same_bytes(to_json(from_json(json.loads(json.dumps(out)))), out)


@pytest.mark.parametrize("n", [130, 1000, 1430, 1500])
def test_builder_patient_round_trips_byte_for_byte(n):
    out = assess(full_patient(), day(n))
    assert same_bytes(to_json(evaluate(full_patient(), day(n))), out)
    assert same_bytes(to_json(from_json(out)), out)


def test_out_of_scope_round_trips_without_additions():
    out = assess(record(in_scope=False), day(10))
    assert "details" not in out and "guidance" not in out and "crabValues" not in out["relapse"]
    assert same_bytes(to_json(from_json(out)), out)


def test_typed_assessment_holds_dates_as_dates():
    a = evaluate(full_patient(), day(1500))
    assert isinstance(a, Assessment) and a.in_scope
    assert a.as_of == day(1500)
    assert isinstance(a.relapse.date, date) and a.relapse.status == "biochemical"
    len_entry = a.drugs["lenalidomide"]
    assert isinstance(len_entry, DrugEntry) and isinstance(len_entry.last_dose, date)
    assert all(isinstance(ln.start, date) for ln in a.lines)
    assert to_json(a)["drugs"]["lenalidomide"]["class"] == "IMiD"
    assert to_json(a)["relapse"]["date"] == a.relapse.date.isoformat()


def test_guidance_is_typed_from_evaluate_to_the_edge():
    """advise() hands evaluate typed values: no dict or date string between the model and to_json."""
    from myeloma_model.contract import Guidance, MissingInvestigation, Reason, RegimenOption, TestStatus

    a = evaluate(full_patient(), day(1500))
    g = a.guidance
    assert isinstance(g, Guidance) and a.timing == g.timing.value == "treat-now"
    assert a.strategy == g.strategy.value != "none"
    assert g.strategy.reasons and all(isinstance(r, Reason) for r in g.strategy.reasons)
    assert a.regimens and all(isinstance(r, RegimenOption) for r in a.regimens)
    assert all(isinstance(i, MissingInvestigation) for i in g.investigations)
    assert all(isinstance(s, TestStatus) and (s.last_done is None or isinstance(s.last_done, date))
               for s in g.investigation_status.values())
    assert tuple(i.code for i in g.investigations) == a.missing_investigations
    out = to_json(a)
    assert "value" not in out["guidance"]["timing"] and "assumptions" not in out["guidance"]["strategy"]
    assert out["guidance"]["strategy"]["reasons"][0] == {"code": g.strategy.reasons[0].code,
                                                          **dict(g.strategy.reasons[0].values)}


@pytest.mark.parametrize("name", DEMOS)
def test_demo_guidance_reads_back_typed(name):
    """from_json gives the same typed guidance evaluate built (the timing and strategy values
    come from the top level)."""
    typed = evaluate(demo_record(name), AS_OF)
    back = from_json(to_json(typed))
    if typed.guidance is None:
        assert back.guidance is None
        return
    assert back.guidance.strategy.reasons == tuple(
        type(r)(r.code, tuple((k, tuple(v) if isinstance(v, (list, tuple)) else v) for k, v in r.values))
        for r in typed.guidance.strategy.reasons)
    assert back.guidance.investigations == typed.guidance.investigations
    assert back.guidance.investigation_status == typed.guidance.investigation_status
    assert back.guidance.safety == typed.guidance.safety
    assert back.timing == typed.timing and back.guidance.strategy.value == typed.strategy
