"""The demo patients and the service's fallback path against a real HAPI FHIR JPA server.

HAPI differs from sekmet where it matters to the service: `_getpages` paging links on the
base URL, `_count` clamped to the server's maximum page size, referential integrity on
transactions, strict search-parameter checking. Round trips are counted from HAPI's access
log (one line per HTTP request) and compared with the pages the searches need at HAPI's page
size. One HAPI server per session (conftest.py `hapi_server_instance`), demo patients loaded
by `cds_service.demo.load_demo`.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from benchmarks.synthetic import heavy_patient, transaction_bundle
from cds_service.fhir import prefetch
from cds_service.hooks import services
from cds_service.fhir.paging import remaining_page_urls
from cds_service.fhir.prefetch import Template
from tests.integration.fhir_server import demo_bundle_paths, post_transaction, search_all
from tests.integration.hapi_server import HapiServer
# The sekmet tests of the hook, run unchanged against HAPI (the `fhir_server` fixture below).
from tests.integration.test_hook_against_fhir_server import (  # noqa: F401
    call, cds_client, fetched_urls, sandbox_request, test_patient_without_myeloma_gets_no_cards,
    test_sandbox_style_call_fetches_from_the_server_and_returns_a_relapse_card, without_uuids,
)

pytestmark = [pytest.mark.hapi, pytest.mark.timeout(900)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DEMO = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in demo_bundle_paths()}
AS_OF = date.fromisoformat(json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8"))["asOf"])
HAPI_MAX_PAGE = 500  # the launcher's --max-page-size, as on the public HAPI test server
SMALL_PAGE = 3
HEAVY_N = 3000  # Observations of the heavy synthetic patient: six pages of 500 at HAPI's maximum
HEAVY_ID = "hapi-heavy"


@pytest.fixture(scope="module")
def fhir_server(hapi_server: str) -> str:
    """The imported sekmet tests take `fhir_server`: here it is HAPI."""
    return hapi_server


def patient_id(name: str) -> str:
    return next(e["resource"]["id"] for e in DEMO[name]["entry"] if e["resource"]["resourceType"] == "Patient")


def matches(template: str, resources: list[dict], patient: str) -> int:
    """How many of `resources` a prefetch search template selects (type, patient, code list)."""
    tpl = Template.parse("k", template)
    query = parse_qs(urlsplit(tpl.render({"patientId": patient})).query)
    codes = set(query["code"][0].split(",")) if "code" in query else None
    n = 0
    for r in resources:
        if r["resourceType"] != tpl.resource_type:
            continue
        ref = (r.get("subject") or r.get("patient") or {}).get("reference")
        if ref != f"Patient/{patient}":
            continue
        if codes is not None and not {f"{c.get('system')}|{c.get('code')}" for c in r["code"]["coding"]} & codes:
            continue
        n += 1
    return n


def pages_needed(templates: dict[str, str], resources: list[dict], patient: str, page: int) -> dict[str, int]:
    """Requests each prefetch key needs at `page` entries per page (a read or an empty search: 1)."""
    return {key: 1 if Template.parse(key, t).is_read else max(1, math.ceil(matches(t, resources, patient) / page))
            for key, t in templates.items()}


def small_page_services(page: int):
    return [replace(s, prefetch={k: v.replace(f"_count={services.PREFETCH_COUNT}", f"_count={page}")
                                 for k, v in s.prefetch.items()}) for s in services.SERVICES]


@pytest.fixture
def resolved(monkeypatch):
    """The PrefetchResult of every hook call the test makes (what the service actually read)."""
    results = []
    original = prefetch.resolve

    def spy(*args, **kwargs):
        results.append(original(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr(prefetch, "resolve", spy)
    return results


# -- the demo data on HAPI ------------------------------------------------------------------
def test_load_demo_cli_loads_every_demo_patient_into_hapi_and_reloading_does_not_duplicate(hapi_server_instance):
    script = Path(sys.executable).with_name("myeloma-cds")
    proc = subprocess.run([str(script), "load-demo", "--fhir-server", hapi_server_instance.base_url],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = json.loads(proc.stdout)
    expected = [f"{e['resource']['resourceType']}/{e['resource']['id']}" for b in DEMO.values() for e in b["entry"]]
    assert sorted(loaded) == sorted(expected)  # HAPI kept every client-assigned id
    session = hapi_server_instance.session()
    for name, bundle in DEMO.items():
        pid = patient_id(name)
        patient = session.get(f"{hapi_server_instance.base_url}/Patient/{pid}", timeout=30).json()
        assert patient["birthDate"] == bundle["entry"][0]["resource"]["birthDate"], name
        on_server = search_all(hapi_server_instance, "Observation", {"patient": pid, "_count": "500"})
        in_bundle = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"]
        assert len(on_server) == len(in_bundle), name  # loaded twice (fixture + CLI), stored once


def test_hapi_enforces_referential_integrity_on_a_transaction(hapi_server_instance):
    """A dangling reference is refused as a whole transaction: the demo bundles pass because
    every reference in them resolves (Patient first, in the same Bundle)."""
    orphan = {"resourceType": "Bundle", "type": "transaction", "entry": [{
        "resource": {"resourceType": "Observation", "id": "orphan-1", "status": "final",
                     "code": {"coding": [{"system": "http://loinc.org", "code": "33358-3"}]},
                     "subject": {"reference": "Patient/no-such-patient"}},
        "request": {"method": "PUT", "url": "Observation/orphan-1"}}]}
    with pytest.raises(Exception, match="HTTP 4"):
        post_transaction(hapi_server_instance, orphan)


def test_hapi_understands_every_search_parameter_of_the_prefetch_templates(hapi_server_instance):
    """With `Prefer: handling=strict` HAPI answers 400 to a parameter it does not know; each
    template must be understood and select exactly the patient's matching resources."""
    session = hapi_server_instance.session()
    resources = [e["resource"] for e in DEMO["vignette"]["entry"]]
    for key, text in services.patient_data_prefetch().items():
        relative = Template.parse(key, text).render({"patientId": "mm-vignette"})
        resp = session.get(f"{hapi_server_instance.base_url}/{relative}", headers={"Prefer": "handling=strict"},
                           timeout=60)
        assert resp.status_code == 200, (key, resp.text[:500])
        body = resp.json()
        if body["resourceType"] == "Bundle":
            got = [e["resource"] for e in body.get("entry", []) if e.get("search", {}).get("mode") != "outcome"]
            assert len(got) == matches(text, resources, "mm-vignette"), key
            assert all((r.get("subject") or r.get("patient"))["reference"] == "Patient/mm-vignette" for r in got), key


