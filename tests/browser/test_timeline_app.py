"""The SMART timeline app in a real browser: EHR and standalone launch with PKCE against the
test authorization server and sekmet-fhir (bearer auth), then the vignette patient's chart.

Expected values are not typed in: the M-protein points come from the demo Bundle (converted
to g/L here, independently of fhir_mappings), the nadir and relapse from the service's own
POST /assessment, the expected relapse date also from examples/expected.json.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from tests.browser.auth_server import s256

pytestmark = [pytest.mark.browser, pytest.mark.integration]

REPO_ROOT = Path(__file__).resolve().parents[2]
VIGNETTE = REPO_ROOT / "examples" / "patients" / "vignette.json"
EXPECTED = json.loads((REPO_ROOT / "examples" / "expected.json").read_text(encoding="utf-8"))
AS_OF = EXPECTED["asOf"]
PATIENT_ID = EXPECTED["patients"]["vignette"]["patientId"]
SERUM_M_PROTEIN_LOINC = "33358-3"
TO_G_PER_L = {"g/dL": 10.0, "g/L": 1.0, "mg/dL": 0.01}
SCREENSHOT = REPO_ROOT / "artifacts" / "timeline-vignette.png"
README_SCREENSHOT = REPO_ROOT / "docs" / "timeline-vignette.png"
READY_TIMEOUT_MS = 20_000


def vignette_resources() -> list[dict]:
    return [e["resource"] for e in json.loads(VIGNETTE.read_text(encoding="utf-8"))["entry"]]


def expected_m_protein() -> dict[str, float]:
    """Serum M-protein per day in g/L, straight from the demo Bundle."""
    out: dict[str, float] = {}
    for r in vignette_resources():
        codes = {c.get("code") for c in (r.get("code") or {}).get("coding", [])}
        usable = r.get("status") in ("final", "amended", "corrected")
        if r["resourceType"] == "Observation" and SERUM_M_PROTEIN_LOINC in codes and usable:
            q = r["valueQuantity"]
            out[r["effectiveDateTime"][:10]] = round(q["value"] * TO_G_PER_L[q.get("code") or q["unit"]], 3)
    return out


@pytest.fixture(scope="module")
def assessment(service_url):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in vignette_resources()]}
    resp = requests.post(f"{service_url}/assessment", params={"asOf": AS_OF}, json=bundle, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()


def ehr_launch(page, service_url: str, auth_server, as_of: str = AS_OF) -> None:
    launch = auth_server.register_launch(PATIENT_ID)
    page.goto(f"{service_url}/app/launch?" + urlencode({"iss": auth_server.iss, "launch": launch, "asOf": as_of}))
    page.wait_for_selector("body[data-ready]", timeout=READY_TIMEOUT_MS)
    assert page.get_attribute("body", "data-ready") == "true", page.inner_text("#error")


def test_ehr_launch_draws_the_vignette_timeline(page, service_url, auth_server, assessment):
    ehr_launch(page, service_url, auth_server)

    # The launch went through PKCE and the FHIR reads carried the granted bearer token.
    assert auth_server.tokens_issued == 1 and auth_server.refusals == []
    assert auth_server.fhir_requests and all(had_token for _, _, had_token in auth_server.fhir_requests)
    assert "code=" not in page.url  # the one-time code is removed from the address bar
    assert "Vignette" in page.inner_text("#header")

    # Chart data points: serum M-protein per day, as in the FHIR data (0.71 g/dL -> 7.1 g/L).
    expected = expected_m_protein()
    charted = page.evaluate("""() => {
        const ds = timelineApp.markerChart.data.datasets.find(d => d.seriesKey === 'serumMProtein');
        return ds.data.map(p => [p.point.date, p.y]);
    }""")
    assert dict(charted) == expected
    table = page.eval_on_selector_all(
        "#timeline-table tbody tr td[data-series=serumMProtein][data-value]",
        "cells => cells.map(c => [c.closest('tr').dataset.date, Number(c.dataset.value)])")
    assert dict(table) == expected
    flc_keys = page.evaluate("() => timelineApp.markerChart.data.datasets.map(d => d.seriesKey).filter(Boolean)")
    assert {"involvedFlc", "dFlc"} <= set(flc_keys)

    # Markers: nadir and relapse (with the criterion that fired) as the service's model says.
    relapse = assessment["relapse"]
    assert relapse["date"] == EXPECTED["patients"]["vignette"]["relapse.date"]
    nadir = page.locator("#events li[data-marker=nadir]")
    assert nadir.get_attribute("data-date") == relapse["markers"]["serumMProtein"]["nadirDate"]
    assert float(nadir.get_attribute("data-value")) == relapse["markers"]["serumMProtein"]["nadir"]
    marker = page.locator("#events li[data-marker=relapse]")
    assert marker.get_attribute("data-date") == relapse["date"]
    assert float(marker.get_attribute("data-value")) == expected[relapse["date"]]
    assert "serum-m-protein" in marker.get_attribute("data-criteria").split()
    assert "serum M-protein" in marker.inner_text() and "above nadir" in marker.inner_text()
    scatter = page.evaluate("""() => Object.fromEntries(timelineApp.markerChart.data.datasets
        .filter(d => d.markerKind).map(d => [d.markerKind, d.data.map(p => p.event.date)]))""")
    assert scatter["relapse"] == [relapse["date"]]
    assert page.get_attribute("#relapse-status", "data-status") == relapse["status"] == "biochemical"

    # Swimlane: lenalidomide in line 1, its last course ending when maintenance stopped.
    lenalidomide_stop = max(r["effectivePeriod"]["end"] for r in vignette_resources()
                            if r["resourceType"] == "MedicationStatement" and "lenalidomide" in r["id"])
    bars = page.evaluate("""() => timelineApp.swimlane.data.datasets[0].data
        .map(b => ({drug: b.y, line: b.therapy.line, end: b.period.end}))""")
    len_bars = [b for b in bars if b["drug"] == "lenalidomide"]
    assert len_bars and {b["line"] for b in len_bars} == {1}
    assert max(b["end"] for b in len_bars) == lenalidomide_stop
    assert page.locator("#therapy-table tr[data-drug=lenalidomide]").count() == len(len_bars)

    # CRAB values on hover: move the mouse onto the relapse point and read the tooltip.
    x, y = page.evaluate("""() => {
        const c = timelineApp.markerChart;
        const i = c.data.datasets.findIndex(d => d.markerKind === 'relapse');
        const el = c.getDatasetMeta(i).data[0];
        const box = c.canvas.getBoundingClientRect();
        return [box.left + el.x, box.top + el.y];
    }""")
    page.mouse.move(x, y)
    page.wait_for_function("() => timelineApp.markerChart.tooltip.opacity > 0")
    after = page.evaluate("() => timelineApp.markerChart.tooltip.afterBody.join('\\n')")
    assert "Calcium" in after and "Creatinine" in after and "Haemoglobin" in after
    page.mouse.move(5, 5)

    # Log / linear toggle redraws the value axes.
    page.check("input[name=scale][value=log]")
    assert page.evaluate("() => timelineApp.markerChart.options.scales.mprotein.type") == "logarithmic"
    page.check("input[name=scale][value=linear]")
    assert page.evaluate("() => timelineApp.markerChart.options.scales.mprotein.type") == "linear"
    assert page.js_errors == []

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=False)
    assert SCREENSHOT.stat().st_size > 10_000  # a rendered page, not a blank frame
    if os.environ.get("UPDATE_README_SCREENSHOT"):  # opt-in: a test run leaves the tree clean
        shutil.copyfile(SCREENSHOT, README_SCREENSHOT)


def test_each_line_shows_its_response_and_the_data_age_is_shown(page, service_url, auth_server, assessment):
    ehr_launch(page, service_url, auth_server)
    [line] = assessment["lines"]  # the vignette has one line (VRd, ASCT, lenalidomide maintenance)

    # The response band on the chart: from the best response's date to the line's progression.
    bands = page.evaluate("() => timelineApp.markerChart.$responseBands")
    assert [b["bestResponse"] for b in bands] == [line["bestResponse"]] and bands[0]["right"] > bands[0]["left"]
    assert bands[0]["text"] == f"L1 {line['bestResponse']} · {line['durationMonths']:g} mo"
    band = page.evaluate("() => timelineApp.data.responses[0]")
    assert (band["start"], band["end"]) == (line["bestResponseDate"], line["progressionDate"])
    # ... and the same in words in the summary and in the accessible table.
    item = page.locator("#responses li[data-line='1']")
    assert item.get_attribute("data-best-response") == line["bestResponse"]
    assert line["bestResponseDate"] in item.inner_text() and f"{line['durationMonths']:g} months" in item.inner_text()
    assert page.locator("#response-table tr[data-line='1']").get_attribute("data-best-response") == line["bestResponse"]

    # The data age: the latest marker result is 21 days before the as-of date: fresh.
    age = page.locator("#data-age")
    assert age.is_visible() and age.get_attribute("data-freshness") == assessment["dataFreshness"] == "fresh"
    assert f"Based on results up to {assessment['relapse']['latestMarkerDate']}, 21 days ago" in age.inner_text()
    assert page.js_errors == []


def test_stale_data_are_shown_prominently_and_never_as_treat_now(page, service_url, auth_server):
    # Launched 17 months after the vignette's last result (2025-06-09): the data are stale.
    ehr_launch(page, service_url, auth_server, as_of="2026-11-15")
    age = page.locator("#data-age")
    assert age.get_attribute("data-freshness") == "stale" and age.get_attribute("role") == "alert"
    assert "Based on results up to 2025-06-09, 17 months ago" in age.inner_text()
    assert "repeat SPEP and FLC" in age.inner_text()
    box = age.bounding_box()
    assert box is not None and box["y"] < 200  # right under the header, not below the fold
    assert page.get_attribute("#timing", "data-timing") == "confirm"
    assert page.js_errors == []


def test_standalone_launch_uses_the_patient_the_server_picks(page, service_url, auth_server):
    auth_server.standalone_patient = PATIENT_ID
    page.goto(f"{service_url}/app/launch?" + urlencode({"iss": auth_server.iss, "asOf": AS_OF}))
    page.wait_for_selector("body[data-ready]", timeout=READY_TIMEOUT_MS)
    assert page.get_attribute("body", "data-ready") == "true", page.inner_text("#error")
    assert auth_server.tokens_issued == 1 and auth_server.refusals == []
    assert page.locator("#events li[data-marker=relapse]").count() == 1


def test_app_refuses_a_server_without_pkce_s256(page, service_url, auth_server):
    auth_server.challenge_methods = ["plain"]
    launch = auth_server.register_launch(PATIENT_ID)
    page.goto(f"{service_url}/app/launch?" + urlencode({"iss": auth_server.iss, "launch": launch}))
    page.wait_for_selector("#error:not([hidden])", timeout=READY_TIMEOUT_MS)
    assert "S256" in page.inner_text("#error")
    assert auth_server.tokens_issued == 0


def test_a_replayed_redirect_is_refused(page, service_url, auth_server):
    """Reloading the redirect URL (same code and state) must not start a second session."""
    ehr_launch(page, service_url, auth_server)
    page.goto(auth_server.last_redirect)
    page.wait_for_selector("#error:not([hidden])", timeout=READY_TIMEOUT_MS)
    assert "launch the app again" in page.inner_text("#error")
    assert auth_server.tokens_issued == 1


def test_launch_from_an_issuer_not_allowed_is_refused(page, service_url, auth_server, monkeypatch):
    monkeypatch.setenv("CDS_SMART_ALLOWED_ISS", "https://ehr.other.example/fhir")
    launch = auth_server.register_launch(PATIENT_ID)
    page.goto(f"{service_url}/app/launch?" + urlencode({"iss": auth_server.iss, "launch": launch}))
    page.wait_for_selector("#error:not([hidden])", timeout=READY_TIMEOUT_MS)
    assert "not configured for this app" in page.inner_text("#error")
    assert auth_server.codes == {} and auth_server.last_redirect is None


def test_fhir_server_refuses_reads_without_the_token(auth_server):
    """The bearer auth is real: the same read without the token is refused by sekmet."""
    url = f"{auth_server.iss}/Patient/{PATIENT_ID}"
    assert requests.get(url, timeout=10).status_code == 401
    ok = requests.get(url, headers={"Authorization": f"Bearer {auth_server.access_token}"}, timeout=10)
    assert ok.status_code == 200 and ok.json()["id"] == PATIENT_ID


def test_token_endpoint_checks_the_pkce_verifier(auth_server):
    verifier = "v" * 43
    status, headers, _ = auth_server.authorize({
        "response_type": "code", "client_id": auth_server.client_id, "redirect_uri": auth_server.redirect_uri,
        "scope": "launch patient/*.rs", "state": "s1", "aud": auth_server.iss,
        "launch": auth_server.register_launch(PATIENT_ID),
        "code_challenge": s256(verifier), "code_challenge_method": "S256",
    })
    assert status == 302
    code = headers["Location"].split("code=")[1].split("&")[0]
    form = {"grant_type": "authorization_code", "code": code, "client_id": auth_server.client_id,
            "redirect_uri": auth_server.redirect_uri, "code_verifier": "w" * 43}
    status, body = auth_server.token(form)
    assert status == 400 and body["error"] == "invalid_grant"
    status, body = auth_server.token({**form, "code_verifier": verifier})  # the code was used up
    assert status == 400 and auth_server.tokens_issued == 0


# -- layout, reload, icon (issue 17) ---------------------------------------------------------

def overflow(page) -> dict:
    """How far the page and the chart reach beyond the window (0 = they fit)."""
    return page.evaluate("""() => ({
        page: document.documentElement.scrollWidth - window.innerWidth,
        chart: Math.ceil(timelineApp.markerChart.canvas.getBoundingClientRect().right) - window.innerWidth,
        swimlane: Math.ceil(timelineApp.swimlane.canvas.getBoundingClientRect().right) - window.innerWidth,
        chartWidth: timelineApp.markerChart.width,
    })""")


def test_the_layout_follows_the_window_from_1440_to_800_to_360_px(page, service_url, auth_server):
    ehr_launch(page, service_url, auth_server)
    page.click("#tables-panel summary")  # the wide data tables are part of the page too
    widths = {}
    for width in (1440, 800, 360):
        page.set_viewport_size({"width": width, "height": 900})
        # Chart.js redraws on its container's resize (ResizeObserver): wait for it.
        page.wait_for_function(f"() => timelineApp.markerChart.width <= {width}", timeout=5_000)
        page.wait_for_timeout(300)
        sizes = overflow(page)
        assert sizes["page"] <= 0 and sizes["chart"] <= 0 and sizes["swimlane"] <= 0, (width, sizes)
        widths[width] = sizes["chartWidth"]
    # the chart really shrank with the window (and was not merely clipped)
    assert widths[1440] > widths[800] > widths[360] > 250
    assert page.js_errors == []


def test_a_reload_resumes_the_launch_without_a_new_token(page, service_url, auth_server):
    ehr_launch(page, service_url, auth_server)
    page.reload()
    page.wait_for_selector("body[data-ready]", timeout=READY_TIMEOUT_MS)
    assert page.get_attribute("body", "data-ready") == "true", page.inner_text("#error")
    assert page.locator("#events li[data-marker=relapse]").count() == 1
    assert auth_server.tokens_issued == 1  # the same session, no second authorization
    # An expired session asks for a new launch instead of failing on the FHIR server.
    page.evaluate("""() => { const s = JSON.parse(sessionStorage.getItem('smart-session'));
        s.expiresAt = Date.now() - 1000; sessionStorage.setItem('smart-session', JSON.stringify(s)); }""")
    page.reload()
    page.wait_for_selector("#error:not([hidden])", timeout=READY_TIMEOUT_MS)
    assert "launch the app again" in page.inner_text("#error")


def test_a_new_tab_without_a_launch_says_how_to_launch(page, service_url):
    page.goto(f"{service_url}/app/")
    page.wait_for_selector("#error:not([hidden])", timeout=READY_TIMEOUT_MS)
    assert "/app/launch?iss=" in page.inner_text("#error")


def test_the_pages_have_a_favicon(page, service_url):
    page.goto(f"{service_url}/app/launch")
    href = page.get_attribute("link[rel=icon]", "href")
    resp = requests.get(f"{service_url}{href}", timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("image/svg+xml")
    assert resp.text.startswith("<svg")


# -- confidential asymmetric client (private_key_jwt) ---------------------------------------

@pytest.fixture
def client_key_file(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP384R1())
    path = tmp_path / "smart-client-key.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


def test_confidential_asymmetric_client_authenticates_with_private_key_jwt(
        page, service_url, auth_server, client_key_file, monkeypatch):
    monkeypatch.setenv("CDS_SMART_CLIENT_KEY", str(client_key_file))
    monkeypatch.setenv("CDS_SMART_ALLOWED_ISS", auth_server.iss)
    auth_server.client_jwks_url = f"{service_url}/app/.well-known/jwks.json"
    jwks = requests.get(auth_server.client_jwks_url, timeout=10).json()
    assert [k["kty"] for k in jwks["keys"]] == ["EC"] and "d" not in jwks["keys"][0]  # public only
    ehr_launch(page, service_url, auth_server)
    assert auth_server.assertions_verified == 1 and auth_server.tokens_issued == 1
    assert auth_server.refusals == []
    assert page.locator("#events li[data-marker=relapse]").count() == 1


def test_a_public_client_is_refused_where_a_confidential_one_is_registered(page, service_url, auth_server):
    auth_server.client_jwks_url = f"{service_url}/app/.well-known/jwks.json"  # no key configured
    launch = auth_server.register_launch(PATIENT_ID)
    page.goto(f"{service_url}/app/launch?" + urlencode({"iss": auth_server.iss, "launch": launch}))
    page.wait_for_selector("#error:not([hidden])", timeout=READY_TIMEOUT_MS)
    assert "client_assertion_type" in page.inner_text("#error")
    assert auth_server.tokens_issued == 0


def test_the_token_endpoint_of_the_service_only_serves_allowed_issuers(service_url, client_key_file, monkeypatch):
    monkeypatch.setenv("CDS_SMART_CLIENT_KEY", str(client_key_file))
    monkeypatch.setenv("CDS_SMART_ALLOWED_ISS", "https://ehr.allowed.example/fhir")
    resp = requests.post(f"{service_url}/app/api/token", timeout=10, json={
        "iss": "http://127.0.0.1:9/fhir", "code": "c", "redirect_uri": "r", "code_verifier": "v" * 43})
    assert resp.status_code == 400 and "not configured" in resp.json()["error_description"]
    bad = requests.post(f"{service_url}/app/api/token", timeout=10, json={"iss": 1})
    assert bad.status_code == 400
