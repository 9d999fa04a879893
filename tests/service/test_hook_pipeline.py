"""The hook end to end (mappings + model + cards) on the demo patients: with prefetch, and
with no prefetch against a HAPI-shaped mocked server that pages (`_getpages` links).
The same through POST /assessment and `myeloma-cds assess`. Expected verdicts come from
examples/expected.json (owned by the examples), not from this file."""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
import responses

from cds_service import cli
from cds_service.hooks import pipeline
from tests.schema_assert import assert_cds_response, assert_operation_outcome
from tests.service.hapi_bundles import getpages_url, searchset

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXPECTED = json.loads((EXAMPLES / "expected.json").read_text())
AS_OF = date.fromisoformat(EXPECTED["asOf"])
INDICATOR = {"clinical": "critical", "biochemical": "warning"}
URL = "/cds-services/myeloma-relapse"
PAGE = 7  # small pages so every search spans several


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(pipeline, "today", lambda: AS_OF)


def load(rel: str) -> dict:
    return json.loads((EXAMPLES / rel).read_text())


def relapse_card(cards: list[dict]) -> dict:
    """The main card (issue 11: one card per topic, the relapse card first)."""
    assert cards and cards[0]["source"]["topic"]["code"] in ("relapse-treatment", "relapse-status")
    return cards[0]


STATUS_NAME = {"clinical": "Clinical relapse", "biochemical": "Biochemical relapse", "suspected": "Possible progression"}


@responses.activate  # no real network: a key missing from an example fails fast as a data gap
@pytest.mark.parametrize("name", sorted(EXPECTED["patients"]))
def test_patient_view_with_prefetch(client, name):
    expected = EXPECTED["patients"][name]
    resp = client.post(URL, json=load(f"hooks/patient-view-{name}.json"))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert_cds_response(body)
    if not expected["inScope"] or expected["relapse.status"] in ("none", "unknown"):
        assert body == {"cards": []}  # out of scope, or stable with nothing to act on
        return
    card = relapse_card(body["cards"])
    assert card["indicator"] == INDICATOR.get(expected["relapse.status"], "info")
    assert card["summary"].startswith(STATUS_NAME[expected["relapse.status"]])


def hapi_server(rsps, bundle: dict, base: str) -> None:
    """Serve a transaction Bundle's resources like HAPI: reads, and searches paged with
    `_getpages` next links (PAGE entries per page)."""
    by_type: dict[str, list[dict]] = defaultdict(list)
    for entry in bundle["entry"]:
        by_type[entry["resource"]["resourceType"]].append(entry["resource"])
    patient = by_type["Patient"][0]
    rsps.get(f"{base}/Patient/{patient['id']}", json=patient)
    for rtype in ("Condition", "Observation", "MedicationStatement", "MedicationRequest", "MedicationAdministration"):
        items = by_type.get(rtype, [])
        pages = [items[i:i + PAGE] for i in range(0, len(items), PAGE)] or [[]]
        search_id = f"srch-{rtype}"
        for n, chunk in enumerate(pages):
            nxt = getpages_url(search_id, (n + 1) * PAGE, PAGE).replace("http://fhir.test/fhir", base) \
                if n + 1 < len(pages) else None
            page = searchset(chunk, self_url="self", next_url=nxt)
            if n == 0:
                rsps.get(f"{base}/{rtype}", json=page)
            else:
                rsps.get(base, json=page, match=[responses.matchers.query_param_matcher(
                    {"_getpages": search_id, "_getpagesoffset": str(n * PAGE), "_count": str(PAGE),
                     "_pretty": "true", "_bundletype": "searchset"})])


