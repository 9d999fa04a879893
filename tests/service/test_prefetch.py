"""Prefetch-or-fetch against a mocked HAPI-style server (`responses`): key semantics, paging,
token handling, concurrency, deadline, and the 412 / data-gap split."""
from __future__ import annotations

import logging
import threading
import time

import pytest
import requests
import responses

from cds_service.fhir import prefetch
from cds_service.config import Config
from cds_service.http.errors import CdsError
from cds_service.fhir.client import Deadline, FetchPolicy, FhirClient, FhirFetchError
from cds_service.hooks.services import PREFETCH_COUNT, REQUIRED_PATIENT_DATA, patient_data_prefetch
from tests.schema_assert import assert_operation_outcome
from tests.service.hapi_bundles import BASE, getpages_url, observation, offset_url, resource, searchset

PID = "pat-42"
TOKEN = "s3cr3t-access-token"
TEMPLATES = patient_data_prefetch()
CONFIG = Config(request_deadline_s=2.0, fhir_connect_timeout_s=0.5, fhir_read_timeout_s=1.0)


def hook_request(prefetch_values=None, *, server=BASE, token=TOKEN) -> dict:
    body = {"hook": "patient-view", "hookInstance": "h-1", "context": {"patientId": PID, "userId": "Practitioner/u"}}
    if server:
        body["fhirServer"] = server
    if token:
        body["fhirAuthorization"] = {"access_token": token, "token_type": "Bearer", "expires_in": 300,
                                     "scope": "patient/*.read", "subject": "myeloma-cds"}
    if prefetch_values is not None:
        body["prefetch"] = prefetch_values
    return body


def resolve(body, **kw):
    return prefetch.resolve(body, TEMPLATES, required=REQUIRED_PATIENT_DATA, config=kw.pop("config", CONFIG), **kw)


def mock_server(rsps, *, obs_pages=3, per_page=2, med_status=200):
    """Register a HAPI-like server: Patient read, paged Observations (_getpages), paged
    MedicationStatements (offset links), single-page others. Returns the Observations."""
    rsps.get(f"{BASE}/Patient/{PID}", json={"resourceType": "Patient", "id": PID, "birthDate": "1955-03-01"})
    rsps.get(f"{BASE}/Condition", json=searchset([resource("Condition", PID)], self_url=f"{BASE}/Condition"))
    observations = [observation(PID, value=float(i)) for i in range(obs_pages * per_page)]
    for page in range(obs_pages):
        chunk = observations[page * per_page:(page + 1) * per_page]
        nxt = getpages_url("abc-123", (page + 1) * per_page, per_page) if page + 1 < obs_pages else None
        url = f"{BASE}/Observation" if page == 0 else getpages_url("abc-123", page * per_page, per_page)
        rsps.get(url, json=searchset(chunk, self_url=url, next_url=nxt),
                 match=[responses.matchers.query_param_matcher(
                     {"_getpages": "abc-123", "_getpagesoffset": str(page * per_page), "_count": str(per_page),
                      "_pretty": "true", "_bundletype": "searchset"})] if page else [])
    if med_status == 200:
        meds = [resource("MedicationStatement", PID, status="active") for _ in range(3)]
        rsps.get(f"{BASE}/MedicationStatement",
                 json=searchset(meds[:2], self_url="s", next_url=offset_url("MedicationStatement", PID, 2, 2)),
                 match=[responses.matchers.query_param_matcher({"patient": PID, "_count": str(PREFETCH_COUNT),
                                                               "_total": "accurate"})])
        rsps.get(f"{BASE}/MedicationStatement", json=searchset(meds[2:], self_url="s2"),
                 match=[responses.matchers.query_param_matcher({"patient": PID, "_count": "2", "_offset": "2"})])
    else:
        rsps.get(f"{BASE}/MedicationStatement", status=med_status, json={"resourceType": "OperationOutcome"})
    rsps.get(f"{BASE}/MedicationRequest", json=searchset([], self_url="r"))
    rsps.get(f"{BASE}/MedicationAdministration", json=searchset([], self_url="a"))
    rsps.get(f"{BASE}/Procedure", json=searchset([resource("Procedure", PID, status="completed")], self_url="p"))
    rsps.get(f"{BASE}/DiagnosticReport", json=searchset([], self_url="d"))
    return observations


