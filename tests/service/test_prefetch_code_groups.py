"""Fallback fetch of the `observations` key as concurrent code-group searches (`responses`):
the split keeps the template's codes, the groups are in flight together, the results are
merged without duplicates, caps apply to the key as a whole, one failing group is a 412."""
from __future__ import annotations

import json
import re
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from cds_service.errors import CdsError
from cds_service.fhir_client import FetchPolicy
from cds_service.prefetch import Template, split_code_search
from tests.service.hapi_bundles import BASE, observation, resource, searchset
from tests.service.test_prefetch import PID, TEMPLATES, hook_request, resolve

OBS_TEMPLATE = Template.parse("observations", TEMPLATES["observations"])
GROUP_SEARCHES = split_code_search(OBS_TEMPLATE.render({"patientId": PID}))


def _codes(relative: str) -> list[str]:
    return parse_qs(urlsplit(relative).query)["code"][0].split(",")


def test_split_partitions_the_template_codes_and_keeps_the_other_parameters():
    whole = _codes(OBS_TEMPLATE.render({"patientId": PID}))
    parts = [_codes(s) for s in GROUP_SEARCHES]
    assert 3 <= len(parts) <= 4
    assert sorted(c for p in parts for c in p) == sorted(whole)  # nothing lost, added or repeated
    assert "http://loinc.org|33358-3" in parts[0] and "http://loinc.org|36916-5" in parts[0]  # markers together
    for search in GROUP_SEARCHES:
        query = parse_qs(urlsplit(search).query)
        assert search.startswith("Observation?") and query["patient"] == [PID]
        assert query["_count"] == parse_qs(urlsplit(TEMPLATES["observations"]).query)["_count"]


def test_other_searches_are_not_split():
    assert split_code_search(f"Condition?patient={PID}&_count=1000") == [f"Condition?patient={PID}&_count=1000"]
    single = f"Observation?patient={PID}&code=http://loinc.org|33358-3,http://loinc.org|36916-5"
    assert split_code_search(single) == [single]


class GroupServer:
    """Observation searches answered per code group, two pages each; every group's first
    page waits on a barrier until all groups have asked, so a sequential client fails."""

    def __init__(self, *, shared=None, fail_group=None, barrier=True):
        self.groups = {tuple(_codes(s)): i for i, s in enumerate(GROUP_SEARCHES)}
        n = len(self.groups)
        self.pages = {i: ([observation(PID) for _ in range(2)], [observation(PID) for _ in range(2)]) for i in range(n)}
        if shared is not None:  # the same resource returned by two groups
            for i in (0, 1):
                self.pages[i][1].append(shared)
        self.fail_group = fail_group
        self.barrier = threading.Barrier(n, timeout=3) if barrier else None
        self.log: list[tuple[int, int]] = []  # (group, page) in request order
        self.lock = threading.Lock()

    def __call__(self, request):
        query = parse_qs(urlsplit(request.url).query)
        if "grp" in query:
            group, page = int(query["grp"][0]), 1
        else:
            group, page = self.groups[tuple(query["code"][0].split(","))], 0
        with self.lock:
            self.log.append((group, page))
        if page == 0 and self.barrier is not None:
            self.barrier.wait()
        if page == 1 and group == self.fail_group:
            return 500, {}, '{"resourceType": "OperationOutcome"}'
        nxt = f"{BASE}/Observation?grp={group}&_offset=2" if page == 0 else None
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps(
            searchset(self.pages[group][page], self_url=request.url, next_url=nxt))

    def all_ids(self) -> set[str]:
        return {r["id"] for pages in self.pages.values() for page in pages for r in page}


def serve(rsps, server: GroupServer) -> None:
    rsps.get(f"{BASE}/Patient/{PID}", json={"resourceType": "Patient", "id": PID, "birthDate": "1955-03-01"})
    rsps.add_callback(responses.GET, re.compile(re.escape(f"{BASE}/Observation") + r"\?.*"), callback=server)
    for rtype in ("Condition", "MedicationStatement", "MedicationRequest", "MedicationAdministration",
                  "Procedure", "DiagnosticReport"):
        rsps.get(f"{BASE}/{rtype}", json=searchset([resource(rtype, PID)] if rtype == "Condition" else [], self_url=rtype))


@responses.activate
def test_groups_are_fetched_concurrently_and_merged_without_duplicates():
    shared = observation(PID, code="36916-5")
    server = GroupServer(shared=shared)
    serve(responses, server)
    result = resolve(hook_request())
    n = len(GROUP_SEARCHES)
    # Every group's first page was in flight before any group asked for its second page.
    assert sorted(server.log[:n]) == [(g, 0) for g in range(n)]
    assert sorted(server.log[n:]) == [(g, 1) for g in range(n)]
    ids = [r["id"] for r in result.resources["observations"]]
    assert sorted(ids) == sorted(server.all_ids()) and ids.count(shared["id"]) == 1
    assert result.sources["observations"] == "fetched" and result.data_gaps == []
    obs_calls = [c for c in responses.calls if "/Observation" in c.request.url]
    assert len(obs_calls) == 2 * n
    assert all(c.request.headers["Authorization"] == "Bearer s3cr3t-access-token" for c in obs_calls)


@responses.activate
def test_one_failing_group_makes_the_required_key_412():
    serve(responses, GroupServer(fail_group=len(GROUP_SEARCHES) - 1))
    with pytest.raises(CdsError) as err:
        resolve(hook_request())
    assert err.value.status == 412
    assert [i.expression for i in err.value.issues] == ["prefetch.observations"]
    assert "HTTP 500" in err.value.issues[0].diagnostics


@responses.activate
@pytest.mark.parametrize("policy, reason", [
    # Each group alone is within the cap; the key as a whole (2 pages, 4 entries a group) is not.
    (FetchPolicy(max_pages=len(GROUP_SEARCHES) + 1), "more pages than the service follows"),
    (FetchPolicy(max_entries=2 * len(GROUP_SEARCHES) + 1), "more entries than the service accepts"),
])
def test_page_and_entry_caps_apply_to_the_key_as_a_whole(policy, reason):
    serve(responses, GroupServer(barrier=False))
    with pytest.raises(CdsError) as err:
        resolve(hook_request(), policy=policy)
    assert [i.expression for i in err.value.issues] == ["prefetch.observations"]
    assert reason in err.value.issues[0].diagnostics


@responses.activate
def test_caps_at_the_key_total_are_accepted():
    server = GroupServer(barrier=False)
    serve(responses, server)
    n = len(GROUP_SEARCHES)
    result = resolve(hook_request(), policy=FetchPolicy(max_pages=2 * n, max_entries=4 * n))
    assert {r["id"] for r in result.resources["observations"]} == server.all_ids()
