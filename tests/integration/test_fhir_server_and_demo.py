"""The demo patients on the real FHIR server (sekmet-fhir): loaded by transaction, searchable
by patient and code, paged, reloadable, and loadable with `myeloma-cds load-demo`."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from cds_service.demo import DemoLoadError, load_demo
from tests.integration.fhir_server import (
    demo_bundle_paths, free_port, post_transaction, search_all, start_fhir_server, stop_fhir_server,
)

pytestmark = pytest.mark.integration

DEMO = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in demo_bundle_paths()}
LOINC_SPEP = "http://loinc.org|33358-3"


def bundle_resources(name: str, resource_type: str | None = None) -> list[dict]:
    return [e["resource"] for e in DEMO[name]["entry"]
            if resource_type is None or e["resource"]["resourceType"] == resource_type]


def patient_id(name: str) -> str:
    return bundle_resources(name, "Patient")[0]["id"]


def test_every_demo_patient_is_on_the_server(fhir_server_instance):
    session = fhir_server_instance.session()
    for name in DEMO:
        resp = session.get(f"{fhir_server_instance.base_url}/Patient/{patient_id(name)}", timeout=10)
        assert resp.status_code == 200, name
        assert resp.json()["birthDate"] == bundle_resources(name, "Patient")[0]["birthDate"]


@pytest.mark.parametrize("resource_type", ["Observation", "Condition", "MedicationStatement",
                                           "MedicationRequest", "MedicationAdministration"])
def test_search_by_patient_returns_exactly_the_bundle(fhir_server_instance, resource_type):
    pid = patient_id("triple-class")
    found = search_all(fhir_server_instance, resource_type, {"patient": pid, "_count": "1000"})
    assert sorted(r["id"] for r in found) == sorted(r["id"] for r in bundle_resources("triple-class", resource_type))


def test_code_search_with_system_and_small_pages_follows_offset_links(fhir_server_instance):
    pid = patient_id("vignette")
    expected = sorted(r["id"] for r in bundle_resources("vignette", "Observation")
                      if r["code"]["coding"][0]["code"] == "33358-3")
    first = fhir_server_instance.session().get(
        f"{fhir_server_instance.base_url}/Observation",
        params={"patient": f"Patient/{pid}", "code": LOINC_SPEP, "_count": "3"}, timeout=10).json()
    assert first["total"] == len(expected) and len(first["entry"]) == 3
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    assert "_offset=3" in next_url and "_count=3" in next_url
    paged = search_all(fhir_server_instance, "Observation", {"patient": pid, "code": LOINC_SPEP, "_count": "3"})
    assert sorted(r["id"] for r in paged) == expected


def test_reloading_a_demo_bundle_updates_instead_of_duplicating(fhir_server_instance):
    response = post_transaction(fhir_server_instance, DEMO["vignette"])
    assert {e["response"]["status"] for e in response["entry"]} == {"200 OK"}
    found = search_all(fhir_server_instance, "Observation", {"patient": patient_id("vignette"), "_count": "1000"})
    assert len(found) == len(bundle_resources("vignette", "Observation"))


def test_load_demo_posts_every_bundle_and_reports_what_it_loaded(fhir_server_instance):
    refs = load_demo(fhir_server_instance.base_url, session=fhir_server_instance.session())
    expected = [f"{e['resource']['resourceType']}/{e['resource']['id']}" for b in DEMO.values() for e in b["entry"]]
    assert sorted(refs) == sorted(expected)
    assert f"Patient/{patient_id('vignette')}" in refs


def test_load_demo_cli_loads_the_patients(fhir_server_instance):
    script = Path(sys.executable).with_name("myeloma-cds")
    proc = subprocess.run([str(script), "load-demo", "--fhir-server", fhir_server_instance.base_url],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Patient/mm-vignette" in json.loads(proc.stdout)
    patients = search_all(fhir_server_instance, "Patient", {"_id": ",".join(patient_id(n) for n in DEMO)})
    assert len(patients) == len(DEMO)


def test_load_demo_names_the_failure_when_the_server_is_unreachable():
    with pytest.raises(DemoLoadError, match="cannot reach FHIR server"):
        load_demo(f"http://127.0.0.1:{free_port()}/fhir")


def test_load_demo_cli_reports_an_unreachable_server_without_a_traceback():
    script = Path(sys.executable).with_name("myeloma-cds")
    proc = subprocess.run([str(script), "load-demo", "--fhir-server", f"http://127.0.0.1:{free_port()}/fhir"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3
    assert "cannot reach FHIR server" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bearer_token_server_demands_the_token():
    server = start_fhir_server(tokens=["integration-test-token"])
    try:
        url = f"{server.base_url}/Patient"
        assert requests.get(url, timeout=10).status_code == 401
        assert server.session().get(url, timeout=10).status_code == 200
        refs = load_demo(server.base_url, session=server.session())
        assert "Patient/mm-vignette" in refs
    finally:
        stop_fhir_server(server)
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)


def test_server_understands_every_search_parameter_of_the_prefetch_templates(fhir_server_instance):
    """sekmet ignores unknown parameters unless asked to be strict; an ignored `patient` or
    `code` filter would silently widen the fetch, so ask strictly."""
    from cds_service.fhir.prefetch import Template
    from cds_service.hooks.services import patient_data_prefetch

    session = fhir_server_instance.session()
    for key, text in patient_data_prefetch().items():
        relative = Template.parse(key, text).render({"patientId": "mm-vignette"})
        resp = session.get(f"{fhir_server_instance.base_url}/{relative}", headers={"Prefer": "handling=strict"},
                           timeout=10)
        assert resp.status_code == 200, (key, resp.text[:500])
        body = resp.json()
        if body["resourceType"] == "Bundle":
            assert body["entry"], key
            assert all(e["resource"]["subject"]["reference"] == "Patient/mm-vignette" for e in body["entry"]), key


def test_load_demo_names_the_bundle_the_server_rejected(fhir_server_instance, tmp_path, monkeypatch):
    bad = {"resourceType": "Bundle", "type": "transaction", "entry": [{
        "fullUrl": "urn:uuid:0b7e8a52-2f6e-4f57-9a0e-5b1b2c3d4e5f",
        "resource": {"resourceType": "Observation", "id": "bad-1", "status": "not-a-status"},
        "request": {"method": "PUT", "url": "Observation/bad-1"}}]}
    (tmp_path / "patients").mkdir()
    (tmp_path / "patients" / "broken.json").write_text(json.dumps(bad))
    monkeypatch.setenv("MYELOMA_CDS_EXAMPLES", str(tmp_path))
    with pytest.raises(DemoLoadError, match=r"broken\.json: FHIR server answered HTTP 400"):
        load_demo(fhir_server_instance.base_url)
