"""Load the demo patients (examples/patients/*.json) into a FHIR server.

Each demo patient is one FHIR R4 transaction Bundle of PUTs to client-assigned ids
(`Patient/mm-vignette`, ...), so loading twice updates instead of duplicating. Used by
`myeloma-cds load-demo --fhir-server URL` (e.g. a HAPI test server or sekmet-fhir).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import requests

# examples/ lives at the repository root; MYELOMA_CDS_EXAMPLES points elsewhere (e.g. in an image).
EXAMPLES_ENV = "MYELOMA_CDS_EXAMPLES"
DEFAULT_EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
TIMEOUT_S = (5.0, 60.0)  # connect, read: a transaction of a few hundred resources


class DemoLoadError(RuntimeError):
    """The demo Bundles could not be found, or the FHIR server did not accept them."""


def demo_bundle_paths() -> list[Path]:
    """The demo transaction Bundles, in a stable order."""
    root = Path(os.environ.get(EXAMPLES_ENV) or DEFAULT_EXAMPLES_DIR)
    paths = sorted((root / "patients").glob("*.json"))
    if not paths:
        raise DemoLoadError(f"no demo Bundles found in {root / 'patients'} (set {EXAMPLES_ENV} to the examples/ directory)")
    return paths


def _reference(entry: dict, request_entry: dict) -> str:
    """`Type/id` of what one transaction-response entry created or updated."""
    location = (entry.get("response") or {}).get("location") or ""
    if location:
        path = urlsplit(location).path if "://" in location else location
        parts = [p for p in path.split("/_history")[0].split("/") if p]
        if len(parts) >= 2:
            return f"{parts[-2]}/{parts[-1]}"
    resource = entry.get("resource") or {}
    if resource.get("resourceType") and resource.get("id"):
        return f"{resource['resourceType']}/{resource['id']}"
    return request_entry["request"]["url"].split("?")[0]


def _post_bundle(session: requests.Session, base: str, path: Path) -> list[str]:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    try:
        resp = session.post(base, json=bundle, timeout=TIMEOUT_S, headers={
            "Content-Type": "application/fhir+json", "Accept": "application/fhir+json",
            "Prefer": "return=minimal"})
    except requests.RequestException as exc:
        raise DemoLoadError(f"cannot reach FHIR server {base}: {exc.__class__.__name__}") from None
    if resp.status_code != 200:
        raise DemoLoadError(f"{path.name}: FHIR server answered HTTP {resp.status_code}: {resp.text[:500]}")
    try:
        response = resp.json()
    except ValueError:
        raise DemoLoadError(f"{path.name}: FHIR server answered with non-JSON content") from None
    entries = response.get("entry") or []
    if response.get("type") != "transaction-response" or len(entries) != len(bundle["entry"]):
        raise DemoLoadError(f"{path.name}: unexpected transaction response "
                            f"(type {response.get('type')!r}, {len(entries)} of {len(bundle['entry'])} entries)")
    refs = []
    for sent, got in zip(bundle["entry"], entries, strict=True):
        status = str((got.get("response") or {}).get("status", ""))
        if not status[:1] == "2":
            raise DemoLoadError(f"{path.name}: {sent['request']['url']} answered {status or 'no status'}")
        refs.append(_reference(got, sent))
    return refs


def load_demo(fhir_server_url: str, *, session: requests.Session | None = None) -> list[str]:
    """POST every demo transaction Bundle to the server base; returns the `Type/id` references
    created or updated, in Bundle order (each Bundle starts with its Patient).

    Raises DemoLoadError naming the Bundle and the server's answer when a transaction fails.
    """
    base = fhir_server_url.rstrip("/")
    own = session is None
    session = session or requests.Session()
    try:
        refs: list[str] = []
        for path in demo_bundle_paths():
            refs += _post_bundle(session, base, path)
        return refs
    finally:
        if own:
            session.close()
