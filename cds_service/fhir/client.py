"""A small read-only FHIR client for one hook call: reads, searches, Bundle paging.

Every HTTP request goes through `FhirClient._get`, the single choke point where the URL
policy, size caps and the call's deadline are applied. `FetchPolicy` is the extension point
for the trust layer (allow-list, https only, same-origin next links, retries): pass a
subclass or another object with the same attributes. Failures raise `FhirFetchError` with a
machine-readable `reason`; messages never contain URLs (they carry patient ids) or tokens.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from cds_service.http.safe_json import loads_bounded
from cds_service import metrics
from cds_service.fhir.paging import match_count, remaining_page_urls, request_total
from fhir_mappings.bundles import BundleFault, bundle_entries

log = logging.getLogger(__name__)

FHIR_ACCEPT = "application/fhir+json"
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class FhirFetchError(Exception):
    """A FHIR request that did not yield usable data. `reason` is a short code."""

    def __init__(self, reason: str, message: str, status: int | None = None):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message


class CallBudget:
    """Bytes one hook call may read from FHIR servers, across all its requests and threads
    (CDS_FHIR_MAX_CALL_BYTES): the per-response cap alone let a call that reads eight keys
    at once hold eight capped bodies."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.used = 0
        self._lock = threading.Lock()

    def take(self, n: int) -> None:
        with self._lock:
            self.used += n
            over = self.used > self.max_bytes
        if over:
            raise FhirFetchError("call-too-large", "the FHIR data of this call exceed what the service reads per call")

    def give_back(self, n: int) -> None:
        """A refused answer's bytes are dropped with it: they no longer count against the call
        (so a big optional answer that failed cannot starve the small required ones after it)."""
        with self._lock:
            self.used -= n


class Deadline:
    """One monotonic deadline shared by every request of a hook call."""

    def __init__(self, seconds: float, clock=time.monotonic):
        self._clock = clock
        self.expires_at = clock() + seconds

    def remaining(self) -> float:
        return self.expires_at - self._clock()

    def check(self) -> float:
        left = self.remaining()
        if left <= 0:
            raise FhirFetchError("deadline", "the FHIR server did not answer within the request deadline")
        return left