@responses.activate
def test_absent_keys_are_fetched_following_every_next_link():
    observations = mock_server(responses)
    result = resolve(hook_request())
    assert set(result.sources.values()) == {"fetched"}
    assert [o["id"] for o in result.resources["observations"]] == [o["id"] for o in observations]
    assert len(result.resources["medicationStatements"]) == 3  # offset-paged
    assert result.resources["patient"][0]["id"] == PID
    assert result.data_gaps == []
    for call in responses.calls:
        assert call.request.headers["Accept"] == "application/fhir+json"
        assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"


@responses.activate
def test_observation_search_sends_the_template_codes():
    mock_server(responses, obs_pages=1)
    resolve(hook_request())
    obs_call = next(c for c in responses.calls if "/Observation" in c.request.url)
    query = requests.utils.unquote(obs_call.request.url)
    assert f"patient={PID}" in query and "http://loinc.org|33358-3" in query and f"_count={PREFETCH_COUNT}" in query


@responses.activate
def test_no_token_means_no_authorization_header():
    mock_server(responses, obs_pages=1)
    resolve(hook_request(token=None))
    assert responses.calls and all("Authorization" not in c.request.headers for c in responses.calls)


@responses.activate
def test_present_keys_are_used_and_null_means_no_data():
    supplied = {
        "patient": {"resourceType": "Patient", "id": PID},
        "conditions": searchset([resource("Condition", PID)], self_url="c"),
        "observations": None,
        "medicationStatements": None,
        "medicationRequests": searchset([], self_url="r"),
        "medicationAdministrations": None,
        "procedures": None,
        "diagnosticReports": None,
    }
    result = resolve(hook_request(supplied))
    assert len(responses.calls) == 0
    assert result.sources["observations"] == "null" and result.resources["observations"] == []
    assert result.sources["conditions"] == "prefetch" and len(result.resources["conditions"]) == 1


@responses.activate
def test_operation_outcome_value_is_refetched():
    mock_server(responses, obs_pages=1)
    supplied = {k: None for k in TEMPLATES}
    supplied["observations"] = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}
    result = resolve(hook_request(supplied))
    assert result.sources["observations"] == "fetched"
    assert len(result.resources["observations"]) == 2
    assert [c.request.url.split("?")[0] for c in responses.calls] == [f"{BASE}/Observation"]


@responses.activate
def test_prefetched_bundle_with_next_link_is_completed_through_fhir_server():
    page2_url = getpages_url("xyz", 2, 2)
    page3_url = getpages_url("xyz", 4, 2)
    first = [observation(PID), observation(PID)]
    responses.get(page2_url, json=searchset([observation(PID)], self_url=page2_url, next_url=page3_url),
                  match=[responses.matchers.query_param_matcher({"_getpages": "xyz", "_getpagesoffset": "2", "_count": "2", "_pretty": "true", "_bundletype": "searchset"})])
    responses.get(page3_url, json=searchset([observation(PID)], self_url=page3_url),
                  match=[responses.matchers.query_param_matcher({"_getpages": "xyz", "_getpagesoffset": "4", "_count": "2", "_pretty": "true", "_bundletype": "searchset"})])
    supplied = {k: None for k in TEMPLATES}
    supplied["observations"] = searchset(first, self_url="x", next_url=page2_url)
    result = resolve(hook_request(supplied))
    assert len(result.resources["observations"]) == 4
    assert len(responses.calls) == 2
    assert all(c.request.headers["Authorization"] == f"Bearer {TOKEN}" for c in responses.calls)


def test_truncated_required_bundle_without_server_is_a_412_naming_the_key_and_why():
    # A first page is not the history: it is never judged (issue 13), here no fhirServer.
    supplied = {k: None for k in TEMPLATES}
    supplied["observations"] = searchset([observation(PID)], self_url="x", next_url=getpages_url("q", 1, 1))
    with pytest.raises(CdsError) as err:
        resolve(hook_request(supplied, server=None, token=None))
    assert err.value.status == 412
    [issue] = err.value.issues
    assert issue.expression == "prefetch.observations"
    assert "only the first page" in issue.diagnostics and "no fhirServer was given" in issue.diagnostics


def test_truncated_optional_bundle_without_server_is_dropped_as_a_data_gap():
    supplied = {k: None for k in TEMPLATES}
    supplied["medicationStatements"] = searchset([resource("MedicationStatement", PID, status="active")],
                                                 self_url="s", next_url=getpages_url("m", 1, 1))
    result = resolve(hook_request(supplied, server=None, token=None))
    assert result.resources["medicationStatements"] == []  # not the first page alone
    assert result.sources["medicationStatements"] == "unavailable"
    assert any(g.startswith("medicationStatements:") and "first page" in g for g in result.data_gaps)


