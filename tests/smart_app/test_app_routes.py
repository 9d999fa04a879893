"""HTTP surface of the SMART app blueprint: pages, settings in the page, and 400s for bad input."""
from __future__ import annotations

import json

import pytest

import cds_service.smart_app as smart_app


@pytest.fixture
def built(tmp_path, monkeypatch):
    (tmp_path / "app.js").write_text("// bundle")
    monkeypatch.setattr(smart_app, "STATIC_DIR", tmp_path)
    return tmp_path


def page_config(html: str) -> dict:
    start = html.index('<script id="smart-config" type="application/json">') + len('<script id="smart-config" type="application/json">')
    return json.loads(html[start:html.index("</script>", start)])


@pytest.mark.parametrize("path", ["/app/launch?iss=https://ehr.example/fhir&launch=x", "/app/"])
def test_pages_carry_the_smart_settings_and_a_strict_csp(client, built, monkeypatch, path):
    monkeypatch.setenv("CDS_SMART_CLIENT_ID", "client-42")
    monkeypatch.setenv("CDS_SMART_ALLOWED_ISS", "https://ehr.example/fhir/, https://other.example/r4")
    resp = client.get(path)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    conf = page_config(resp.get_data(as_text=True))
    assert conf["clientId"] == "client-42"
    assert conf["allowedIssuers"] == ["https://ehr.example/fhir", "https://other.example/r4"]
    assert "patient/Observation.rs" in conf["scope"].split() and "patient/MedicationStatement.rs" in conf["scope"].split()
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["Cache-Control"] == "no-store"


def test_unbuilt_app_says_how_to_build_it(client, tmp_path, monkeypatch):
    monkeypatch.setattr(smart_app, "STATIC_DIR", tmp_path)
    resp = client.get("/app/launch?iss=https://ehr.example/fhir")
    assert resp.status_code == 503 and "npm ci && npm run build" in resp.get_data(as_text=True)


@pytest.mark.parametrize("body, expect", [
    (b"", "empty"),
    (b"{not json", "not valid JSON"),
    (json.dumps({"resourceType": "Patient", "id": "x"}).encode(), "Bundle"),
    (json.dumps({"resourceType": "Bundle", "type": "collection", "entry": []}).encode(), "exactly one Patient"),
    (json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "a"}}, {"resource": {"resourceType": "Patient", "id": "b"}}]}).encode(),
     "exactly one Patient"),
    (json.dumps({"resourceType": "Bundle", "entry": [{"resource": {"id": "no-type"}}]}).encode(), "resourceType"),
])
def test_timeline_refuses_bad_input_with_an_operation_outcome(client, body, expect):
    resp = client.post("/app/api/timeline", data=body, content_type="application/fhir+json")
    assert resp.status_code == 400
    outcome = resp.get_json(force=True)
    assert outcome["resourceType"] == "OperationOutcome"
    assert expect in outcome["issue"][0]["diagnostics"]


def test_timeline_refuses_a_malformed_as_of(client):
    resp = client.post("/app/api/timeline?asOf=30/06/2025", json={"resourceType": "Bundle", "entry": []})
    assert resp.status_code == 400 and "asOf" in resp.get_json(force=True)["issue"][0]["diagnostics"]
