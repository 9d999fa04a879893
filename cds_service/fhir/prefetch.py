"""Prefetch-or-fetch: turn a hook request into the FHIR resources each prefetch key names.

Per key (docs/cds-hooks.md#prefetch): present -> use it; `null` -> the client found nothing;
absent or an OperationOutcome -> fetch it from `fhirServer`. A supplied search Bundle with a
`next` link is only a first page: its later pages are read when the link stays on the allowed
fhirServer, else the whole search is fetched from fhirServer, else the key counts as not
supplied (never judged from part of the record). Every supplied value is checked first (type,
entries, patient) so bad input is a 400 before any network call; the same walk sorts each
resource for the mapping (`PrefetchResult.resource_set`, fhir_mappings/resource_set.py), so no
resource is walked twice. Fetches of different keys run concurrently under one deadline (one
`FetchPlan`). A required key that can be had neither way -> 412; an optional one -> a data gap.
"""
from __future__ import annotations

import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, NoReturn
from urllib.parse import quote, urljoin

from flask import has_request_context

from cds_service import metrics
from cds_service.http.errors import Issue, bad_request, precondition_failed
from cds_service.http.memory_release import note_bytes
from cds_service.fhir.client import CallBudget, Deadline, FetchPolicy, FhirClient, FhirFetchError, bundle_next_url
from cds_service.security.fetch_policy import policy_for_request
from cds_service.security.url_policy import UrlPolicyError
from fhir_mappings.bundles import BundleFault, bundle_entries, walk_bundle
from fhir_mappings.resource_set import ResourceSet

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"\{\{\s*([^}]+?)\s*\}\}")
_USER_TOKENS = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}
MAX_FETCH_WORKERS = 6


@dataclass(frozen=True)
class Template:
    """A parsed prefetch template: a read (`Patient/{{..}}`) or a type-level search."""

    key: str
    text: str
    resource_type: str
    is_read: bool

    @classmethod
    def parse(cls, key: str, text: str) -> "Template":
        path = text.split("?", 1)[0]
        resource_type = path.split("/", 1)[0]
        return cls(key=key, text=text, resource_type=resource_type, is_read="/" in path and "?" not in text)

    def render(self, context: dict) -> str:
        """The relative URL with every token replaced (values percent-encoded)."""

        def value(match: re.Match) -> str:
            token = match.group(1)
            if token.startswith("context."):
                raw = context.get(token[len("context."):])
            elif token in _USER_TOKENS:
                user = str(context.get("userId") or "")
                kind, _, ident = user.partition("/")
                raw = ident if kind == _USER_TOKENS[token] else None
            else:
                raw = None
            if raw is None or isinstance(raw, (dict, list)):
                raise UnresolvedToken(token)
            return quote(str(raw), safe="")

        return _TOKEN.sub(value, self.text)


class UnresolvedToken(Exception):
    pass