@responses.activate
def test_truncated_bundle_whose_next_link_leaves_the_server_is_fetched_whole_from_fhir_server():
    mock_server(responses, obs_pages=1)
    supplied = {k: None for k in TEMPLATES}
    # e.g. the sandbox's first page links to its own FHIR server, not the allowed fhirServer
    supplied["observations"] = searchset([observation(PID)], self_url="x",
                                         next_url="https://elsewhere.example/fhir?_getpages=q")
    result = resolve(hook_request(supplied))
    assert result.sources["observations"] == "fetched"
    assert len(result.resources["observations"]) == 2  # the server's whole search, not 1 + more
    assert all(c.request.url.startswith(BASE) for c in responses.calls)


@responses.activate
def test_truncated_bundle_whose_later_page_fails_is_a_412_not_a_partial_verdict():
    page2_url = getpages_url("xyz", 2, 2)
    responses.get(page2_url, status=500, json={"resourceType": "OperationOutcome"})
    supplied = {k: None for k in TEMPLATES}
    supplied["observations"] = searchset([observation(PID), observation(PID)], self_url="x", next_url=page2_url)
    with pytest.raises(CdsError) as err:
        resolve(hook_request(supplied))
    assert err.value.status == 412
    assert "only the first page" in err.value.issues[0].diagnostics
    assert "HTTP 500" in err.value.issues[0].diagnostics


@responses.activate
def test_failed_medication_key_is_a_data_gap_not_an_error():
    mock_server(responses, obs_pages=1, med_status=500)
    result = resolve(hook_request())
    assert result.sources["medicationStatements"] == "unavailable"
    assert any(g.startswith("medicationStatements:") and "HTTP 500" in g for g in result.data_gaps)
    assert result.sources["observations"] == "fetched"


def test_missing_medication_keys_without_server_are_gaps():
    supplied = {"patient": {"resourceType": "Patient", "id": PID},
                "conditions": searchset([], self_url="c"), "observations": searchset([], self_url="o")}
    result = resolve(hook_request(supplied, server=None, token=None))
    assert {k for k, v in result.sources.items() if v == "unavailable"} == {
        "medicationStatements", "medicationRequests", "medicationAdministrations", "procedures", "diagnosticReports"}
    assert len(result.data_gaps) == 5


def test_required_keys_without_prefetch_or_server_are_412():
    with pytest.raises(CdsError) as err:
        resolve(hook_request(None, server=None, token=None))
    assert err.value.status == 412
    assert {i.expression for i in err.value.issues} == {"prefetch.patient", "prefetch.conditions", "prefetch.observations"}


@responses.activate
@pytest.mark.parametrize("failure", [
    {"status": 500, "json": {"resourceType": "OperationOutcome"}},
    {"status": 401, "json": {"resourceType": "OperationOutcome"}},
    {"body": requests.ConnectionError("refused")},
    {"status": 200, "body": "<html>not fhir</html>"},
    {"status": 200, "json": {"resourceType": "Patient", "id": PID}},
    {"status": 302, "headers": {"Location": "http://elsewhere.test/"}},
])
def test_required_search_failing_on_server_is_412_naming_the_key(failure):
    mock_server(responses, obs_pages=1)
    responses.replace(responses.GET, f"{BASE}/Observation", **failure)
    with pytest.raises(CdsError) as err:
        resolve(hook_request())
    assert err.value.status == 412
    assert [i.expression for i in err.value.issues] == ["prefetch.observations"]


@responses.activate
def test_patient_not_found_on_server_is_412():
    mock_server(responses, obs_pages=1)
    responses.replace(responses.GET, f"{BASE}/Patient/{PID}", status=404, json={"resourceType": "OperationOutcome"})
    with pytest.raises(CdsError) as err:
        resolve(hook_request())
    assert err.value.status == 412 and "HTTP 404" in err.value.issues[0].diagnostics


@responses.activate
def test_server_garbage_entries_are_412():
    mock_server(responses, obs_pages=1)
    responses.replace(responses.GET, f"{BASE}/Condition", json={"resourceType": "Bundle", "entry": ["junk"]})
    with pytest.raises(CdsError) as err:
        resolve(hook_request())
    assert [i.expression for i in err.value.issues] == ["prefetch.conditions"]


@responses.activate
def test_paging_loop_is_stopped():
    loop = getpages_url("loop", 2, 2)
    responses.get(f"{BASE}/Condition", json=searchset([], self_url="c", next_url=loop))
    responses.get(loop, json=searchset([resource("Condition", PID)], self_url=loop, next_url=loop))
    client = FhirClient(BASE, deadline=Deadline(2))
    with pytest.raises(FhirFetchError) as err:
        client.search("Condition?patient=x")
    assert err.value.reason == "paging-loop"


