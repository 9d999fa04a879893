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

import base64
import math
import re
import time
from dataclasses import dataclass

import jwt

from ..http.safe_json import loads_bounded
from .jwks import JwksCache
from .replay import ReplayStore
from .trusted_clients import TrustedClient

ALLOWED_ALGS = frozenset({"ES384", "RS384"})
MAX_TOKEN_LIFETIME_S = 3600  # best practice: JWTs live "no more than an hour"
MAX_TOKEN_CHARS = 8192  # a CDS client JWT is a few hundred bytes; anything huge is refused
MAX_SEGMENT_CHARS = 4096
MAX_TOKEN_JSON_DEPTH = 8
MAX_FIELD_CHARS = 256  # kid, jti
MAX_EPOCH_S = 253402300800  # 10000-01-01T00:00:00Z: datetime cannot go further
BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
SAFE_TEXT = re.compile(r"[A-Za-z0-9 ._+-]*")


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
        header, unverified = token_parts(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ALLOWED_ALGS:
            raise AuthError(f"algorithm {_shown(alg)} not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid or len(kid) > MAX_FIELD_CHARS:
            raise AuthError("kid missing or not a short string")
        if header.get("typ") != "JWT":
            raise AuthError("typ is not JWT")
        iss = unverified.get("iss")
        client = self.clients.get(iss) if isinstance(iss, str) else None
        if client is None:
            raise AuthError("issuer not trusted")
        jku = header.get("jku")
        if jku is not None and jku != client.jwks_url:
            raise AuthError("jku is not the client's configured JWKS URL")
        for claim in ("exp", "iat", "nbf"):
            if claim in unverified and not _is_time(unverified[claim]):
                raise AuthError(f"{claim} is not a number of seconds")
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
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # defence in depth
            raise AuthError(f"token invalid: {type(exc).__name__}") from None
        now = time.time()
        exp = float(claims["exp"])  # a finite number (checked above, before the signature)
        if exp - now > self.max_lifetime_s + self.clock_skew_s:
            raise AuthError("token lifetime too long")
        tenant = claims.get("tenant")
        if client.tenants is not None and tenant not in client.tenants:
            raise AuthError("tenant not allowed")
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti or len(jti) > MAX_FIELD_CHARS:
            raise AuthError("jti invalid")
        if not self.replay.first_use(client.iss, jti, exp + self.clock_skew_s):
            raise AuthError("jti replayed")
        return VerifiedClient(client=client, iss=client.iss,
                              tenant=tenant if isinstance(tenant, str) else None,
                              jti=jti, kid=kid)


def _shown(value: object) -> str:
    """A header value for the log: short strings quoted, anything else only by its type."""
    if isinstance(value, str):
        return repr(value[:16]) if SAFE_TEXT.match(value[:16]) else "(unprintable string)"
    return f"of type {type(value).__name__}"


def _is_time(value: object) -> bool:
    """exp/iat/nbf: a JSON number of seconds within a sane range (numeric strings refused)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and 0 <= value < MAX_EPOCH_S)


def _segment(text: str, what: str) -> dict:
    if not text or len(text) > MAX_SEGMENT_CHARS or not BASE64URL.fullmatch(text):
        raise AuthError(f"malformed token {what}")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value = loads_bounded(raw, max_depth=MAX_TOKEN_JSON_DEPTH)
    except ValueError:  # binascii.Error, JsonRefused, JSONDecodeError, UnicodeDecodeError
        raise AuthError(f"malformed token {what}") from None
    if not isinstance(value, dict):
        raise AuthError(f"malformed token {what}")
    return value


def token_parts(token: str) -> tuple[dict, dict]:
    """(header, payload) of a compact JWS, parsed with the service's bounded JSON parser
    before PyJWT sees the token (which would accept NaN, numeric strings and any depth)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise AuthError("token is not a compact JWS (three segments)")
    return _segment(parts[0], "header"), _segment(parts[1], "payload")


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("no Authorization header")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARS:
        raise AuthError("Authorization: not a Bearer-scheme token, or too long")
    return token
