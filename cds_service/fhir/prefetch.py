"""Prefetch-or-fetch: turn a hook request into the FHIR resources each prefetch key names.

Per key (docs/cds-hooks.md#prefetch): present -> use it; `null` -> the client found nothing;
absent or an OperationOutcome -> fetch it from `fhirServer`. A supplied search Bundle with a
`next` link is only a first page: its later pages are read when the link stays on the allowed
fhirServer, else the whole search is fetched from fhirServer, else the key counts as not
supplied (never judged from part of the record). Every supplied value is checked first (type, entries, patient) so bad input is
a 400 before any network call. Fetches of different keys run concurrently under one deadline.
A required key that can be had neither way -> 412; an optional one -> a data gap.
"""
from __future__ import annotations

import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import quote, urljoin

from flask import has_request_context

from cds_service import metrics
from cds_service.http.errors import Issue, bad_request, precondition_failed
from cds_service.http.memory_release import note_bytes
from cds_service.fhir.client import CallBudget, Deadline, FetchPolicy, FhirClient, FhirFetchError, bundle_next_url
from cds_service.security.fetch_policy import policy_for_request
from cds_service.security.url_policy import UrlPolicyError

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
    """Resources per prefetch key, where each came from, and what could not be had."""

    resources: dict[str, list[dict]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # key -> prefetch|null|fetched|unavailable
    data_gaps: list[str] = field(default_factory=list)
    fetch_ms: float = 0.0
    fetched_bytes: int = 0  # read from FHIR servers in this call (memory_release.py)

    def all_resources(self) -> list[dict]:
        return [r for rs in self.resources.values() for r in rs]


ClientFactory = Callable[..., FhirClient]


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
    patient_id = context.get("patientId")
    supplied = body.get("prefetch") or {}
    parsed = {key: Template.parse(key, text) for key, text in templates.items()}
    result = PrefetchResult()

    to_fetch: list[Template] = []
    truncated: dict[str, dict] = {}  # key -> supplied search Bundle with a next link
    for key, tpl in parsed.items():
        if key not in supplied:
            to_fetch.append(tpl)
            continue
        value = supplied[key]
        if value is None:
            result.resources[key] = []
            result.sources[key] = "null"
            continue
        if value.get("resourceType") == "OperationOutcome":
            to_fetch.append(tpl)  # the client tried and failed
            continue
        result.resources[key] = check_supplied(tpl, value, patient_id)
        result.sources[key] = "prefetch"
        if not tpl.is_read and bundle_next_url(value):
            truncated[key] = value

    # A Bundle with a next link is only the first page: never judged as the whole history.
    # Its later pages are read when the link stays on the allowed fhirServer; otherwise the
    # whole search is fetched from fhirServer; if neither is possible the key counts as not
    # supplied (412 when required).
    server = body.get("fhirServer") if fetch else None
    missing_required: list[Issue] = []
    why_not = None
    if (to_fetch or truncated) and not server:
        why_not = "no fhirServer was given" if fetch else "fetching was not requested"
    elif (to_fetch or truncated) and policy is None:
        # Trust gate (security/): fhirServer must be allowed for the verified caller; no
        # request at all reaches a refused server. Refused -> 412 for required keys.
        try:
            policy = policy_for_request(server, config)
        except UrlPolicyError as exc:
            why_not = f"the fhirServer was refused ({exc})"
    to_continue: dict[str, dict] = {}
    if why_not:
        for tpl in to_fetch:
            _unavailable(result, tpl, required, missing_required, why_not)
        for key in truncated:
            _unavailable(result, parsed[key], required, missing_required,
                         f"{TRUNCATED} and {why_not}", partial=True)
        to_fetch = []
    else:
        for key, bundle in truncated.items():
            if _may_follow(bundle_next_url(bundle), server, policy):
                to_continue[key] = bundle
            else:  # e.g. a next link to another host: read the whole search ourselves
                result.resources.pop(key, None)
                result.sources.pop(key, None)
                to_fetch.append(parsed[key])

    if to_fetch or to_continue:
        started = time.monotonic()
        failures, fetched_bytes = _fetch_all(
            server, body, context, to_fetch, to_continue, result, config, policy, client_factory
        )
        result.fetch_ms = (time.monotonic() - started) * 1000
        result.fetched_bytes = fetched_bytes
        if has_request_context():
            note_bytes(fetched_bytes)  # a big call gives its memory back afterwards
        for key, err in failures.items():
            if key in to_continue:
                _unavailable(result, parsed[key], required, missing_required,
                             f"{TRUNCATED}; its later pages could not be read ({err})", partial=True)
            else:
                _unavailable(result, parsed[key], required, missing_required, str(err))

    metrics.count_prefetch_sources(result.sources)
    if missing_required:
        raise precondition_failed(missing_required)
    return result


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


def _fetch_all(server, body, context, to_fetch, to_continue, result, config, policy,
               client_factory) -> tuple[dict, int]:
    """Fetch every key concurrently under one deadline and one byte budget; returns the
    failures per key and the bytes read."""
    deadline = Deadline(config.request_deadline_s)
    budget = CallBudget(int(getattr(config, "fhir_max_call_bytes", FetchPolicy.max_call_bytes)))
    auth = body.get("fhirAuthorization") or {}
    token = auth.get("access_token")

    def make_client() -> FhirClient:
        return client_factory(
            server,
            token=token,
            deadline=deadline,
            connect_timeout=config.fhir_connect_timeout_s,
            read_timeout=config.fhir_read_timeout_s,
            policy=policy,
            budget=budget,
        )

    def fetch_one(tpl: Template) -> list[dict]:
        client = make_client()
        try:
            try:
                relative = tpl.render(context)
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

    jobs = {tpl.key: (fetch_one, tpl) for tpl in to_fetch}
    jobs.update({key: (continue_one, bundle) for key, bundle in to_continue.items()})
    failures: dict[str, FhirFetchError] = {}
    pool = ThreadPoolExecutor(max_workers=min(len(jobs), MAX_FETCH_WORKERS), thread_name_prefix="fhir-fetch")
    try:
        futures = {pool.submit(fn, arg): key for key, (fn, arg) in jobs.items()}
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
            if key in to_continue:
                resources = [r for r in resources if _same_patient(r, context.get("patientId"))]
                result.resources[key] = result.resources.get(key, []) + resources
            else:
                result.resources[key] = resources
                result.sources[key] = "fetched"
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    for key, err in failures.items():
        log.info("prefetch key %s unavailable: %s", key, err.reason)
    return failures, budget.used


# -- checks on supplied prefetch values -----------------------------------------------------
def check_supplied(tpl: Template, value: dict, patient_id: str | None) -> list[dict]:
    """Validate one supplied prefetch value; return its resources or raise a 400."""
    where = f"prefetch.{tpl.key}"
    rtype = value.get("resourceType")
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
        return [value]
    if rtype != "Bundle":
        raise bad_request(
            f"Prefetch key '{tpl.key}' must hold a Bundle of {tpl.resource_type} (search result), got {rtype!r}.",
            expression=f"{where}.resourceType",
        )
    resources = bundle_entries(value, where, allowed_types={tpl.resource_type})
    for i, res in resources:
        if not _same_patient(res, patient_id):
            raise bad_request(
                f"Prefetch key '{tpl.key}' holds a {res['resourceType']} of a different patient than context.patientId.",
                expression=f"{where}.entry[{i}].resource",
            )
    return [r for _, r in resources]


def bundle_entries(bundle: dict, where: str, allowed_types: set[str] | None = None) -> list[tuple[int, dict]]:
    """(index, resource) of a Bundle's entries; 400 naming the first malformed entry.

    OperationOutcome entries (HAPI's search.mode=outcome) and entries without a resource are
    skipped. `allowed_types` None accepts any resource type.
    """
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise bad_request(f"{where}.entry must be an array.", expression=f"{where}.entry")
    out = []
    for i, entry in enumerate(entries):
        path = f"{where}.entry[{i}]"
        if not isinstance(entry, dict):
            raise bad_request(f"{path} must be an object.", expression=path)
        if "resource" not in entry:
            if entry.get("request") or entry.get("fullUrl"):
                continue  # e.g. a transaction-response entry; carries no data
            raise bad_request(f"{path} has no resource.", expression=path)
        res = entry["resource"]
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str) or not res["resourceType"]:
            raise bad_request(f"{path}.resource must be a FHIR resource with a resourceType.", expression=f"{path}.resource")
        if res["resourceType"] == "OperationOutcome":
            continue
        if allowed_types is not None and res["resourceType"] not in allowed_types:
            raise bad_request(
                f"{path}.resource is a {res['resourceType']}; expected {' or '.join(sorted(allowed_types))}.",
                expression=f"{path}.resource.resourceType",
            )
        out.append((i, res))
    return out


def _same_patient(resource: dict, patient_id: str | None) -> bool:
    """False only when the resource plainly references another Patient."""
    if not patient_id:
        return True
    for field_name in ("subject", "patient"):
        ref = resource.get(field_name)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            reference = ref["reference"]
            marker = "Patient/"
            if marker in reference:
                other = reference.rsplit(marker, 1)[1].split("/", 1)[0]
                return other == patient_id
    return True
