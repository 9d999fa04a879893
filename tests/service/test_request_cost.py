"""Costs on the hook's hot path that the benchmark (benchmarks/, README "Performance") found
and that must not come back: the body parsed more than once, schema validation formatting
huge prefetch values, and the cyclic GC scanning the request's JSON tree."""
from __future__ import annotations

import gc
import json
import sys
import threading

import pytest

from cds_service.hooks import patient_view
from cds_service.http import safe_json
from cds_service.http.errors import CdsError
from cds_service.http.gc_pause import gc_paused
from cds_service.http.validation import validate_hook_request

URL = "/cds-services/myeloma-relapse"
PID = "cost-1"


def hook_body(n_observations: int = 300) -> dict:
    obs = [{
        "resourceType": "Observation", "id": f"o{i}", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "33358-3"}]},
        "subject": {"reference": f"Patient/{PID}"}, "effectiveDateTime": f"2024-01-{1 + i % 28:02d}",
        "valueQuantity": {"value": 1.0, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL"},
    } for i in range(n_observations)]
    return {
        "hook": "patient-view", "hookInstance": "5b4c9b8e-cost-4f3a-9d2e-000000000001",
        "context": {"patientId": PID, "userId": "Practitioner/p1"},
        "prefetch": {
            "patient": {"resourceType": "Patient", "id": PID, "birthDate": "1950-01-01"},
            "conditions": {"resourceType": "Bundle", "type": "searchset", "entry": []},
            "observations": {"resourceType": "Bundle", "type": "searchset",
                             "entry": [{"resource": o} for o in obs]},
        },
    }


def test_hook_request_body_is_parsed_once(client, monkeypatch):
    raw = json.dumps(hook_body()).encode()
    real_loads = json.loads
    big_parses = []

    def counting_loads(s, *args, **kwargs):
        caller = sys._getframe(1).f_code.co_filename
        if len(s) >= len(raw) and not caller.endswith("log_secrets.py"):  # the suite's log check
            big_parses.append(caller)
        return real_loads(s, *args, **kwargs)

    real_decode = safe_json._DECODE

    def counting_decode(b):
        if len(b) >= len(raw):
            big_parses.append("safe_json (msgspec)")
        return real_decode(b)

    monkeypatch.setattr(json, "loads", counting_loads)
    monkeypatch.setattr(safe_json, "_DECODE", counting_decode)  # the parser of every client body
    resp = client.post(URL, data=raw, content_type="application/json")
    assert resp.status_code == 200, resp.get_json()
    assert len(big_parses) == 1, big_parses  # the request log reuses the endpoint's parse


class NoRepr(dict):
    """A prefetch value that fails the test if anything formats it (a 10 MB Bundle's repr
    cost 250 ms per request when a failing oneOf branch built its error message)."""

    def __repr__(self):
        raise AssertionError("validation formatted a valid prefetch value")


def test_schema_validation_never_formats_valid_prefetch_values():
    body = hook_body(5)
    body["prefetch"] = {k: NoRepr(v) for k, v in body["prefetch"].items()}
    body["prefetch"]["medicationRequests"] = None
    validate_hook_request(body)  # no AssertionError, no CdsError


@pytest.mark.parametrize("bad", ["a string", 3, [], {"id": "no-resource-type"}])
def test_schema_still_rejects_a_prefetch_value_that_is_neither_resource_nor_null(bad):
    body = hook_body(1)
    body["prefetch"]["observations"] = bad
    with pytest.raises(CdsError) as err:
        validate_hook_request(body)
    assert err.value.status == 400
    assert any("prefetch.observations" in (i.expression or "") for i in err.value.issues)


def test_gc_is_paused_while_the_hook_runs_and_resumed_after(client, monkeypatch):
    seen = []
    real = patient_view.handle_patient_view

    def spy(call):
        seen.append(gc.isenabled())
        return real(call)

    monkeypatch.setattr(patient_view, "handle_patient_view", spy)
    assert gc.isenabled()
    resp = client.post(URL, json=hook_body(10))
    assert resp.status_code == 200, resp.get_json()
    assert seen == [False]
    assert gc.isenabled()


def test_gc_is_resumed_after_a_rejected_request(client):
    assert gc.isenabled()
    resp = client.post(URL, data=b"{not json", content_type="application/json")
    assert resp.status_code == 400
    assert gc.isenabled()


def test_overlapping_pauses_resume_gc_only_when_the_last_one_ends():
    first_in, second_in, release_first, release_second = (threading.Event() for _ in range(4))
    states = {}

    def first():
        with gc_paused():
            first_in.set()
            release_first.wait(5)
        states["after_first"] = gc.isenabled()
        release_second.set()

    def second():
        first_in.wait(5)
        with gc_paused():
            second_in.set()
            release_second.wait(5)
        states["after_second"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    second_in.wait(5)
    release_first.set()
    for t in threads:
        t.join(5)
    assert states == {"after_first": False, "after_second": True}
    assert gc.isenabled()


def test_gc_disabled_by_the_embedder_stays_disabled():
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_load_that_never_drains_still_collects_cycles_periodically(monkeypatch):
    """One request always in flight keeps the collector paused; every COLLECT_EVERY requests
    that end meanwhile run one explicit collection, so cyclic garbage cannot pile up."""
    from cds_service.http import gc_pause

    monkeypatch.setattr(gc_pause, "COLLECT_EVERY", 5)
    collections = []
    monkeypatch.setattr(gc_pause.gc, "collect", lambda *a: collections.append(a) or 0)
    with gc_paused():  # the long-running request
        for _ in range(4):
            with gc_paused():
                pass
        assert collections == []
        with gc_paused():
            pass
        assert len(collections) == 1
        assert not gc.isenabled()
    assert gc.isenabled()