# -- the patient-view fallback against HAPI --------------------------------------------------
def test_small_pages_follow_getpages_links_with_one_round_trip_per_page_and_match_full_prefetch(
        cds_client, hapi_server_instance, monkeypatch, resolved):
    """`_count=3` forces HAPI to page every search: the service must follow each `_getpages`
    link exactly once (round trips from HAPI's access log = pages needed) and give the cards
    it gives with full prefetch."""
    monkeypatch.setattr(services, "SERVICES", small_page_services(SMALL_PAGE))
    templates = services.patient_data_prefetch()
    templates = {k: v.replace(f"_count={services.PREFETCH_COUNT}", f"_count={SMALL_PAGE}") for k, v in templates.items()}
    resources = [e["resource"] for e in DEMO["vignette"]["entry"]]
    needed = pages_needed(templates, resources, "mm-vignette", SMALL_PAGE)
    assert needed["observations"] > 10  # the vignette really spans many pages at this size

    mark = hapi_server_instance.log_mark()
    paged = call(cds_client, sandbox_request("mm-vignette", hapi_server_instance.base_url))
    lines = hapi_server_instance.requests_since(mark)
    assert paged.status_code == 200, paged.get_data(as_text=True)[:2000]
    assert all(line.startswith("GET /fhir") for line in lines), lines
    getpages = [line for line in lines if "_getpages=" in line]
    assert len(getpages) == sum(needed.values()) - len(needed)  # every page after the first of each search
    assert len(lines) == sum(needed.values()), (needed, lines)
    assert not resolved[-1].data_gaps
    assert len(resolved[-1].resources["observations"]) == matches(templates["observations"], resources, "mm-vignette")

    full = json.loads((EXAMPLES / "hooks" / "patient-view-vignette.json").read_text(encoding="utf-8"))
    prefetched = call(cds_client, full)
    assert prefetched.status_code == 200
    assert without_uuids(paged.get_json()["cards"]) == without_uuids(prefetched.get_json()["cards"])


@pytest.mark.parametrize("patient", ["vignette", "len-refractory", "triple-class", "stable-remission",
                                     "cardiac", "no-myeloma"])
