"""One byte budget per hook call across all its FHIR reads (CDS_FHIR_MAX_CALL_BYTES, issue 13).

The per-response cap alone let a call hold eight capped bodies at once. Exceeding the budget
is a 412 for required data and a data gap for optional data, never a 500.
"""
from __future__ import annotations

import json

import pytest

from cds_service import create_app
from cds_service.config import Config
from cds_service.fhir.client import CallBudget, Deadline, FetchPolicy, FhirClient, FhirFetchError
from tests.faults.fake_fhir import FakeFhirServer, Reply
from tests.security.hook_bodies import PATIENT_ID, hook_body

MB = 1024 * 1024


def test_budget_counts_across_takes_and_refuses_past_the_limit():
    budget = CallBudget(1000)
    budget.take(600)
    budget.take(400)  # exactly the limit: allowed
    with pytest.raises(FhirFetchError) as err:
        budget.take(1)
    assert err.value.reason == "call-too-large"


def streamed(size: int):
    """A searchset streamed without Content-Length, `size` bytes of entries, valid JSON."""
    entry = json.dumps({"resource": {"resourceType": "Observation", "id": "o", "status": "final",
                                     "subject": {"reference": f"Patient/{PATIENT_ID}"}}}).encode()
    head, tail = b'{"resourceType":"Bundle","type":"searchset","entry":[', b"]}"
    n = max(1, (size - len(head) - len(tail)) // (len(entry) + 1))
    body = head + b",".join([entry] * n) + tail
    return [body[i:i + 65536] for i in range(0, len(body), 65536)]


def app_with(max_call_bytes: int, tmp_path):
    app = create_app(Config(auth="off", database_url=f"sqlite:///{tmp_path}/b.sqlite",
                            fhir_max_call_bytes=max_call_bytes, fhir_max_retries=0,
                            request_deadline_s=10, fhir_read_timeout_s=5))
    app.config.update(TESTING=True)
    return app.test_client()


def respond_with(big_paths: tuple[str, ...], size: int):
    def respond(path: str) -> Reply:
        bare = path.split("?")[0]
        if bare.endswith(f"/Patient/{PATIENT_ID}"):
            return Reply.json({"resourceType": "Patient", "id": PATIENT_ID, "birthDate": "1950-01-01"})
        if any(bare.endswith(p) for p in big_paths):
            return Reply(body=streamed(size))
        return Reply.json({"resourceType": "Bundle", "type": "searchset", "entry": []})
    return respond


def test_required_data_past_the_call_budget_is_a_412(tmp_path):
    # each Observation/Condition answer (3 MB) fits the 32 MiB response cap; together they
    # pass a 4 MiB call budget
    client = app_with(4 * MB, tmp_path)
    with FakeFhirServer(respond_with(("/Observation", "/Condition"), 3 * MB)) as fhir:
        resp = client.post("/cds-services/myeloma-relapse", json=hook_body(fhir.base_url))
    assert resp.status_code == 412
    text = json.dumps(resp.get_json())
    assert "exceed what the service reads per call" in text


def test_optional_data_past_the_call_budget_is_a_data_gap(tmp_path):
    client = app_with(4 * MB, tmp_path)
    with FakeFhirServer(respond_with(("/MedicationStatement", "/MedicationRequest"), 3 * MB)) as fhir:
        resp = client.post("/assessment?asOf=2025-06-30", json=hook_body(fhir.base_url))
    assert resp.status_code == 200
    gaps = " ".join(resp.get_json()["dataGaps"])
    assert "exceed what the service reads per call" in gaps


def test_the_same_data_within_a_larger_budget_is_read(tmp_path):
    client = app_with(16 * MB, tmp_path)
    with FakeFhirServer(respond_with(("/MedicationStatement", "/MedicationRequest"), 3 * MB)) as fhir:
        resp = client.post("/assessment?asOf=2025-06-30", json=hook_body(fhir.base_url))
    assert resp.status_code == 200
    assert "exceed" not in " ".join(resp.get_json()["dataGaps"])


def test_setting_is_read_from_the_environment():
    assert Config.from_env({"CDS_FHIR_MAX_CALL_BYTES": "1234"}).fhir_max_call_bytes == 1234
    assert Config.from_env({}).fhir_max_call_bytes == 40 * MB


def test_a_refused_answer_gives_its_bytes_back_so_later_small_reads_still_fit():
    """Bytes of an answer that was refused are dropped with it: a 5 MB answer past a 4 MiB budget
    fails, and the small answers read after it (required data) are still read."""
    with FakeFhirServer(respond_with(("/MedicationStatement",), 5 * MB)) as fhir:
        budget = CallBudget(4 * MB)
        client = FhirClient(fhir.base_url, deadline=Deadline(30), policy=FetchPolicy(max_retries=0, page_workers=1),
                            budget=budget)
        with pytest.raises(FhirFetchError) as err:
            client.search(f"MedicationStatement?patient={PATIENT_ID}")
        assert err.value.reason == "call-too-large"
        assert budget.used == 0  # what was read of the refused answer no longer counts
        assert client.search(f"Observation?patient={PATIENT_ID}") == []
