"""Flatten Bundles and CDS Hooks prefetch into a plain list of resources."""
from __future__ import annotations

from typing import Any


def resources_from_bundle(bundle: dict) -> list[dict]:
    """The resources of a Bundle's entries (nested Bundles flattened, nothing followed).

    OperationOutcomes (search warnings, `entry.search.mode = outcome`) are skipped.
    """
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


def _collect(value: Any, out: list[dict]) -> None:
    if not isinstance(value, dict):
        return
    rtype = value.get("resourceType")
    if rtype == "Bundle":
        for entry in value.get("entry") or ():
            if isinstance(entry, dict):
                _collect(entry.get("resource"), out)
    elif rtype == "OperationOutcome" or not isinstance(rtype, str):
        return
    else:
        out.append(value)