def test_fallback_against_hapi_gives_the_same_cards_as_full_prefetch(cds_client, hapi_server_instance, patient):
    full = json.loads((EXAMPLES / "hooks" / f"patient-view-{patient}.json").read_text(encoding="utf-8"))
    fetched = call(cds_client, sandbox_request(full["context"]["patientId"], hapi_server_instance.base_url))
    assert fetched.status_code == 200, fetched.get_data(as_text=True)[:2000]
    prefetched = call(cds_client, full)
    assert prefetched.status_code == 200
    assert without_uuids(fetched.get_json()["cards"]) == without_uuids(prefetched.get_json()["cards"])


# -- a heavy patient: several thousand Observations over many HAPI pages ---------------------
@pytest.fixture(scope="module")
def heavy_patient_on_hapi(hapi_server_instance: HapiServer) -> list[dict]:
    resources = heavy_patient(HEAVY_N, end=AS_OF, patient_id=HEAVY_ID)
    post_transaction_long(hapi_server_instance, transaction_bundle(resources))
    return resources


def post_transaction_long(server: HapiServer, bundle: dict) -> None:
    resp = server.session().post(server.base_url, json=bundle, timeout=600,
                                 headers={"Content-Type": "application/fhir+json", "Prefer": "return=minimal"})
    assert resp.status_code == 200, resp.text[:1000]


def test_hapi_clamps_count_to_its_maximum_page_and_links_pages_with_getpages(hapi_server_instance,
                                                                          heavy_patient_on_hapi):
    session = hapi_server_instance.session()
    first = session.get(f"{hapi_server_instance.base_url}/Observation",
                        params={"patient": HEAVY_ID, "_count": "1000"}, timeout=120).json()
    assert len(first["entry"]) == HAPI_MAX_PAGE  # asked 1000, got the server's maximum
    nxt = next(link["url"] for link in first["link"] if link["relation"] == "next")
    query = parse_qs(urlsplit(nxt).query)
    assert urlsplit(nxt).path == "/fhir" and "_getpages" in query and query["_count"] == [str(HAPI_MAX_PAGE)]


def test_fallback_reads_a_heavy_patient_completely_one_round_trip_per_page(cds_client, hapi_server_instance,
                                                                          heavy_patient_on_hapi, resolved):
    templates = services.patient_data_prefetch()
    needed = pages_needed(templates, heavy_patient_on_hapi, HEAVY_ID, HAPI_MAX_PAGE)
    assert needed["observations"] == math.ceil(HEAVY_N / HAPI_MAX_PAGE)

    mark = hapi_server_instance.log_mark()
    resp = call(cds_client, sandbox_request(HEAVY_ID, hapi_server_instance.base_url))
    lines = hapi_server_instance.requests_since(mark)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    result = resolved[-1]
    assert not result.data_gaps, result.data_gaps
    assert set(result.sources.values()) == {"fetched"}
    assert len(result.resources["observations"]) == HEAVY_N  # every Observation, none twice
    assert len({r["id"] for r in result.resources["observations"]}) == HEAVY_N
    for key, template in templates.items():
        assert len(result.resources[key]) == (1 if Template.parse(key, template).is_read
                                              else matches(template, heavy_patient_on_hapi, HEAVY_ID)), key
    assert len(lines) == sum(needed.values()), (needed, lines)
    # the synthetic patient relapses on its current line: judged from the whole record, one relapse card
    assert "relapse-treatment" in [c["source"]["topic"]["code"] for c in resp.get_json()["cards"]]


def test_hapi_states_the_total_when_asked_so_that_its_pages_can_be_fetched_at_once(hapi_server_instance,
                                                                                   heavy_patient_on_hapi):
    """The service asks for `_total=accurate`; HAPI answers with Bundle.total and offset links,
    from which every remaining page is derived (cds_service/fhir/paging.py)."""
    first = hapi_server_instance.session().get(
        f"{hapi_server_instance.base_url}/Observation",
        params={"patient": HEAVY_ID, "_count": "1000", "_total": "accurate"}, timeout=120).json()
    assert first["total"] == HEAVY_N
    nxt = next(link["url"] for link in first["link"] if link["relation"] == "next")
    urls = remaining_page_urls(first, nxt)
    assert urls is not None and len(urls) == math.ceil(HEAVY_N / HAPI_MAX_PAGE) - 1
    assert [parse_qs(urlsplit(u).query)["_getpagesoffset"] for u in urls] == [
        [str(HAPI_MAX_PAGE * i)] for i in range(1, len(urls) + 1)]