@dataclass
class PrefetchResult:
    """Resources per prefetch key, where each came from, and what could not be had.

    `resource_set` holds the same resources sorted in the one pass each resource gets (type,
    patient ownership, duplicates: fhir_mappings/resource_set.py); the mapping reads it."""

    resources: dict[str, list[dict]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # key -> prefetch|null|fetched|unavailable
    data_gaps: list[str] = field(default_factory=list)
    fetch_ms: float = 0.0
    fetched_bytes: int = 0  # read from FHIR servers in this call (memory_release.py)
    resource_set: ResourceSet = field(default_factory=lambda: ResourceSet(None))

    def all_resources(self) -> list[dict]:
        return [r for rs in self.resources.values() for r in rs]


ClientFactory = Callable[..., FhirClient]


@dataclass
class FetchPlan:
    """What one call must read from its FHIR server, and with what limits and credentials."""

    server: str
    body: dict
    context: dict
    to_fetch: list[Template]  # keys to read or search in full
    to_continue: dict[str, dict]  # key -> supplied first page whose next pages are read
    config: object
    policy: FetchPolicy
    client_factory: ClientFactory = FhirClient


@dataclass
class _Resolution:
    """The state of one resolve() call between its steps."""

    body: dict
    parsed: dict[str, Template]
    required: tuple[str, ...]
    result: PrefetchResult
    to_fetch: list[Template] = field(default_factory=list)
    truncated: dict[str, dict] = field(default_factory=dict)  # key -> supplied Bundle with a next link
    to_continue: dict[str, dict] = field(default_factory=dict)
    missing_required: list[Issue] = field(default_factory=list)

    def unavailable(self, key: str, why: str, *, partial: bool = False) -> None:
        _unavailable(self.result, self.parsed[key], self.required, self.missing_required, why, partial=partial)


def resolve(
    body: dict,
    templates: dict[str, str],
    *,
    required: tuple[str, ...],
    config,
    fetch: bool = True,
    policy: FetchPolicy | None = None,
    client_factory: ClientFactory = FhirClient,
) -> PrefetchResult:
    """Resolve every key of `templates` for the request `body` (already schema-valid)."""
    context = body.get("context") or {}
    # Observations are read into lab series as they are sorted (fhir_mappings/resource_set.py).
    resource_set = ResourceSet(context.get("patientId"), read_observations=True)
    state = _Resolution(body=body, parsed={key: Template.parse(key, text) for key, text in templates.items()},
                        required=required, result=PrefetchResult(resource_set=resource_set))
    _take_supplied(state)
    server = body.get("fhirServer") if fetch else None
    policy, why_not = _fetch_policy(state, server, fetch, policy, config)
    if why_not:
        _give_up_fetching(state, why_not)
    else:
        _plan_truncated(state, server, policy)
    if state.to_fetch or state.to_continue:
        _fetch_and_record(state, FetchPlan(server=server, body=body, context=context, to_fetch=state.to_fetch,
                                           to_continue=state.to_continue, config=config, policy=policy,
                                           client_factory=client_factory))
    for key in state.to_continue:  # first page + later pages, or nothing: sorted once final
        state.result.resource_set.add_all(state.result.resources.get(key, ()))
    metrics.count_prefetch_sources(state.result.sources)
    if state.missing_required:
        raise precondition_failed(state.missing_required)
    return state.result


def _take_supplied(state: _Resolution) -> None:
    """Check every supplied value (400 before any network call) and note what must be fetched."""
    supplied = state.body.get("prefetch") or {}
    result = state.result
    for key, tpl in state.parsed.items():
        if key not in supplied:
            state.to_fetch.append(tpl)
            continue
        value = supplied[key]
        if value is None:
            result.resources[key] = []
            result.sources[key] = "null"
            continue
        if value.get("resourceType") == "OperationOutcome":
            state.to_fetch.append(tpl)  # the client tried and failed
            continue
        truncated = not tpl.is_read and bundle_next_url(value)
        # A first page is sorted only once it is known to be whole (see resolve).
        result.resources[key] = check_supplied(tpl, value, result.resource_set, sort=not truncated)
        result.sources[key] = "prefetch"
        if truncated:
            state.truncated[key] = value


def _fetch_policy(state: _Resolution, server, fetch: bool, policy: FetchPolicy | None, config
                  ) -> tuple[FetchPolicy | None, str | None]:
    """The policy for fetching from `server`, or why nothing may be fetched."""
    if not (state.to_fetch or state.truncated):
        return policy, None
    if not server:
        return policy, "no fhirServer was given" if fetch else "fetching was not requested"
    if policy is None:
        # Trust gate (security/): fhirServer must be allowed for the verified caller; no
        # request at all reaches a refused server. Refused -> 412 for required keys.
        try:
            policy = policy_for_request(server, config)
        except UrlPolicyError as exc:
            return None, f"the fhirServer was refused ({exc})"
    return policy, None


def _give_up_fetching(state: _Resolution, why_not: str) -> None:
    """Nothing can be fetched: keys to fetch and truncated keys count as not supplied."""
    for tpl in state.to_fetch:
        state.unavailable(tpl.key, why_not)
    for key in state.truncated:
        state.unavailable(key, f"{TRUNCATED} and {why_not}", partial=True)
    state.to_fetch = []


def _plan_truncated(state: _Resolution, server: str, policy: FetchPolicy) -> None:
    """A Bundle with a next link is only the first page: never judged as the whole history.
    Its later pages are read when the link stays on the allowed fhirServer; otherwise the
    whole search is fetched from fhirServer."""
    for key, bundle in state.truncated.items():
        if _may_follow(bundle_next_url(bundle), server, policy):
            state.to_continue[key] = bundle
        else:  # e.g. a next link to another host: read the whole search ourselves
            state.result.resources.pop(key, None)
            state.result.sources.pop(key, None)
            state.to_fetch.append(state.parsed[key])


def _fetch_and_record(state: _Resolution, plan: FetchPlan) -> None:
    """Run the fetches; record their time and bytes; failed keys count as not supplied."""
    result = state.result
    started = time.monotonic()
    failures, fetched_bytes = _fetch_all(plan, result)
    result.fetch_ms = (time.monotonic() - started) * 1000
    result.fetched_bytes = fetched_bytes
    if has_request_context():
        note_bytes(fetched_bytes)  # a big call gives its memory back afterwards
    for key, err in failures.items():
        if key in plan.to_continue:
            state.unavailable(key, f"{TRUNCATED}; its later pages could not be read ({err})", partial=True)
        else:
            state.unavailable(key, str(err))


TRUNCATED = "the prefetched Bundle is only the first page of the search (it has a next link)"


def _may_follow(next_url: str | None, server: str, policy: FetchPolicy) -> bool:
    """True if the client may request this next link (on the fhirServer's origin and base)."""
    if not next_url:
        return False
    try:
        policy.check_url(urljoin(str(server).rstrip("/") + "/", next_url), base_url=str(server))
    except FhirFetchError:
        return False
    return True


def _unavailable(result: PrefetchResult, tpl: Template, required, issues: list[Issue], why: str,
                 *, partial: bool = False) -> None:
    """The key counts as not supplied: no resources (never a part of them), 412 if required."""
    result.resources[tpl.key] = []
    result.sources[tpl.key] = "unavailable"
    given = "was supplied only in part" if partial else "was not provided"
    if tpl.key in required:
        issues.append(
            Issue(
                f"Required prefetch key '{tpl.key}' ({tpl.resource_type}) {given} and "
                f"could not be fetched: {why}.",
                code="required",
                expression=f"prefetch.{tpl.key}",
            )
        )
    else:
        result.data_gaps.append(f"{tpl.key}: {tpl.resource_type} data unavailable ({why}); history may be incomplete")


def _fetch_all(plan: FetchPlan, result: PrefetchResult) -> tuple[dict, int]:
    """Fetch every key concurrently under one deadline and one byte budget; returns the
    failures per key and the bytes read."""
    config = plan.config
    deadline = Deadline(config.request_deadline_s)
    budget = CallBudget(int(getattr(config, "fhir_max_call_bytes", FetchPolicy.max_call_bytes)))
    jobs = _fetch_jobs(plan, _client_maker(plan, deadline, budget))
    failures = _run_jobs(jobs, deadline, plan, result)
    for key, err in failures.items():
        log.info("prefetch key %s unavailable: %s", key, err.reason)
    return failures, budget.used


def _client_maker(plan: FetchPlan, deadline: Deadline, budget: CallBudget) -> Callable[[], FhirClient]:
    """A new FHIR client per job (one connection pool each), all under the call's deadline
    and byte budget."""
    config = plan.config
    token = (plan.body.get("fhirAuthorization") or {}).get("access_token")

    def make_client() -> FhirClient:
        return plan.client_factory(
            plan.server,
            token=token,
            deadline=deadline,
            connect_timeout=config.fhir_connect_timeout_s,
            read_timeout=config.fhir_read_timeout_s,
            policy=plan.policy,
            budget=budget,
        )

    return make_client


def _fetch_jobs(plan: FetchPlan, make_client: Callable[[], FhirClient]) -> dict[str, Callable[[], list[dict]]]:
    """key -> the job that reads it: a read or search from its template, or the later pages
    of a supplied first page."""

    def fetch_one(tpl: Template) -> list[dict]:
        client = make_client()
        try:
            try:
                relative = tpl.render(plan.context)
            except UnresolvedToken as exc:
                raise FhirFetchError("template", f"the template token {exc} has no value in the context") from exc
            if tpl.is_read:
                return [client.read(relative, tpl.resource_type)]
            return client.search(relative)
        finally:
            client.close()

    def continue_one(bundle: dict) -> list[dict]:
        client = make_client()
        try:
            return client.follow_next(bundle)
        finally:
            client.close()

    jobs = {tpl.key: partial(fetch_one, tpl) for tpl in plan.to_fetch}
    jobs.update({key: partial(continue_one, bundle) for key, bundle in plan.to_continue.items()})
    return jobs


def _run_jobs(jobs: dict[str, Callable[[], list[dict]]], deadline: Deadline, plan: FetchPlan,
              result: PrefetchResult) -> dict[str, FhirFetchError]:
    """Run the jobs in threads until the deadline; record what arrived, return what failed."""
    failures: dict[str, FhirFetchError] = {}
    pool = ThreadPoolExecutor(max_workers=min(len(jobs), MAX_FETCH_WORKERS), thread_name_prefix="fhir-fetch")
    try:
        futures = {pool.submit(job): key for key, job in jobs.items()}
        done, pending = wait(futures, timeout=max(deadline.remaining(), 0.0))
        for fut in pending:
            fut.cancel()
            failures[futures[fut]] = FhirFetchError("deadline", "the FHIR server did not answer within the request deadline")
        for fut in done:
            key = futures[fut]
            try:
                resources = fut.result()
            except FhirFetchError as err:
                failures[key] = err
                continue
            except Exception as err:  # a bug must not become a 500 with data in it
                log.error("unexpected %s while fetching prefetch key %s", type(err).__name__, key)
                failures[key] = FhirFetchError("internal", "internal error while reading the FHIR server")
                continue
            _record_fetched(result, key, resources, continued=key in plan.to_continue)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return failures


def _record_fetched(result: PrefetchResult, key: str, resources: list[dict], *, continued: bool) -> None:
    """A fetched search or read: sorted at once. Later pages of a supplied first page: another
    patient's resources are dropped, and the key is sorted once whole (resolve)."""
    if continued:
        owns = result.resource_set.owns
        result.resources[key] = result.resources.get(key, []) + [r for r in resources if owns(r)]
        return
    result.resources[key] = resources
    result.sources[key] = "fetched"
    result.resource_set.add_all(resources)


# -- checks on supplied prefetch values -----------------------------------------------------
def check_supplied(tpl: Template, value: dict, resource_set: ResourceSet, *, sort: bool = True) -> list[dict]:
    """Validate one supplied prefetch value (400 naming the problem); return its resources,
    each sorted into `resource_set` in the same pass unless `sort` is False."""
    where = f"prefetch.{tpl.key}"
    rtype = value.get("resourceType")
    patient_id = resource_set.patient_id
    if tpl.is_read:
        if rtype != tpl.resource_type:
            raise bad_request(
                f"Prefetch key '{tpl.key}' must hold a {tpl.resource_type} resource, got {rtype!r}.",
                expression=f"{where}.resourceType",
            )
        if tpl.resource_type == "Patient" and patient_id and value.get("id") not in (None, patient_id):
            raise bad_request(
                f"Prefetch key '{tpl.key}' holds a different patient than context.patientId.",
                expression=f"{where}.id",
            )
        if sort:
            resource_set.add(value)
        return [value]
    if rtype != "Bundle":
        raise bad_request(
            f"Prefetch key '{tpl.key}' must hold a Bundle of {tpl.resource_type} (search result), got {rtype!r}.",
            expression=f"{where}.resourceType",
        )
    resources: list[dict] = []
    append = resources.append
    keep = resource_set.sorter() if sort else resource_set.owns

    def other_patient(i: int) -> NoReturn:
        raise bad_request(
            f"Prefetch key '{tpl.key}' holds a {tpl.resource_type} of a different patient than context.patientId.",
            expression=f"{where}.entry[{i}].resource",
        )

    # The usual entry ({"resource": {"resourceType": <the key's type>, ...}}) inline; from the
    # first other entry on, the one Bundle walker decides (skips, or a 400 naming the entry).
    entries = value.get("entry", [])
    start = 0
    if type(entries) is list:
        rtype_wanted = tpl.resource_type
        for entry in entries:
            res = entry.get("resource") if type(entry) is dict else None
            if type(res) is not dict or res.get("resourceType") != rtype_wanted:
                break
            if not keep(res):
                other_patient(start)
            append(res)
            start += 1
        else:
            return resources

    def visit(i: int, res: dict) -> None:  # type, shape, ownership and duplicates: one pass
        if i < start:
            return  # sorted by the loop above
        if not keep(res):
            other_patient(i)
        append(res)

    try:
        walk_bundle(value, visit, where, allowed_types={tpl.resource_type})
    except BundleFault as fault:
        raise bad_request(fault.message, expression=fault.path) from None
    return resources


def bundle_entries_or_400(bundle: dict, where: str, allowed_types: set[str] | None = None) -> list[tuple[int, dict]]:
    """(index, resource) of a Bundle a client sent; 400 naming the first malformed entry
    (the one flattener, fhir_mappings.bundles, with the client's error)."""
    try:
        return bundle_entries(bundle, where, allowed_types)
    except BundleFault as fault:
        raise bad_request(fault.message, expression=fault.path) from None
