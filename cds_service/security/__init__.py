"""Trust boundary of the service: who may call it (JWT), which URLs it may fetch, and
how much work a FHIR server can make it do. See README "Security model"."""
from .flask_auth import AuthConfigError, allowed_fhir_base, install_auth
from .jwt_verifier import AuthError, JwtVerifier, VerifiedClient
from .trusted_clients import TrustedClient, TrustedClientsError, load_trusted_clients
from .url_policy import FhirBase, UrlPolicyError

__all__ = [
    "AuthConfigError", "AuthError", "FhirBase",
    "JwtVerifier", "TrustedClient", "TrustedClientsError", "UrlPolicyError", "VerifiedClient",
    "allowed_fhir_base", "install_auth", "load_trusted_clients",
]
