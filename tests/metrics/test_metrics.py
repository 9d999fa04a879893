"""GET /metrics (Prometheus text format): after a hook call whose observations are fetched
from a FHIR server and the rest prefetched, and a feedback post, the families an operator
needs are there with the right counts, and no patient data is in any label."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cds_service import create_app
from cds_service.config import Config
from tests.faults.fake_fhir import FakeFhirServer, Reply

REPO = Path(__file__).resolve().parents[2]
VIGNETTE = json.loads((REPO / "examples/hooks/patient-view-vignette.json").read_text())
SERVICE_PATH = "/cds-services/myeloma-relapse"
ROUTE = "/cds-services/<service_id>"


def samples(client) -> dict[tuple[str, tuple], float]:
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.content_type.startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(snapshot, name, **labels) -> float:
    return snapshot.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def observations_server():
    bundle = copy.deepcopy(VIGNETTE["prefetch"]["observations"])
    body = json.dumps(bundle).encode()
    with FakeFhirServer(lambda path: Reply(body=body)) as server:
        server.body_size = len(body)
        yield server


@pytest.fixture
def client(tmp_path):
    app = create_app(Config(auth="off", database_url=f"sqlite:///{tmp_path}/metrics.sqlite"))
    app.config.update(TESTING=True)
    return app.test_client()


def test_a_hook_call_and_feedback_show_up_in_every_family(client, observations_server):
    before = samples(client)
    body = copy.deepcopy(VIGNETTE)
    del body["prefetch"]["observations"]  # read from the FHIR server instead
    body["fhirServer"] = observations_server.base_url
    resp = client.post(SERVICE_PATH, json=body)
    assert resp.status_code == 200, resp.data
    cards = resp.get_json()["cards"]
    relapse_cards = sum(1 for c in cards if c["source"]["topic"]["code"] == "relapse-status")
    assert relapse_cards == 1
    card_uuid = cards[0]["uuid"]
    feedback = {"feedback": [{"card": card_uuid, "outcome": "accepted",
                              "acceptedSuggestions": [{"id": "s-1"}],
                              "outcomeTimestamp": "2026-11-23T10:05:31Z"}]}
    assert client.post(SERVICE_PATH + "/feedback", json=feedback).status_code == 200
    assert client.post(SERVICE_PATH + "/feedback", json=feedback).status_code == 200
    after = samples(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    hook = {"route": ROUTE, "service": "myeloma-relapse", "hook": "patient-view"}
    assert delta("cds_http_request_duration_seconds_count", **hook) == 1
    assert delta("cds_http_request_duration_seconds_bucket", **hook, le="+Inf") == 1
    assert delta("cds_http_requests_total", **hook, status="200") == 1
    assert delta("cds_prefetch_keys_total", key="observations", source="fetched") == 1
    assert delta("cds_prefetch_keys_total", key="patient", source="prefetch") == 1
    assert delta("cds_fhir_fetch_duration_seconds_count", status="2xx") == 1
    assert delta("cds_fhir_fetch_bytes_count") == 1
    assert delta("cds_fhir_fetch_bytes_sum") == observations_server.body_size
    assert delta("cds_cards_issued_total", service="myeloma-relapse", topic="relapse-status") == 1
    assert sum(delta("cds_cards_issued_total", service="myeloma-relapse", topic=c["source"]["topic"]["code"])
               for c in {c["source"]["topic"]["code"]: c for c in cards}.values()) == len(cards)
    assert delta("cds_feedback_items_total", service="myeloma-relapse", outcome="accepted",
                 stored="new") == 1
    assert delta("cds_feedback_items_total", service="myeloma-relapse", outcome="accepted",
                 stored="duplicate") == 1
    feedback_route = {"route": ROUTE + "/feedback", "service": "myeloma-relapse", "hook": ""}
    assert delta("cds_http_requests_total", **feedback_route, status="200") == 2


def test_no_patient_data_or_request_ids_in_labels(client):
    body = copy.deepcopy(VIGNETTE)
    assert client.post(SERVICE_PATH, json=body).status_code == 200
    client.post("/cds-services/mm-vignette-not-a-service", json=body)  # 404: "other" label
    text = client.get("/metrics").get_data(as_text=True)
    assert body["context"]["patientId"] not in text
    assert body["hookInstance"] not in text
    assert "COREPRACTITIONER1" not in text
    assert 'service="other"' in text


def test_unknown_hook_names_do_not_create_new_series(client):
    body = copy.deepcopy(VIGNETTE)
    body["hook"] = "made-up-hook-x1"
    assert client.post(SERVICE_PATH, json=body).status_code == 400
    assert "made-up-hook-x1" not in client.get("/metrics").get_data(as_text=True)


def test_metrics_off_removes_the_endpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("CDS_METRICS", "off")
    app = create_app(Config(auth="off", database_url=f"sqlite:///{tmp_path}/off.sqlite"))
    assert app.test_client().get("/metrics").status_code == 404
