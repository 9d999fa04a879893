"""The FHIR client's policy for one request: stay under the allowed fhirServer base.

`fhir.client.FhirClient._get` calls `policy.check_url` before every request, so the first
URL, every `Bundle.link[next]` and anything else the client would fetch must lie on the
fhirServer's origin and under its base path; the access token therefore never leaves that
origin. Redirects are never followed (the client sets allow_redirects=False and treats a
3xx as a failure). Caps and retries come from the config (CDS_FHIR_MAX_*).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import has_request_context

from ..fhir.client import FetchPolicy, FhirFetchError
from .flask_auth import allowed_fhir_base
from .url_policy import FhirBase, UrlPolicyError, parse_fhir_base, url_within_base


@dataclass
class SameBasePolicy(FetchPolicy):
    base: FhirBase | None = None

    def check_url(self, url: str, *, base_url: str) -> None:
        super().check_url(url, base_url=base_url)
        if self.base is None:
            raise FhirFetchError("policy", "no allowed FHIR server for this request")
        try:
            url_within_base(url, self.base)
        except UrlPolicyError:
            raise FhirFetchError(
                "policy", "refused a FHIR URL outside the fhirServer's origin and base path"
            ) from None


def policy_for(base: FhirBase, config) -> SameBasePolicy:
    """The policy for a request whose fhirServer passed `allowed_fhir_base`."""
    defaults = FetchPolicy()
    return SameBasePolicy(
        max_pages=int(getattr(config, "fhir_max_pages", defaults.max_pages)),
        max_entries=int(getattr(config, "fhir_max_entries", defaults.max_entries)),
        max_bytes=int(getattr(config, "fhir_max_bytes", defaults.max_bytes)),
        max_call_bytes=int(getattr(config, "fhir_max_call_bytes", defaults.max_call_bytes)),
        max_retries=int(getattr(config, "fhir_max_retries", defaults.max_retries)),
        page_workers=int(getattr(config, "fhir_page_workers", defaults.page_workers)),
        base=base,
    )


def policy_for_request(fhir_server: object, config) -> SameBasePolicy:
    """Gate + policy for dereferencing `fhir_server` now, or UrlPolicyError.

    Inside an HTTP request the trust rules apply (flask_auth.allowed_fhir_base: with
    CDS_AUTH=jwt only the verified client's fhir_servers). Outside one (the operator's own
    CLI `assess --fetch`) the URL only has to be well-formed; the same-base rule still holds.
    """
    base = allowed_fhir_base(fhir_server) if has_request_context() else parse_fhir_base(fhir_server)
    return policy_for(base, config)
