"""Trusted CDS clients: who may call us, with which keys, and which FHIR servers they name.

Loaded from the JSON file named by `CDS_TRUSTED_CLIENTS` (issue 5):
`{"clients": [{"iss": ..., "jwks_url": ... and/or "jwks": {"keys": [...]},
"tenants": [...] (optional), "fhir_servers": ["https://fhir.example.org/r4", ...]}]}`.
Errors are raised at load time so a bad file stops the service instead of weakening it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from .url_policy import FhirBase, UrlPolicyError, parse_fhir_base, validate_allow_entry


class TrustedClientsError(ValueError):
    """The trusted-clients file is missing, unreadable or malformed."""


@dataclass(frozen=True)
class TrustedClient:
    iss: str
    jwks: dict | None = None  # inline JWK Set
    jwks_url: str | None = None
    tenants: tuple[str, ...] | None = None  # None: tenant not checked
    fhir_servers: tuple[FhirBase, ...] = field(default_factory=tuple)


def parse_trusted_clients(doc: object) -> dict[str, TrustedClient]:
    """Validate the parsed JSON document; return clients keyed by `iss`."""
    if not isinstance(doc, dict) or not isinstance(doc.get("clients"), list):
        raise TrustedClientsError('expected an object {"clients": [...]}')
    clients: dict[str, TrustedClient] = {}
    for i, raw in enumerate(doc["clients"]):
        where = f"clients[{i}]"
        if not isinstance(raw, dict):
            raise TrustedClientsError(f"{where}: expected an object")
        iss = raw.get("iss")
        if not isinstance(iss, str) or not iss:
            raise TrustedClientsError(f"{where}.iss: required non-empty string")
        if iss in clients:
            raise TrustedClientsError(f"{where}.iss: duplicate issuer {iss!r}")
        jwks = raw.get("jwks")
        jwks_url = raw.get("jwks_url")
        if jwks is None and jwks_url is None:
            raise TrustedClientsError(f"{where}: needs 'jwks' or 'jwks_url'")
        if jwks is not None and (
            not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list)
        ):
            raise TrustedClientsError(f"{where}.jwks: expected a JWK Set {{\"keys\": [...]}}")
        if jwks_url is not None:
            if not isinstance(jwks_url, str):
                raise TrustedClientsError(f"{where}.jwks_url: expected a string")
            try:
                validate_allow_entry(jwks_url)
            except UrlPolicyError as exc:
                raise TrustedClientsError(f"{where}.jwks_url: {exc}") from None
        tenants = raw.get("tenants")
        if tenants is not None:
            if not isinstance(tenants, list) or not all(
                isinstance(t, str) and t for t in tenants
            ):
                raise TrustedClientsError(f"{where}.tenants: expected a list of strings")
            tenants = tuple(tenants)
        servers = raw.get("fhir_servers", [])
        if not isinstance(servers, list):
            raise TrustedClientsError(f"{where}.fhir_servers: expected a list of URLs")
        bases = []
        for j, entry in enumerate(servers):
            try:
                validate_allow_entry(entry)
                bases.append(parse_fhir_base(entry))
            except (UrlPolicyError, TypeError) as exc:
                raise TrustedClientsError(f"{where}.fhir_servers[{j}]: {exc}") from None
        clients[iss] = TrustedClient(
            iss=iss, jwks=jwks, jwks_url=jwks_url, tenants=tenants, fhir_servers=tuple(bases)
        )
    return clients


def load_trusted_clients(path: str | None) -> dict[str, TrustedClient]:
    """Read and validate the trusted-clients file at `path`."""
    if not path:
        raise TrustedClientsError("CDS_TRUSTED_CLIENTS is not set")
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as exc:
        raise TrustedClientsError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise TrustedClientsError(f"{path} is not valid JSON: {exc.msg}") from None
    clients = parse_trusted_clients(doc)
    if not clients:
        raise TrustedClientsError(f"{path} lists no clients")
    return clients
