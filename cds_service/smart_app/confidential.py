"""The timeline app as a SMART confidential asymmetric client (SMART App Launch 2.x,
`private_key_jwt`, RFC 7523): many EHRs register only confidential apps.

The browser cannot keep a private key, so the service holds it (`CDS_SMART_CLIENT_KEY`: a PEM
file, EC P-384 -> ES384 or RSA -> RS384), publishes the public half at
`/app/.well-known/jwks.json` (register that URL as the client's JWKS URL), and exchanges the
authorization code itself: the browser posts code, redirect URI and PKCE verifier to
`POST /app/api/token`; the service reads the FHIR server's smart-configuration, signs a client
assertion for its token endpoint and returns the token endpoint's answer.

Only FHIR servers on `CDS_SMART_ALLOWED_ISS` are served (required in this mode), so the
endpoint cannot be used to make the service call arbitrary hosts. Tokens are never logged.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import json
import time
import uuid
from pathlib import Path

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_S = 300  # SMART: no more than five minutes
HTTP_TIMEOUT_S = (2.0, 5.0)
MAX_ANSWER_BYTES = 256 * 1024


class ConfidentialClientError(Exception):
    """The exchange cannot be made; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class ClientKey:
    """The service's signing key with its algorithm and key id (the JWK thumbprint)."""

    def __init__(self, pem: bytes):
        key = serialization.load_pem_private_key(pem, password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp384r1":
            self.alg, public = "ES384", ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
        elif isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 2048:
            self.alg, public = "RS384", RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        else:
            raise ValueError("CDS_SMART_CLIENT_KEY must be an EC P-384 or an RSA (>= 2048 bit) private key")
        self.private_key = key
        self.kid = _thumbprint(public)
        self.public_jwk = {**public, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def jwks(self) -> dict:
        return {"keys": [self.public_jwk]}

    def assertion(self, client_id: str, token_endpoint: str) -> str:
        now = int(time.time())
        claims = {"iss": client_id, "sub": client_id, "aud": token_endpoint,
                  "jti": str(uuid.uuid4()), "iat": now, "exp": now + ASSERTION_LIFETIME_S}
        return jwt.encode(claims, self.private_key, algorithm=self.alg,
                          headers={"kid": self.kid, "typ": "JWT"})


def _thumbprint(jwk: dict) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key's required members."""
    members = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps({k: jwk[k] for k in members}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


@functools.lru_cache(maxsize=4)
def load_client_key(path: str, mtime_ns: int) -> ClientKey:
    """The key of `path`, read again when the file changes (mtime in the cache key)."""
    return ClientKey(Path(path).read_bytes())


def client_key(path: str | None) -> ClientKey | None:
    if not path:
        return None
    return load_client_key(path, Path(path).stat().st_mtime_ns)


def _get_json(session: requests.Session, url: str) -> dict:
    try:
        with session.get(url, headers={"Accept": "application/json"}, timeout=HTTP_TIMEOUT_S,
                         allow_redirects=False, stream=True) as resp:
            raw = resp.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
            status = resp.status_code
    except requests.RequestException as exc:
        raise ConfidentialClientError(f"could not reach {url} ({type(exc).__name__})", 502) from None
    if status != 200 or len(raw) > MAX_ANSWER_BYTES:
        raise ConfidentialClientError(f"{url} answered HTTP {status}", 502)
    try:
        body = json.loads(raw)
    except ValueError:
        raise ConfidentialClientError(f"{url} did not answer with JSON", 502) from None
    if not isinstance(body, dict):
        raise ConfidentialClientError(f"{url} did not answer with a JSON object", 502)
    return body


def exchange_code(key: ClientKey, *, client_id: str, iss: str, allowed_issuers: list[str],
                  code: str, redirect_uri: str, code_verifier: str,
                  session: requests.Session | None = None) -> tuple[int, dict]:
    """Exchange an authorization code at `iss`'s token endpoint with a client assertion.
    Returns the token endpoint's status and JSON answer (an OAuth error passes through)."""
    iss = iss.rstrip("/")
    if not allowed_issuers:
        raise ConfidentialClientError(
            "the service is a confidential client but CDS_SMART_ALLOWED_ISS lists no FHIR server")
    if iss not in allowed_issuers:
        raise ConfidentialClientError(f"this FHIR server is not configured for this app: {iss}")
    session = session or requests.Session()
    conf = _get_json(session, f"{iss}/.well-known/smart-configuration")
    token_endpoint = conf.get("token_endpoint")
    if not isinstance(token_endpoint, str) or not token_endpoint.startswith(("https://", "http://")):
        raise ConfidentialClientError("the smart-configuration has no usable token_endpoint", 502)
    methods = conf.get("token_endpoint_auth_methods_supported")
    if isinstance(methods, list) and "private_key_jwt" not in methods:
        raise ConfidentialClientError("the authorization server does not offer private_key_jwt", 502)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": code_verifier, "client_id": client_id,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": key.assertion(client_id, token_endpoint)}
    try:
        with session.post(token_endpoint, data=form, headers={"Accept": "application/json"},
                          timeout=HTTP_TIMEOUT_S, allow_redirects=False, stream=True) as resp:
            raw = resp.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
            status = resp.status_code
    except requests.RequestException as exc:
        raise ConfidentialClientError(f"could not reach the token endpoint ({type(exc).__name__})", 502) from None
    try:
        body = json.loads(raw) if len(raw) <= MAX_ANSWER_BYTES else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ConfidentialClientError(f"the token endpoint answered HTTP {status} without a JSON object", 502)
    return (200 if status == 200 else 400), body
