"""Public keys of trusted clients, from their inline JWK Set or their JWKS URL.

URL sets are cached (TTL) and refreshed when a token names an unknown `kid`, at most once
per `min_refresh_s` per client so an attacker cannot make us hammer a client's server.
Fetches use short timeouts, no redirects and a size cap. Only asymmetric signing keys
(EC P-384 / RSA) are kept: a symmetric ("oct") key in a JWKS is ignored.
"""
from __future__ import annotations

import functools
import json
import logging
import threading
import time

import jwt
import requests

from .trusted_clients import TrustedClient

log = logging.getLogger(__name__)

MAX_JWKS_BYTES = 64 * 1024
KEY_TYPES = {"ES384": "EC", "RS384": "RSA"}


def usable_keys(jwk_set: object) -> dict[str, dict]:
    """kid -> JWK for the asymmetric signing keys in a JWK Set (others skipped)."""
    keys: dict[str, dict] = {}
    if not isinstance(jwk_set, dict) or not isinstance(jwk_set.get("keys"), list):
        return keys
    for jwk in jwk_set["keys"]:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        if jwk.get("kty") not in ("EC", "RSA") or jwk.get("use", "sig") != "sig":
            continue
        if "d" in jwk:  # a private key published by mistake: never use it
            continue
        keys.setdefault(jwk["kid"], jwk)
    return keys


@functools.lru_cache(maxsize=256)
def _key_from_jwk(jwk_json: str, alg: str):
    """Parse a JWK once (keyed by its canonical JSON): key objects are immutable."""
    try:
        return jwt.PyJWK(json.loads(jwk_json), algorithm=alg).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
        return None


class JwksCache:
    """Resolve (client, kid, alg) to a verification key."""

    def __init__(self, *, ttl_s: float = 3600.0, min_refresh_s: float = 60.0,
                 timeout_s: tuple[float, float] = (2.0, 3.0), session=None):
        self.ttl_s = ttl_s
        self.min_refresh_s = min_refresh_s
        self.timeout_s = timeout_s
        self.session = session or requests.Session()
        self._lock = threading.Lock()
        self._fetched: dict[str, tuple[float, dict[str, dict]]] = {}  # iss -> (when, keys)
        self._last_attempt: dict[str, float] = {}

    def key_for(self, client: TrustedClient, kid: str, alg: str):
        """The public key object for `kid`, or None if the client has no such usable key."""
        jwk = self._find(client, kid)
        if jwk is None:
            return None
        if jwk.get("kty") != KEY_TYPES.get(alg):
            return None
        if "alg" in jwk and jwk["alg"] != alg:
            return None
        key = _key_from_jwk(json.dumps(jwk, sort_keys=True), alg)
        if key is None:
            log.warning("unusable JWK for client %s (kid %s)", client.iss, kid)
        return key

    def _find(self, client: TrustedClient, kid: str) -> dict | None:
        if client.jwks is not None:
            jwk = usable_keys(client.jwks).get(kid)
            if jwk is not None or client.jwks_url is None:
                return jwk
        now = time.monotonic()
        with self._lock:
            cached = self._fetched.get(client.iss)
            fresh = cached is not None and now - cached[0] < self.ttl_s
            if fresh and kid in cached[1]:
                return cached[1][kid]
            last = self._last_attempt.get(client.iss)
            if last is not None and now - last < self.min_refresh_s:
                return cached[1].get(kid) if cached else None
            self._last_attempt[client.iss] = now
        keys = self._fetch(client.jwks_url)  # outside the lock: network
        with self._lock:
            if keys is not None:
                self._fetched[client.iss] = (time.monotonic(), keys)
                return keys.get(kid)
            cached = self._fetched.get(client.iss)
            return cached[1].get(kid) if cached else None

    def _fetch(self, url: str) -> dict[str, dict] | None:
        try:
            with self.session.get(url, timeout=self.timeout_s, allow_redirects=False,
                                  stream=True, headers={"Accept": "application/json"}) as resp:
                if resp.status_code != 200:
                    log.warning("JWKS fetch returned HTTP %s", resp.status_code)
                    return None
                body = b""
                for chunk in resp.iter_content(8192):
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        log.warning("JWKS larger than %d bytes refused", MAX_JWKS_BYTES)
                        return None
            return usable_keys(json.loads(body))
        except (requests.RequestException, ValueError) as exc:
            log.warning("JWKS fetch failed: %s", type(exc).__name__)
            return None