@responses.activate
def test_page_and_size_caps():
    nxt = getpages_url("many", 1, 1)
    responses.get(f"{BASE}/Condition", json=searchset([resource("Condition", PID)], self_url="c", next_url=nxt))
    client = FhirClient(BASE, deadline=Deadline(2), policy=FetchPolicy(max_pages=1))
    with pytest.raises(FhirFetchError) as err:
        client.search("Condition")
    assert err.value.reason == "too-many-pages"
    responses.get(f"{BASE}/Patient/big", json={"resourceType": "Patient", "id": "big", "text": {"div": "x" * 5000}})
    client = FhirClient(BASE, deadline=Deadline(2), policy=FetchPolicy(max_bytes=1000))
    with pytest.raises(FhirFetchError) as err:
        client.read("Patient/big", "Patient")
    assert err.value.reason == "too-large"


def test_policy_refuses_non_http_next_links():
    client = FhirClient(BASE, deadline=Deadline(2))
    with pytest.raises(FhirFetchError) as err:
        client.follow_next({"resourceType": "Bundle", "link": [{"relation": "next", "url": "file:///etc/passwd"}]})
    assert err.value.reason == "policy"


@responses.activate
def test_keys_are_fetched_concurrently():
    delay = 0.25
    active, peak = [0], [0]
    lock = threading.Lock()

    def slow(request):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(delay)
        with lock:
            active[0] -= 1
        rtype = request.url.split("/fhir/")[1].split("?")[0].split("/")[0]
        if rtype == "Patient":
            return 200, {}, '{"resourceType": "Patient", "id": "%s"}' % PID
        return 200, {}, '{"resourceType": "Bundle", "type": "searchset"}'

    import re as _re
    responses.add_callback(responses.GET, _re.compile(rf"{BASE}/.*"), callback=slow)
    started = time.monotonic()
    resolve(hook_request())
    elapsed = time.monotonic() - started
    assert peak[0] >= 3, peak
    assert elapsed < delay * len(TEMPLATES) * 0.75


@responses.activate
def test_overall_deadline_gives_412_in_time():
    def hang(request):
        time.sleep(0.6)
        return 200, {}, '{"resourceType": "Bundle", "type": "searchset"}'

    mock_server(responses, obs_pages=1)
    responses.remove(responses.GET, f"{BASE}/Observation")
    responses.add_callback(responses.GET, f"{BASE}/Observation", callback=hang)
    fast = Config(request_deadline_s=0.2, fhir_connect_timeout_s=0.5, fhir_read_timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(CdsError) as err:
        resolve(hook_request(), config=fast)
    assert time.monotonic() - started < 0.5
    assert err.value.status == 412
    assert "deadline" in err.value.issues[0].diagnostics


@responses.activate
def test_token_and_patient_id_are_never_logged(caplog):
    mock_server(responses, obs_pages=2, med_status=500)
    with caplog.at_level(logging.DEBUG):
        resolve(hook_request())
    assert TOKEN not in caplog.text
    assert PID not in caplog.text


def test_template_rendering_encodes_context_values():
    tpl = prefetch.Template.parse("x", "Condition?patient={{context.patientId}}&_count=5")
    assert tpl.render({"patientId": "a b&c"}) == "Condition?patient=a%20b%26c&_count=5"
    user = prefetch.Template.parse("u", "Practitioner/{{userPractitionerId}}")
    assert user.is_read and user.resource_type == "Practitioner"
    assert user.render({"userId": "Practitioner/dr1"}) == "Practitioner/dr1"
    with pytest.raises(prefetch.UnresolvedToken):
        user.render({"userId": "PractitionerRole/r1"})


# -- through the HTTP endpoint -----------------------------------------------------------------
def test_hook_without_server_or_prefetch_is_412(client):
    resp = client.post("/cds-services/myeloma-relapse", json=hook_request(None, server=None, token=None))
    assert resp.status_code == 412
    body = resp.get_json()
    assert_operation_outcome(body, expression="prefetch.observations", contains="no fhirServer")


@responses.activate
def test_hook_with_failing_server_is_412(client):
    responses.get(BASE + "/Patient/" + PID, status=503)
    responses.get(__import__("re").compile(BASE + "/.*"), status=503)
    resp = client.post("/cds-services/myeloma-relapse", json=hook_request(None))
    assert resp.status_code == 412
    body = resp.get_json()
    assert_operation_outcome(body, contains="HTTP 503")
    assert TOKEN not in resp.get_data(as_text=True)