@responses.activate
def test_no_prefetch_fetches_and_pages_to_the_same_verdict(client):
    hook = load("hooks/patient-view-vignette-no-prefetch.json")
    hapi_server(responses, load("patients/vignette.json"), hook["fhirServer"].rstrip("/"))
    with_prefetch = client.post(URL, json=load("hooks/patient-view-vignette.json")).get_json()
    resp = client.post(URL, json=hook, headers={"Authorization": "Bearer sandbox.jwt.here"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert_cds_response(body)
    paged = [c for c in responses.calls if "_getpages" in c.request.url]
    assert len(paged) >= 8  # 55 Observations / 7 per page, 17 administrations ...
    fetched, prefetched = relapse_card(body["cards"]), relapse_card(with_prefetch["cards"])
    assert (fetched["summary"], fetched["indicator"]) == (prefetched["summary"], prefetched["indicator"])
    assert fetched["indicator"] == INDICATOR[EXPECTED["patients"]["vignette"]["relapse.status"]]


@responses.activate
def test_unavailable_medications_are_reported_not_fatal(client):
    hook = load("hooks/patient-view-vignette.json")
    for key in ("medicationStatements", "medicationRequests", "medicationAdministrations"):
        del hook["prefetch"][key]
    base = hook["fhirServer"].rstrip("/")
    for rtype in ("MedicationStatement", "MedicationRequest", "MedicationAdministration"):
        responses.get(f"{base}/{rtype}", status=500, json={"resourceType": "OperationOutcome"})
    resp = client.post(URL, json=hook)
    assert resp.status_code == 200
    detail = relapse_card(resp.get_json()["cards"])["detail"]
    assert "medication administrations" in detail.lower() and "HTTP 500" in detail


def test_missing_required_prefetch_without_server_is_412(client):
    hook = load("hooks/patient-view-vignette.json")
    del hook["fhirServer"]
    del hook["prefetch"]["observations"]
    resp = client.post(URL, json=hook)
    assert resp.status_code == 412
    assert_operation_outcome(resp.get_json(), expression="prefetch.observations")


# -- POST /assessment -------------------------------------------------------------------------
def test_assessment_api_on_a_bundle(client):
    expected = EXPECTED["patients"]["vignette"]
    resp = client.post(f"/assessment?asOf={AS_OF}", json=load("patients/vignette.json"))
    assert resp.status_code == 200, resp.get_json()
    a = resp.get_json()
    assert a["patientId"] == expected["patientId"] and a["asOf"] == str(AS_OF)
    assert a["relapse"]["status"] == expected["relapse.status"]
    assert a["relapse"]["date"] == expected["relapse.date"]


def test_assessment_api_on_a_hook_request_matches_the_bundle(client):
    from_hook = client.post(f"/assessment?asOf={AS_OF}", json=load("hooks/patient-view-len-refractory.json")).get_json()
    from_bundle = client.post(f"/assessment?asOf={AS_OF}", json=load("patients/len-refractory.json")).get_json()
    assert from_hook["relapse"] == from_bundle["relapse"]
    assert from_hook["refractoryCategory"] == EXPECTED["patients"]["len-refractory"]["refractoryCategory"]


@pytest.mark.parametrize("query, body, expression", [
    ("?asOf=30-06-2025", {"resourceType": "Bundle", "type": "collection", "entry": []}, "asOf"),
    ("", {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Condition", "id": "c"}}]}, "$.entry"),
    ("", {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": 3}]}, "$.entry[0].resource"),
    ("", {"resourceType": "Patient", "id": "p"}, "$"),
])
def test_assessment_api_bad_input_is_400(client, query, body, expression):
    resp = client.post(f"/assessment{query}", json=body)
    assert resp.status_code == 400
    assert_operation_outcome(resp.get_json(), expression=expression)


# -- CLI ------------------------------------------------------------------------------------------
def test_cli_assess_bundle_prints_the_contract(capsys):
    assert cli.main(["assess", str(EXAMPLES / "patients" / "vignette.json"), "--as-of", str(AS_OF)]) == 0
    a = json.loads(capsys.readouterr().out)
    assert a["asOf"] == str(AS_OF)
    assert a["relapse"]["status"] == EXPECTED["patients"]["vignette"]["relapse.status"]
    for field in ("patientId", "inScope", "relapse", "drugs", "priorLines", "refractoryCategory", "risk",
                  "fitness", "timing", "strategy", "regimens", "missingInvestigations", "safety", "dataGaps"):
        assert field in a


def test_cli_assess_hook_request_reads_prefetch(capsys):
    path = EXAMPLES / "hooks" / "patient-view-stable-remission.json"
    assert cli.main(["assess", str(path), "--as-of", str(AS_OF)]) == 0
    a = json.loads(capsys.readouterr().out)
    assert a["relapse"]["status"] == EXPECTED["patients"]["stable-remission"]["relapse.status"]


def test_installed_console_script_assesses_from_any_directory(tmp_path):
    """The installed `myeloma-cds` (not the source tree on sys.path) finds every layer."""
    import shutil
    import subprocess
    import sys

    exe = shutil.which("myeloma-cds", path=str(Path(sys.executable).parent))
    out = subprocess.run([exe, "assess", str(EXAMPLES / "patients" / "vignette.json"), "--as-of", str(AS_OF)],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout)["relapse"]["status"] == EXPECTED["patients"]["vignette"]["relapse.status"]


@pytest.mark.parametrize("name", [n for n, e in sorted(EXPECTED["patients"].items()) if e["inScope"]])
def test_data_fetched_through_the_prefetch_templates_gives_the_bundle_assessment(name):
    """Every resource type the mappings read is covered by a prefetch key: fetching the
    patient's Bundle through the templates gives the same assessment as the Bundle itself
    (lines of therapy need the transplant Procedure, investigations need reports)."""
    from cds_service.fhir import prefetch as prefetch_mod
    from cds_service.config import Config
    from cds_service.hooks.services import REQUIRED_PATIENT_DATA, patient_data_prefetch

    bundle = load(f"patients/{name}.json")
    base = "https://fhir.example.org/r4"
    hook = {"hook": "patient-view", "hookInstance": "x", "fhirServer": base,
            "context": {"patientId": EXPECTED["patients"][name]["patientId"]}}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        by_type: dict[str, list[dict]] = defaultdict(list)
        for entry in bundle["entry"]:
            by_type[entry["resource"]["resourceType"]].append(entry["resource"])
        rsps.get(f"{base}/Patient/{by_type['Patient'][0]['id']}", json=by_type["Patient"][0])
        for template in patient_data_prefetch().values():
            rtype = template.split("?")[0]
            if "/" not in rtype:
                rsps.get(f"{base}/{rtype}", json=searchset(by_type.get(rtype, []), self_url="s"))
        data = prefetch_mod.resolve(hook, patient_data_prefetch(), required=REQUIRED_PATIENT_DATA, config=Config())
    assert data.data_gaps == []
    via_templates = pipeline.assess_resources(data.all_resources(), patient_id=hook["context"]["patientId"], as_of=AS_OF)
    via_bundle = pipeline.assess_bundle(bundle, as_of=AS_OF)
    assert via_templates == via_bundle


@responses.activate
def test_cli_assess_fetch_reads_the_fhir_server(tmp_path, capsys):
    hook = load("hooks/patient-view-vignette-no-prefetch.json")
    hapi_server(responses, load("patients/vignette.json"), hook["fhirServer"].rstrip("/"))
    for rtype in ("Procedure", "DiagnosticReport"):
        responses.get(f"{hook['fhirServer'].rstrip('/')}/{rtype}", json=searchset([], self_url="s"))
    path = tmp_path / "hook.json"
    path.write_text(json.dumps(hook))
    assert cli.main(["assess", str(path), "--as-of", str(AS_OF)]) == cli.EXIT_NO_DATA  # no --fetch: no data
    assert not responses.calls
    capsys.readouterr()
    assert cli.main(["assess", str(path), "--as-of", str(AS_OF), "--fetch"]) == 0
    a = json.loads(capsys.readouterr().out)
    assert a["relapse"]["status"] == EXPECTED["patients"]["vignette"]["relapse.status"]
    assert responses.calls
