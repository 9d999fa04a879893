"""Wire client authentication and the fhirServer policy into the Flask app.

`install_auth(app)`:
- `CDS_AUTH=jwt`: loads `CDS_TRUSTED_CLIENTS` (refusing to start without it or without
  `CDS_PUBLIC_BASE_URL`), and verifies the Bearer JWT before every discovery, service and
  feedback call (`/cds-services...`) and `/assessment`, except CORS preflight. Failure: bare
  401.
  The verified caller is `flask.g.cds_client` (a VerifiedClient).
- `CDS_AUTH=off` (development only): no verification, a loud warning at start.

`allowed_fhir_base(fhir_server)` is the single gate before any FHIR call: with jwt, the
URL must be on the verified client's `fhir_servers`; with off, on the union of all
trusted clients' lists when a file is configured, else any well-formed http(s) URL
(development, loopback). It raises UrlPolicyError, which the hook turns into 412.
"""
from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g, request

from ..db import engine_for_app
from .jwks import JwksCache
from .jwt_verifier import AuthError, JwtVerifier
from .replay import ReplayStore
from .trusted_clients import TrustedClientsError, load_trusted_clients
from .url_policy import FhirBase, UrlPolicyError, fhir_server_allowed, parse_fhir_base

log = logging.getLogger(__name__)

AUTH_MODES = ("jwt", "off")
# CDS Hooks endpoints, plus POST /assessment (it can fetch a request's fhirServer too).
PROTECTED_PREFIXES = ("/cds-services", "/assessment")


class AuthConfigError(RuntimeError):
    """The service must not start: authentication is required but not configured."""


def _config(app: Flask):
    """The app's Config object (cds_service.config.Config)."""
    return app.config["CDS"]


def install_auth(app: Flask) -> None:
    config = _config(app)
    mode = str(getattr(config, "auth", "off") or "off").strip().lower()
    if mode not in AUTH_MODES:
        raise AuthConfigError(f"CDS_AUTH must be 'jwt' or 'off', not {mode!r}")
    app.extensions["cds_auth_mode"] = mode
    path = getattr(config, "trusted_clients", None)
    clients = {}
    if mode == "jwt" or path:
        try:
            clients = load_trusted_clients(path)
        except TrustedClientsError as exc:
            if mode == "jwt":
                raise AuthConfigError(
                    f"CDS_AUTH=jwt needs trusted clients: {exc}. Set CDS_TRUSTED_CLIENTS to a "
                    "JSON file (see examples/trusted-clients.sandbox.json and README "
                    "'Security model')."
                ) from None
            raise AuthConfigError(f"CDS_TRUSTED_CLIENTS: {exc}") from None
    app.extensions["cds_trusted_clients"] = clients
    if mode == "off":
        app.extensions["cds_verifier"] = None
        log.warning("CDS_AUTH=off: callers are NOT authenticated. Development use on "
                    "loopback only; never expose this service.")
        return

    base_url = str(getattr(config, "public_base_url", None) or "").rstrip("/")
    if not base_url:
        raise AuthConfigError("CDS_AUTH=jwt needs CDS_PUBLIC_BASE_URL (the external base URL "
                              "clients call, used to check each token's aud)")
    verifier = JwtVerifier(
        clients,
        ReplayStore(engine_for_app(app)),
        jwks=JwksCache(),
        clock_skew_s=float(getattr(config, "jwt_clock_skew_s", 30.0)),
    )
    app.extensions["cds_verifier"] = verifier

    @app.before_request
    def _verify_client():
        if request.method == "OPTIONS" or not any(
            request.path == p or request.path.startswith(p + "/") for p in PROTECTED_PREFIXES
        ):
            return None
        try:
            g.cds_client = verifier.verify(request.headers.get("Authorization"),
                                           base_url + request.path)
        except AuthError as exc:
            log.info("client authentication failed: %s", exc.reason)
            return unauthorized()
        return None


def unauthorized() -> Response:
    """Bare 401: no body, no reason (cds-hooks best practice)."""
    return Response(status=401, headers={"WWW-Authenticate": "Bearer"})


def allowed_fhir_base(fhir_server: object, app: Flask | None = None) -> FhirBase:
    """The parsed fhirServer if this request may dereference it, else UrlPolicyError."""
    app = app or current_app
    if app.extensions.get("cds_auth_mode") == "jwt":
        client = getattr(g, "cds_client", None)
        if client is None:  # defence in depth: never reached when the hook ran
            raise UrlPolicyError("fhirServer cannot be used without a verified client")
        return fhir_server_allowed(fhir_server, client.client.fhir_servers)
    clients = app.extensions.get("cds_trusted_clients") or {}
    if clients:
        return fhir_server_allowed(
            fhir_server, [b for c in clients.values() for b in c.fhir_servers])
    return parse_fhir_base(fhir_server)
