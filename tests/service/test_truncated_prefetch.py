"""A truncated prefetch is never judged (issue 13).

The CDS Hooks sandbox sends only the first page of a prefetch search. A patient with 2,500
Observations is in biochemical relapse when all of them are read; from the first 1,000 alone
the relapse status is unknown. The service must either read the rest or refuse (412 naming the
key), never answer from the first page.
"""
from __future__ import annotations

import json
import tempfile

import pytest

from benchmarks.synthetic import heavy_patient, searchset
from cds_service import create_app
from cds_service.config import Config
from cds_service.hooks.services import patient_data_prefetch
from tests.faults.fake_fhir import FakeFhirServer, Reply

PID = "p2500"
AS_OF = "2026-11-20"
RESOURCES = heavy_patient(2500, patient_id=PID)
OBSERVATIONS = [r for r in RESOURCES if r["resourceType"] == "Observation"]
BY_TYPE = {t: [r for r in RESOURCES if r["resourceType"] == t]
           for t in {r["resourceType"] for r in RESOURCES}}
FOREIGN_NEXT = "https://sandbox-fhir.example.org/r4?_getpages=abc&_getpagesoffset=1000&_count=1000"


@pytest.fixture(scope="module")
def client():
    db = tempfile.mkdtemp(prefix="myeloma-cds-truncated-")
    app = create_app(Config(auth="off", database_url=f"sqlite:///{db}/t.sqlite"))
    app.config.update(TESTING=True)
    return app.test_client()


def hook_body(observations_bundle: dict, fhir_server: str | None = None) -> dict:
    prefetch = {}
    for key, template in patient_data_prefetch().items():
        rtype = template.split("?")[0].split("/")[0]
        if key == "observations":
            prefetch[key] = observations_bundle
        elif "/" in template.split("?")[0]:
            prefetch[key] = BY_TYPE["Patient"][0]
        else:
            prefetch[key] = searchset(BY_TYPE.get(rtype, []))
    body = {"hook": "patient-view", "hookInstance": "h-2500",
            "context": {"userId": "Practitioner/u", "patientId": PID}, "prefetch": prefetch}
    if fhir_server:
        body["fhirServer"] = fhir_server
    return body


def first_page() -> dict:
    bundle = searchset(OBSERVATIONS[:1000])
    bundle["total"] = len(OBSERVATIONS)
    bundle["link"] = [{"relation": "next", "url": FOREIGN_NEXT}]
    return bundle


def relapse_status(client, body) -> str:
    resp = client.post(f"/assessment?asOf={AS_OF}", json=body)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["relapse"]["status"]


def test_whole_record_is_a_biochemical_relapse_and_the_first_page_alone_is_not(client):
    assert relapse_status(client, hook_body(searchset(OBSERVATIONS))) == "biochemical"
    # what the service would say if it judged the first page (a Bundle without next link)
    assert relapse_status(client, hook_body(searchset(OBSERVATIONS[:1000]))) == "unknown"


@pytest.mark.parametrize("path", ["/cds-services/myeloma-relapse", f"/assessment?asOf={AS_OF}"])
def test_first_page_with_an_unfollowable_next_link_and_no_fhir_server_is_a_412(client, path):
    resp = client.post(path, json=hook_body(first_page()))
    assert resp.status_code == 412
    [issue] = resp.get_json()["issue"]
    assert issue["expression"] == ["prefetch.observations"]
    assert "only the first page" in issue["diagnostics"] and "no fhirServer" in issue["diagnostics"]


def test_first_page_with_a_foreign_next_link_is_read_whole_from_the_fhir_server(client):
    def respond(path: str) -> Reply:
        if path.split("?")[0].endswith("/Observation"):
            return Reply.json(searchset(OBSERVATIONS))
        return Reply.json({"resourceType": "Bundle", "type": "searchset", "entry": []})

    with FakeFhirServer(respond) as fhir:
        status = relapse_status(client, hook_body(first_page(), fhir_server=fhir.base_url))
        assert [s.path.split("?")[0] for s in fhir.seen] == ["/fhir/Observation"]
        assert all("sandbox-fhir" not in s.path for s in fhir.seen)
    assert status == "biochemical"
    hook = client.post("/cds-services/myeloma-relapse", json=hook_body(first_page(), fhir_server=None))
    assert hook.status_code == 412
    assert json.dumps(hook.get_json()).count("only the first page") == 1
