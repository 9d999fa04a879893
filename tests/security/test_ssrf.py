"""SSRF matrix (issue 5): a fhirServer that is not on the verified client's list, plain
http, next links and redirects to another host. Every refused host receives NO request,
and the answer is a 412 OperationOutcome (required data unobtainable), never a 5xx."""
from __future__ import annotations

import pytest

from cds_service.security.url_policy import (
    UrlPolicyError,
    fhir_server_allowed,
    parse_fhir_base,
    url_within_base,
    validate_allow_entry,
)
from tests.faults.fake_fhir import FakeFhirServer, Reply, patient_and_empty_searches
from tests.schema_assert import assert_operation_outcome
from tests.security.hook_bodies import ACCESS_TOKEN, PATIENT_ID, hook_body
from tests.security.jwt_clients import SERVICE_URL

SERVICE_PATH = "/cds-services/myeloma-relapse"


@pytest.fixture
def allowed():
    with FakeFhirServer() as server:
        server.respond = patient_and_empty_searches(PATIENT_ID, server.origin)
        yield server


@pytest.fixture
def unlisted():
    """A second loopback server that no client lists: it must never be contacted."""
    with FakeFhirServer() as server:
        server.respond = patient_and_empty_searches(PATIENT_ID, server.origin)
        yield server


def call(app, es_client, body):
    return app.test_client().post(
        SERVICE_PATH, json=body, headers={"Authorization": "Bearer " + es_client.token(SERVICE_URL)})


def assert_refused_412(resp):
    assert resp.status_code == 412, resp.data
    outcome = resp.get_json()
    assert_operation_outcome(outcome)
    assert any("refused" in i["diagnostics"] or "could not be fetched" in i["diagnostics"]
               for i in outcome["issue"])


def unlisted_targets(allowed_srv, unlisted_srv):
    host_port = f"127.0.0.1:{allowed_srv.port}"
    return {
        "another loopback server": unlisted_srv.base_url,
        "localhost alias of the allowed server": f"http://localhost:{allowed_srv.port}/fhir",
        "private address": "https://10.0.0.5/fhir",
        "link-local metadata address": "http://169.254.169.254/latest/meta-data",
        "IPv6 loopback": f"http://[::1]:{unlisted_srv.port}/fhir",
        "sibling path on the allowed origin": f"http://{host_port}/admin",
        "path prefix trick": f"http://{host_port}/fhir-evil",
        "dot-segment escape": f"http://{host_port}/fhir/../admin",
        "userinfo trick": f"http://{host_port}@127.0.0.1:{unlisted_srv.port}/fhir",
        "https instead of the listed http": f"https://{host_port}/fhir",
        "not a URL": "javascript:alert(1)",
    }


UNLISTED_CASES = [
    "another loopback server", "localhost alias of the allowed server", "private address",
    "link-local metadata address", "IPv6 loopback", "sibling path on the allowed origin",
    "path prefix trick", "dot-segment escape", "userinfo trick",
    "https instead of the listed http", "not a URL",
]


@pytest.mark.parametrize("case", UNLISTED_CASES)
def test_unlisted_fhir_server_is_refused_without_any_request(jwt_app, es_client, allowed,
                                                             unlisted, case):
    app = jwt_app([allowed.base_url])
    targets = unlisted_targets(allowed, unlisted)
    assert set(targets) == set(UNLISTED_CASES)
    target = targets[case]
    resp = call(app, es_client, hook_body(target))
    assert resp.status_code in (400, 412), resp.data  # "not a URL" fails schema validation
    assert_operation_outcome(resp.get_json())
    assert allowed.seen == [] and unlisted.seen == []


def test_plain_http_is_refused_when_the_entry_is_https(jwt_app, es_client, allowed):
    app = jwt_app(["https://fhir.example.test/r4"])
    resp = call(app, es_client, hook_body("http://fhir.example.test/r4"))
    assert_refused_412(resp)


def test_next_link_to_another_host_is_refused(jwt_app, es_client, allowed, unlisted):
    healthy = patient_and_empty_searches(PATIENT_ID, allowed.origin)

    def respond(path):
        if path.startswith("/fhir/Condition"):
            return Reply.json({"resourceType": "Bundle", "type": "searchset", "entry": [],
                               "link": [{"relation": "next",
                                         "url": unlisted.base_url + "/Condition?page=2"}]})
        return healthy(path)

    allowed.respond = respond
    resp = call(jwt_app([allowed.base_url]), es_client, hook_body(allowed.base_url))
    assert_refused_412(resp)
    assert unlisted.seen == []
    assert any(s.path.startswith("/fhir/Condition") for s in allowed.seen)