@dataclass
class FetchPolicy:
    """Limits and URL rules for outgoing FHIR requests (defaults: permissive but bounded)."""

    max_pages: int = 100  # pages followed per search
    max_entries: int = 50_000  # entries accepted per search
    max_bytes: int = 32 * 1024 * 1024  # bytes accepted per response
    max_call_bytes: int = 40 * 1024 * 1024  # bytes accepted per hook call, all responses together
    max_retries: int = 2  # GET retries on connection errors, 429 and 5xx, within the deadline
    backoff_s: float = 0.05  # first retry pause; doubles each retry
    page_workers: int = 3  # pages of one search fetched at once when its links allow (fhir/paging.py); 1: one by one

    def check_url(self, url: str, *, base_url: str) -> None:
        """Raise FhirFetchError('policy', ...) for a URL the client must not request."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise FhirFetchError("policy", "refused a FHIR URL that is not absolute http(s)")


def bundle_next_url(bundle: dict) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return link["url"]
    return None


class FhirClient:
    """Read-only access to one FHIR base URL with an optional Bearer token."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        deadline: Deadline,
        connect_timeout: float = 1.0,
        read_timeout: float = 2.0,
        policy: FetchPolicy | None = None,
        session: requests.Session | None = None,
        budget: CallBudget | None = None,
    ):
        self.base_url = base_url.rstrip("/") + "/"
        self._token = token
        self.deadline = deadline
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.policy = policy or FetchPolicy()
        # shared by every client of one hook call (prefetch._fetch_all); else this client's own
        self.budget = budget or CallBudget(getattr(self.policy, "max_call_bytes", FetchPolicy.max_call_bytes))
        self._session = session or requests.Session()
        self.requests_made = 0

    def __repr__(self) -> str:  # never show the token
        return f"FhirClient(base_url={self.base_url!r}, token={'***' if self._token else None})"

    def close(self) -> None:
        self._session.close()

    # -- public API -------------------------------------------------------------------------
    def url_for(self, relative: str) -> str:
        return urljoin(self.base_url, relative.lstrip("/"))

    def read(self, relative: str, expected_type: str) -> dict:
        resource = self._get(self.url_for(relative))
        if resource.get("resourceType") != expected_type:
            raise FhirFetchError(
                "wrong-type", f"expected a {expected_type}, the FHIR server returned {resource.get('resourceType')!r}"
            )
        return resource

    def search(self, relative: str) -> list[dict]:
        """All resources of a search, following every Bundle.link[next]. With page_workers > 1
        the server is asked for the total, and offset-paged searches (HAPI, sekmet) have their
        remaining pages fetched at once: the same pages, the same number of round trips."""
        concurrent = self.policy.page_workers > 1
        first = self._get_bundle(self.url_for(request_total(relative) if concurrent else relative))
        if concurrent:
            resources = self._collect_concurrently(first)
            if resources is not None:
                return resources
        return self._collect(first)

    def follow_next(self, bundle: dict) -> list[dict]:
        """Resources of the pages after `bundle` (which the caller already holds)."""
        url = bundle_next_url(bundle)
        if url is None:
            return []
        page = self._get_bundle(self._resolve_link(url))
        return self._collect(page, pages_before=1)

    # -- internals --------------------------------------------------------------------------
    def _collect_concurrently(self, first: dict) -> list[dict] | None:
        """Resources of every page, the pages after the first fetched at once; None when the
        pages cannot be derived from the first, or did not come back as announced (the caller
        then pages sequentially: a record is never judged from a partial read)."""
        url = bundle_next_url(first)
        urls = remaining_page_urls(first, self._resolve_link(url)) if url else None
        if not urls:
            return None
        if 1 + len(urls) > self.policy.max_pages:
            raise FhirFetchError("too-many-pages", "the search has more pages than the service follows")
        if first["total"] > self.policy.max_entries:
            raise FhirFetchError("too-many-entries", "the search returned more entries than the service accepts")
        pages = self._get_bundles(urls)
        size, total = match_count(first), first["total"]
        expected = [size] * len(urls)
        expected[-1] = total - size * len(urls)
        if [match_count(p) for p in pages] != expected or bundle_next_url(pages[-1]) is not None:
            log.info("concurrent pages differ from the announced total; paging one by one")
            return None
        return [r for page in (first, *pages) for r in _bundle_resources(page)]

    def _get_bundles(self, urls: list[str]) -> list[dict]:
        """GET each URL (a Bundle), up to policy.page_workers at once, one session per thread."""
        local, clients = threading.local(), []

        def fetch(url: str) -> dict:
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = FhirClient(
                    self.base_url, token=self._token, deadline=self.deadline, connect_timeout=self.connect_timeout,
                    read_timeout=self.read_timeout, policy=self.policy)
                clients.append(client)
            return client._get_bundle(url)

        try:
            with ThreadPoolExecutor(max_workers=min(self.policy.page_workers, len(urls)),
                                    thread_name_prefix="fhir-page") as pool:
                return list(pool.map(fetch, urls))
        finally:
            for client in clients:
                self.requests_made += client.requests_made
                client.close()

    def _collect(self, bundle: dict, pages_before: int = 0) -> list[dict]:
        out: list[dict] = []
        seen: set[str] = set()
        pages = pages_before
        while True:
            pages += 1
            out.extend(_bundle_resources(bundle))
            if len(out) > self.policy.max_entries:
                raise FhirFetchError("too-many-entries", "the search returned more entries than the service accepts")
            url = bundle_next_url(bundle)
            if url is None:
                return out
            url = self._resolve_link(url)
            if url in seen:
                raise FhirFetchError("paging-loop", "the FHIR server's next links loop")
            seen.add(url)
            if pages >= self.policy.max_pages:
                raise FhirFetchError("too-many-pages", "the search has more pages than the service follows")
            bundle = self._get_bundle(url)

    def _resolve_link(self, url: str) -> str:
        return urljoin(self.base_url, url)

    def _get_bundle(self, url: str) -> dict:
        body = self._get(url)
        if body.get("resourceType") != "Bundle":
            raise FhirFetchError("wrong-type", f"expected a Bundle, the FHIR server returned {body.get('resourceType')!r}")
        return body

    def _get(self, url: str) -> dict:
        """The one place an HTTP request is made: policy check, then bounded retries (GET is
        idempotent) with exponential backoff, never past the call's deadline."""
        self.policy.check_url(url, base_url=self.base_url)
        attempt = 0
        while True:
            try:
                return self._get_once(url)
            except FhirFetchError as err:
                retryable = err.reason in ("timeout", "connection") or (
                    err.reason == "http-status" and err.status in RETRYABLE_STATUS
                )
                pause = self.policy.backoff_s * (2**attempt)
                if not retryable or attempt >= self.policy.max_retries or self.deadline.remaining() <= pause:
                    raise
                attempt += 1
                time.sleep(pause)

    def _get_once(self, url: str) -> dict:
        left = self.deadline.check()
        headers = {"Accept": FHIR_ACCEPT}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        timeout = (min(self.connect_timeout, left), min(self.read_timeout, left))
        started = time.monotonic()
        self.requests_made += 1
        try:
            with self._session.get(url, headers=headers, timeout=timeout, stream=True, allow_redirects=False) as resp:
                content = _read_capped(resp, self.policy.max_bytes, self.deadline, self.budget)
                status = resp.status_code
        except requests.Timeout as exc:
            raise FhirFetchError("timeout", "the FHIR server did not answer in time") from exc
        except requests.RequestException as exc:
            raise FhirFetchError("connection", f"could not reach the FHIR server ({type(exc).__name__})") from exc
        log.debug("FHIR GET -> %s in %.0f ms", status, (time.monotonic() - started) * 1000)
        metrics.observe_fhir_fetch(time.monotonic() - started, len(content), status)
        if status != 200:
            raise FhirFetchError("http-status", f"the FHIR server answered HTTP {status}", status=status)
        try:
            body = loads_bounded(content)
        except ValueError as exc:  # also JsonRefused: too deep, NaN, lone surrogates, NUL
            raise FhirFetchError("not-json", "the FHIR server's answer is not JSON the service accepts") from exc
        finally:
            del content  # the raw bytes go before the parsed tree grows
        if not isinstance(body, dict):
            raise FhirFetchError("not-json", "the FHIR server's answer is not a JSON object")
        return body


