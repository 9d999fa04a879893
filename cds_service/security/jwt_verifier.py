"""Verify a CDS client's Bearer JWT (docs/cds-hooks.md#security; issue 5).

Checks, in order: `Bearer` scheme; header `alg` in {ES384, RS384} (so `none` and every
symmetric algorithm are refused before any key is looked at), `kid` present, `typ` JWT;
`iss` on the allow-list; `jku` (if any) equal to the client's configured JWKS URL;
signature against the client's key for `kid`; `aud` equal to the URL invoked; `exp`, `iat`
with a small clock skew and a maximum lifetime; `tenant` allow-listed when the client has
tenants; `jti` never seen before (last, so forged tokens cannot burn real jtis).
Any failure raises AuthError; the HTTP layer answers a bare 401 and logs only the reason.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from .jwks import JwksCache
from .replay import ReplayStore
from .trusted_clients import TrustedClient

ALLOWED_ALGS = frozenset({"ES384", "RS384"})
MAX_TOKEN_LIFETIME_S = 3600  # best practice: JWTs live "no more than an hour"


class AuthError(Exception):
    """Verification failed. `reason` is for server logs only, never for the response."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class VerifiedClient:
    client: TrustedClient
    iss: str
    tenant: str | None
    jti: str
    kid: str


class JwtVerifier:
    def __init__(self, clients: dict[str, TrustedClient], replay: ReplayStore, *,
                 jwks: JwksCache | None = None, clock_skew_s: float = 30.0,
                 max_lifetime_s: float = MAX_TOKEN_LIFETIME_S):
        self.clients = clients
        self.replay = replay
        self.jwks = jwks or JwksCache()
        self.clock_skew_s = clock_skew_s
        self.max_lifetime_s = max_lifetime_s

    def verify(self, authorization: str | None, audience: str) -> VerifiedClient:
        token = bearer_token(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("malformed token header") from None
        alg = header.get("alg")
        if alg not in ALLOWED_ALGS:
            raise AuthError(f"algorithm {str(alg)[:16]!r} not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("kid missing")
        if header.get("typ") != "JWT":
            raise AuthError("typ is not JWT")
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise AuthError("malformed token payload") from None
        iss = unverified.get("iss")
        client = self.clients.get(iss) if isinstance(iss, str) else None
        if client is None:
            raise AuthError("issuer not trusted")
        jku = header.get("jku")
        if jku is not None and jku != client.jwks_url:
            raise AuthError("jku is not the client's configured JWKS URL")
        key = self.jwks.key_for(client, kid, alg)
        if key is None:
            raise AuthError("no trusted key for kid")
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=audience,
                issuer=client.iss,
                leeway=self.clock_skew_s,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired") from None
        except jwt.ImmatureSignatureError:
            raise AuthError("token issued in the future") from None
        except jwt.InvalidAudienceError:
            raise AuthError("audience is not this endpoint") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"token invalid: {type(exc).__name__}") from None
        now = time.time()
        exp = float(claims["exp"])
        if exp - now > self.max_lifetime_s + self.clock_skew_s:
            raise AuthError("token lifetime too long")
        tenant = claims.get("tenant")
        if client.tenants is not None and tenant not in client.tenants:
            raise AuthError("tenant not allowed")
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            raise AuthError("jti invalid")
        if not self.replay.first_use(client.iss, jti, exp + self.clock_skew_s):
            raise AuthError("jti replayed")
        return VerifiedClient(client=client, iss=client.iss,
                              tenant=tenant if isinstance(tenant, str) else None,
                              jti=jti, kid=kid)


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("no Authorization header")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 16384:
        raise AuthError("Authorization is not a Bearer token")
    return token