def test_next_link_of_a_prefetched_bundle_to_another_host_is_not_followed(
        jwt_app, es_client, allowed, unlisted):
    prefetch = {"conditions": {"resourceType": "Bundle", "type": "searchset", "link": [
        {"relation": "next", "url": unlisted.base_url + "/Condition?page=2"}]}}
    resp = call(jwt_app([allowed.base_url]), es_client,
                hook_body(allowed.base_url, prefetch=prefetch))
    assert resp.status_code != 500
    assert unlisted.seen == []


def test_redirect_to_another_host_is_not_followed(jwt_app, es_client, allowed, unlisted):
    def respond(path):
        return Reply(status=302, headers={"Location": unlisted.base_url + path[len("/fhir"):]})

    allowed.respond = respond
    resp = call(jwt_app([allowed.base_url]), es_client, hook_body(allowed.base_url))
    assert resp.status_code == 412, resp.data
    assert unlisted.seen == []


def test_access_token_is_sent_only_to_the_allowed_origin(jwt_app, es_client, allowed, unlisted):
    """Even when a next link points elsewhere, the token reaches only the allowed server."""
    healthy = patient_and_empty_searches(PATIENT_ID, allowed.origin)
    allowed.respond = lambda p: (Reply.json({"resourceType": "Bundle", "type": "searchset",
                                             "link": [{"relation": "next",
                                                       "url": unlisted.base_url + "/x"}]})
                                 if "Observation" in p else healthy(p))
    call(jwt_app([allowed.base_url]), es_client, hook_body(allowed.base_url))
    assert {s.authorization for s in allowed.seen} == {"Bearer " + ACCESS_TOKEN}
    assert unlisted.seen == []


# -- the policy functions themselves ---------------------------------------------------------

ENTRY = parse_fhir_base("https://fhir.example.org/r4")


@pytest.mark.parametrize("url", [
    "https://fhir.example.org/r4", "https://fhir.example.org/r4/", "https://FHIR.example.org/r4",
    "https://fhir.example.org:443/r4", "https://fhir.example.org/r4/tenant-a",
])
def test_urls_under_an_entry_are_allowed(url):
    assert fhir_server_allowed(url, [ENTRY])


@pytest.mark.parametrize("url", [
    "http://fhir.example.org/r4", "https://fhir.example.org:8443/r4", "https://fhir.example.org/r4x",
    "https://fhir.example.org/", "https://evil.example.org/r4", "https://fhir.example.org.evil.org/r4",
    "https://user:pw@fhir.example.org/r4", "https://fhir.example.org/r4/../r5",
    "https://fhir.example.org/r4/%2e%2e/r5", "https://fhir.example.org/r4?x=1",
    "https://fhir.example.org/r4#f", "ftp://fhir.example.org/r4", "https://fhir.example.org\\@evil/r4",
    "", None, 42,
])
def test_urls_outside_every_entry_are_refused(url):
    with pytest.raises(UrlPolicyError):
        fhir_server_allowed(url, [ENTRY])


@pytest.mark.parametrize("entry, ok", [
    ("https://fhir.example.org/r4", True), ("http://127.0.0.1:8080/fhir", True),
    ("http://localhost:8080/fhir", True), ("http://[::1]:8080/fhir", True),
    ("http://fhir.example.org/r4", False), ("http://10.0.0.5/fhir", False),
])
def test_allow_list_entries_must_be_https_unless_loopback(entry, ok):
    if ok:
        assert validate_allow_entry(entry)
    else:
        with pytest.raises(UrlPolicyError):
            validate_allow_entry(entry)


def test_next_links_must_stay_on_origin_and_base_path():
    assert url_within_base("https://fhir.example.org/r4/Observation?page=2", ENTRY)
    for bad in ("https://fhir.example.org/other/Observation", "https://elsewhere.org/r4/Observation",
                "http://fhir.example.org/r4/Observation"):
        with pytest.raises(UrlPolicyError):
            url_within_base(bad, ENTRY)
