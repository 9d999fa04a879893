"""Which URLs the service may fetch: the SSRF policy for `fhirServer`, next links, redirects.

Rules (issue 5, README "Security model"):
- a `fhirServer` is dereferenced only after the caller's JWT verified, and only if it lies
  under one of that client's `fhir_servers` entries (same scheme, host and port; path equal
  to or below the entry's base path);
- https only, unless the allow-list entry itself is http on a loopback host (tests);
- `Bundle.link[next]` and redirects must stay on the same origin and base path as the
  request's `fhirServer`, otherwise the page is refused;
- the access token is only ever sent to that origin (see bounded_fetch.py).
No DNS is resolved here: trust comes from the operator's allow-list, never from the address.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterable
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"https": 443, "http": 80}


class UrlPolicyError(ValueError):
    """A URL is malformed or outside what the policy allows."""


@dataclass(frozen=True)
class FhirBase:
    """A normalised absolute http(s) URL: scheme, host, port and path without trailing '/'."""

    scheme: str
    host: str
    port: int
    path: str

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def contains(self, other: "FhirBase") -> bool:
        """True if `other` is this base or lies below it (path-segment prefix)."""
        if (self.scheme, self.host, self.port) != (other.scheme, other.host, other.port):
            return False
        return other.path == self.path or other.path.startswith(self.path + "/")

    def __str__(self) -> str:  # for logs and messages: never contains credentials
        return f"{self.scheme}://{self.host}:{self.port}{self.path}"


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_fhir_base(url: object, *, allow_query: bool = False) -> FhirBase:
    """Parse and normalise an absolute http(s) URL, refusing tricks: userinfo, fragments,
    dot segments (also percent-encoded), backslashes, control characters, bad ports."""
    if not isinstance(url, str) or not url:
        raise UrlPolicyError("URL must be a non-empty string")
    if len(url) > 4096:
        raise UrlPolicyError("URL too long")
    if any(ord(c) < 0x21 or c == "\\" for c in url):
        raise UrlPolicyError("URL contains whitespace, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlPolicyError("URL is malformed") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise UrlPolicyError("URL scheme must be http or https")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UrlPolicyError("URL must not contain user information")
    host = (parts.hostname or "").lower()
    if not host:
        raise UrlPolicyError("URL has no host")
    if parts.fragment:
        raise UrlPolicyError("URL must not contain a fragment")
    if parts.query and not allow_query:
        raise UrlPolicyError("base URL must not contain a query")
    path = parts.path.rstrip("/")
    segments = unquote(path).split("/")
    if any(seg in (".", "..") for seg in segments) or "%2f" in path.lower():
        raise UrlPolicyError("URL path must not contain dot segments or encoded slashes")
    return FhirBase(scheme, host, port or DEFAULT_PORTS[scheme], path)


def validate_allow_entry(entry: object) -> FhirBase:
    """An allow-list entry (fhir_servers, jwks_url): https, or http only on loopback."""
    base = parse_fhir_base(entry)
    if base.scheme == "http" and not is_loopback_host(base.host):
        raise UrlPolicyError("http is allowed only for loopback hosts; use https")
    return base


def fhir_server_allowed(fhir_server: object, allowed: Iterable[FhirBase]) -> FhirBase:
    """Return the parsed `fhirServer` if it lies under one allowed entry, else raise.

    Entries were validated at load (https, or http on loopback), so an http fhirServer can
    only match an http loopback entry.
    """
    base = parse_fhir_base(fhir_server)
    for entry in allowed:
        if entry.contains(base):
            return base
    raise UrlPolicyError("fhirServer is not on the calling client's fhir_servers list")


def url_within_base(url: object, base: FhirBase) -> FhirBase:
    """For next links and redirects: the URL (query allowed) must stay on the same origin
    and under the same base path as the request's fhirServer, else raise."""
    target = parse_fhir_base(url, allow_query=True)
    if not base.contains(target):
        raise UrlPolicyError("URL leaves the fhirServer's origin and base path")
    return target
