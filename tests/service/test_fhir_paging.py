"""Concurrent paging of offset-paged searches (cds_service/fhir/paging.py, FhirClient.search):
the remaining pages are derived from the first page's total and next link, fetched at once,
and every page is checked; anything unexpected falls back to reading the pages one by one."""
from __future__ import annotations

import pytest
import responses

from cds_service.fhir.client import Deadline, FetchPolicy, FhirClient, FhirFetchError
from cds_service.fhir.paging import remaining_page_urls, request_total
from tests.service.hapi_bundles import BASE, getpages_url, observation, offset_url, searchset

PID = "p1"


def client(workers: int = 3, **policy) -> FhirClient:
    return FhirClient(BASE, deadline=Deadline(10), policy=FetchPolicy(page_workers=workers, **policy))


def hapi_search(rsps, *, n: int, page: int, total: int | None, served: int | None = None) -> list[dict]:
    """A HAPI-like Observation search of `n` matches in pages of `page` (`_getpages` links);
    `served` (default n) is how many the later pages really hold."""
    obs = [observation(PID, value=float(i)) for i in range(n)]
    pages = [obs[i:i + page] for i in range(0, n, page)]
    served_obs = obs[:served] if served is not None else obs
    rsps.get(f"{BASE}/Observation", json=searchset(pages[0], self_url="s", total=total,
                                                   next_url=getpages_url("srch", page, page) if len(pages) > 1 else None))
    for i in range(1, len(pages)):
        chunk = served_obs[i * page:(i + 1) * page]
        nxt = getpages_url("srch", (i + 1) * page, page) if i + 1 < len(pages) else None
        rsps.get(getpages_url("srch", i * page, page), json=searchset(chunk, self_url="x", next_url=nxt),
                 match=[responses.matchers.query_param_matcher(
                     {"_getpages": "srch", "_getpagesoffset": str(i * page), "_count": str(page), "_pretty": "true",
                      "_bundletype": "searchset"})])
    return obs


def test_request_total_asks_for_an_accurate_count_once():
    assert request_total("Observation?patient=p1&_count=1000") == "Observation?patient=p1&_count=1000&_total=accurate"
    assert request_total("Observation") == "Observation?_total=accurate"
    assert request_total("Observation?patient=p1&_total=none") == "Observation?patient=p1&_total=none"


def test_remaining_page_urls_moves_only_the_offset_of_hapi_and_sekmet_links():
    first = searchset([observation(PID) for _ in range(500)], self_url="s", total=1203)
    assert remaining_page_urls(first, getpages_url("abc", 500, 500)) == [
        getpages_url("abc", 500, 500), getpages_url("abc", 1000, 500)]
    assert remaining_page_urls(first, offset_url("Observation", PID, 500, 500)) == [
        offset_url("Observation", PID, 500, 500), offset_url("Observation", PID, 1000, 500)]


@pytest.mark.parametrize("total,link", [
    (None, getpages_url("abc", 2, 2)),  # no total: the page count is unknown
    (5, f"{BASE}?_getpages=abc&_count=2"),  # no offset parameter: opaque link
    (5, getpages_url("abc", 3, 2)),  # offset is not the first page's size
    (5, getpages_url("abc", 2, 3)),  # _count differs from the first page's size
    (5, f"{BASE}/Observation?_offset=2&_getpagesoffset=2&_count=2"),  # two offset parameters
    (2, getpages_url("abc", 2, 2)),  # total says there is no second page
    (True, getpages_url("abc", 2, 2)),  # not a number
])
def test_remaining_page_urls_refuses_what_it_cannot_derive_safely(total, link):
    first = searchset([observation(PID) for _ in range(2)], self_url="s", total=total)
    assert remaining_page_urls(first, link) is None


@responses.activate
def test_offset_pages_are_fetched_concurrently_in_order_with_one_request_per_page():
    obs = hapi_search(responses, n=11, page=3, total=11)
    c = client()
    got = c.search("Observation?patient=p1&_count=3")
    assert [o["id"] for o in got] == [o["id"] for o in obs]
    assert len(responses.calls) == 4 and c.requests_made == 4  # ceil(11 / 3) pages, each once
    assert "_total=accurate" in responses.calls[0].request.url


@responses.activate
def test_pages_that_differ_from_the_announced_total_are_read_again_one_by_one():
    """The server announced 11 but a later page comes back short (data changed, or a server
    whose offsets mean something else): the concurrent result is dropped, not trusted."""
    hapi_search(responses, n=11, page=3, total=11, served=10)
    got = client().search("Observation?patient=p1&_count=3")
    assert len(responses.calls) == 4 + 3  # concurrent attempt, then the three next links again
    assert len(got) == 10  # what the server really serves, read by following its links


@responses.activate
def test_one_worker_pages_one_by_one_without_asking_for_the_total():
    obs = hapi_search(responses, n=7, page=3, total=None)
    got = client(workers=1).search("Observation?patient=p1&_count=3")
    assert [o["id"] for o in got] == [o["id"] for o in obs]
    assert "_total" not in responses.calls[0].request.url


@responses.activate
def test_concurrent_paging_keeps_the_page_and_entry_limits():
    hapi_search(responses, n=12, page=3, total=12)
    with pytest.raises(FhirFetchError) as err:
        client(max_pages=3).search("Observation?patient=p1&_count=3")
    assert err.value.reason == "too-many-pages"
    with pytest.raises(FhirFetchError) as err:
        client(max_entries=10).search("Observation?patient=p1&_count=3")
    assert err.value.reason == "too-many-entries"