def _read_capped(resp: requests.Response, max_bytes: int, deadline: Deadline | None = None,
                 budget: CallBudget | None = None) -> bytearray:
    """The body, read into one growing buffer (no list of chunks joined into a second copy),
    refused as soon as it passes the response cap or the call's budget."""
    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FhirFetchError("too-large", "the FHIR server's answer is larger than the service accepts")
    body = bytearray()
    try:
        _read_into(body, resp, max_bytes, deadline, budget)
    except FhirFetchError:
        if budget is not None:
            budget.give_back(len(body))
        raise
    return body


def _read_into(body: bytearray, resp: requests.Response, max_bytes: int, deadline: Deadline | None,
               budget: CallBudget | None) -> None:
    while True:
        # read1: one socket read at a time, so a server that drips bytes cannot hold the call
        # past its deadline (each read waits at most the read timeout).
        try:
            chunk = resp.raw.read1(65536, decode_content=True)
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
            raise FhirFetchError("timeout", "the FHIR server did not answer in time") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise FhirFetchError("connection", f"the FHIR server's answer broke off ({type(exc).__name__})") from exc
        if not chunk:
            return
        if deadline is not None:
            deadline.check()
        if budget is not None:
            try:
                budget.take(len(chunk))
            except FhirFetchError:
                budget.give_back(len(chunk))  # this chunk is dropped too
                raise
        if len(body) + len(chunk) > max_bytes:
            if budget is not None:
                budget.give_back(len(chunk))
            raise FhirFetchError("too-large", "the FHIR server's answer is larger than the service accepts")
        body += chunk


def _bundle_resources(bundle: dict) -> list[dict]:
    """The resources of a Bundle the FHIR server answered (the one flattener,
    fhir_mappings.bundles): a malformed one is the server's fault, a failed fetch."""
    try:
        return [res for _, res in bundle_entries(bundle)]
    except BundleFault as fault:
        raise FhirFetchError("invalid-bundle", f"the FHIR server returned a malformed Bundle ({fault.path})") from None
