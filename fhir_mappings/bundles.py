"""The one Bundle flattener: a Bundle's entries -> its resources, with the fault named.

`bundle_entries` is strict: the first broken entry raises `BundleFault` with a FHIRPath-like
location, and each caller turns it into its own error (a 400 naming the entry for what a
client sent, cds_service/fhir/prefetch.py; a failed fetch for what a FHIR server answered,
cds_service/fhir/client.py). `resources_from_bundle` and `resources_from_hook_request` are
lenient (for files and tests): broken entries are skipped and nested Bundles flattened.

In every mode OperationOutcome entries (HAPI's `search.mode = outcome` warnings) and entries
that carry no data (a transaction-response entry: `request`, `response` or `fullUrl` without
a resource) are skipped.
"""
from __future__ import annotations

from typing import Any, Callable


class BundleFault(ValueError):
    """A Bundle that is not well formed; `path` names the place, e.g. `$.entry[3].resource`."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def bundle_entries(bundle: dict, where: str = "$", allowed_types: set[str] | frozenset[str] | None = None
                   ) -> list[tuple[int, dict]]:
    """(index, resource) of a Bundle's entries; BundleFault at the first malformed entry or
    at a resource type outside `allowed_types` (None accepts any type)."""
    out: list[tuple[int, dict]] = []
    walk_bundle(bundle, lambda i, res: out.append((i, res)), where, allowed_types)
    return out


def walk_bundle(bundle: dict, visit: Callable[[int, dict], None], where: str = "$",
                allowed_types: set[str] | frozenset[str] | None = None) -> None:
    """`visit(index, resource)` for each usable entry, in the same pass that checks it (the
    hook's hot path: cds_service/fhir/prefetch.py sorts each resource as it is checked);
    BundleFault as `bundle_entries`."""
    _walk(bundle, where, allowed_types, visit, _raise)


def resources_from_bundle(bundle: dict) -> list[dict]:
    """The resources of a Bundle's entries (nested Bundles flattened, nothing followed);
    malformed entries are skipped."""
    out: list[dict] = []
    _collect(bundle, out)
    return out


def resources_from_hook_request(body: dict) -> list[dict]:
    """Every resource in a CDS Hooks request's prefetch: Bundles -> their entries' resources,
    single resources as is, null values (prefetch not available) and OperationOutcomes
    skipped. Prefetch keys are visited in order; duplicates are left for the mapping, which
    counts a resource id once."""
    prefetch = body.get("prefetch") if isinstance(body, dict) else None
    out: list[dict] = []
    if isinstance(prefetch, dict):
        for value in prefetch.values():
            _collect(value, out)
    return out


def _raise(message: str, path: str) -> None:
    raise BundleFault(message, path)


def _skip(message: str, path: str) -> None:
    return None


def _walk(bundle: dict, where: str, allowed_types, emit, fault) -> None:
    """Visit every entry once; `emit(index, resource)` for the usable ones and
    `fault(message, path)` for the broken ones (it raises, or returns to skip the entry)."""
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        fault(f"{where}.entry must be an array.", f"{where}.entry")
        return
    for i, entry in enumerate(entries):
        if type(entry) is not dict:
            fault(f"{where}.entry[{i}] must be an object.", f"{where}.entry[{i}]")
            continue
        res = entry.get("resource")
        if res is None:
            if not (entry.get("request") or entry.get("response") or entry.get("fullUrl")):
                fault(f"{where}.entry[{i}] has no resource.", f"{where}.entry[{i}]")
            continue  # e.g. a transaction-response entry; carries no data
        rtype = res.get("resourceType") if type(res) is dict else None
        if type(rtype) is not str or not rtype:
            fault(f"{where}.entry[{i}].resource must be a FHIR resource with a resourceType.",
                  f"{where}.entry[{i}].resource")
            continue
        if rtype == "OperationOutcome":
            continue
        if allowed_types is not None and rtype not in allowed_types:
            fault(f"{where}.entry[{i}].resource is a {rtype}; expected {' or '.join(sorted(allowed_types))}.",
                  f"{where}.entry[{i}].resource.resourceType")
            continue
        emit(i, res)


def _collect(value: Any, out: list[dict]) -> None:
    """Lenient: a single resource as is, a Bundle's usable entries (nested Bundles too)."""
    if not isinstance(value, dict):
        return
    rtype = value.get("resourceType")
    if rtype == "Bundle":
        _walk(value, "$", None, lambda i, res: _collect(res, out), _skip)
    elif rtype != "OperationOutcome" and isinstance(rtype, str):
        out.append(value)
