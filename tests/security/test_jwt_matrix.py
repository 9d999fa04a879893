"""JWT matrix (issue 5): each way a client token can be wrong, and that valid ones pass.

Verifier-level here; the same matrix through HTTP (401 vs 200) is in test_auth_http.py.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from cds_service.db import make_engine
from cds_service.security.jwks import JwksCache
from cds_service.security.jwt_verifier import AuthError, JwtVerifier
from cds_service.security.replay import ReplayStore
from cds_service.security.trusted_clients import load_trusted_clients, parse_trusted_clients

from tests.security.jwt_clients import SERVICE_URL, SigningClient

REPO = Path(__file__).resolve().parents[2]
SANDBOX_FILE = REPO / "examples" / "trusted-clients.sandbox.json"
# The sandbox's public key as it publishes it at SANDBOX_JKU (cds-hooks/sandbox,
# build/.well-known/jwks.json; docs/cds-hooks.md#sandbox).
PUBLISHED_SANDBOX_JWKS = {"keys": [{
    "kty": "EC", "use": "sig", "crv": "P-384", "kid": "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f",
    "x": "dw_JGR8nB2I6XveNxUOl2qk699ZPLM2nYI5STSdiEl9avAkrm3CkfYMbrrjr8laB",
    "y": "Sm3mLE-n1zYNla_aiE3cb3nZsL51RbC7ysw3q8aJLxGm-hx79RPMYpITDjp7kgzy",
    "alg": "ES384"}]}
SANDBOX_ISS = "https://sandbox.cds-hooks.org"
SANDBOX_KID = "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"
SANDBOX_JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"
PUBLIC_OTHER = "https://cds.example.test/cds-services/another-service"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict, claims: dict, sign=lambda signing_input: b"") -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def bearer(token: str) -> str:
    return "Bearer " + token


def test_valid_es384_token_verifies(verifier, es_client):
    verified = verifier.verify(bearer(es_client.token(SERVICE_URL)), SERVICE_URL)
    assert verified.iss == es_client.iss
    assert verified.kid == es_client.kid


def test_valid_rs384_token_verifies(verifier, rs_client):
    assert verifier.verify(bearer(rs_client.token(SERVICE_URL)), SERVICE_URL).iss == rs_client.iss


def test_aud_as_array_containing_the_endpoint_verifies(verifier, es_client):
    token = es_client.token([SERVICE_URL, "https://elsewhere.test"])
    assert verifier.verify(bearer(token), SERVICE_URL).iss == es_client.iss


def _expired(c):
    now = int(time.time())
    return c.token(SERVICE_URL, iat=now - 600, exp=now - 120)


def _future_iat(c):
    now = int(time.time())
    return c.token(SERVICE_URL, iat=now + 600, exp=now + 900)


def _wrong_aud(c):
    return c.token(PUBLIC_OTHER)


def _unknown_iss(c):
    return c.token(SERVICE_URL, iss="https://unknown-ehr.example.test")


def _unknown_kid(c):
    return c.token(SERVICE_URL, headers={"kid": "not-a-known-kid"})


def _hs256_with_public_key(c):
    pem = c.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "typ": "JWT", "kid": c.kid}
    return hand_made(header, c.claims(SERVICE_URL),
                     lambda data: hmac.new(pem, data, hashlib.sha256).digest())


def _alg_none(c):
    return hand_made({"alg": "none", "typ": "JWT", "kid": c.kid}, c.claims(SERVICE_URL))


def _jku_elsewhere(c):
    return c.token(SERVICE_URL, headers={"jku": "https://attacker.example/jwks.json"})


def _tampered_payload(c):
    header, _payload, signature = c.token(SERVICE_URL).split(".")
    forged = b64(json.dumps(c.claims(SERVICE_URL, exp=int(time.time()) + 3000)).encode())
    return f"{header}.{forged}.{signature}"


def _no_kid(c):
    return c.token(SERVICE_URL, headers={"kid": None})


def _typ_not_jwt(c):
    return c.token(SERVICE_URL, headers={"typ": "at+jwt"})


def _no_jti(c):
    return c.token(SERVICE_URL, jti=None)


def _no_exp(c):
    return c.token(SERVICE_URL, exp=None)


def _lifetime_over_an_hour(c):
    return c.token(SERVICE_URL, exp=int(time.time()) + 7200)


def _es256_not_allowed(c):
    from cryptography.hazmat.primitives.asymmetric import ec
    return c.token(SERVICE_URL, key=ec.generate_private_key(ec.SECP256R1()), alg="ES256")


def _signed_by_untrusted_key(c):
    impostor = SigningClient("ES384", iss=c.iss, kid=c.kid)  # same iss and kid, other key
    return impostor.token(SERVICE_URL)


REJECTED = {
    "expired": _expired,
    "future iat": _future_iat,
    "wrong aud": _wrong_aud,
    "unknown iss": _unknown_iss,
    "unknown kid": _unknown_kid,
    "HS256 signed with the public key as secret": _hs256_with_public_key,
    "alg none": _alg_none,
    "jku pointing elsewhere": _jku_elsewhere,
    "tampered payload": _tampered_payload,
    "kid missing": _no_kid,
    "typ not JWT": _typ_not_jwt,
    "jti missing": _no_jti,
    "exp missing": _no_exp,
    "lifetime over an hour": _lifetime_over_an_hour,
    "ES256 (not in the allowed set)": _es256_not_allowed,
    "signed by an untrusted key": _signed_by_untrusted_key,
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_bad_token_is_rejected(verifier, es_client, case):
    with pytest.raises(AuthError):
        verifier.verify(bearer(REJECTED[case](es_client)), SERVICE_URL)


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer not.a.jwt"])
def test_missing_or_malformed_authorization_is_rejected(verifier, header):
    with pytest.raises(AuthError):
        verifier.verify(header, SERVICE_URL)


def test_replayed_jti_is_rejected(verifier, es_client):
    jti = str(uuid.uuid4())
    verifier.verify(bearer(es_client.token(SERVICE_URL, jti=jti)), SERVICE_URL)
    with pytest.raises(AuthError, match="replayed"):
        verifier.verify(bearer(es_client.token(SERVICE_URL, jti=jti)), SERVICE_URL)


def test_same_jti_from_two_issuers_is_not_a_replay(verifier, es_client, rs_client):
    jti = str(uuid.uuid4())
    verifier.verify(bearer(es_client.token(SERVICE_URL, jti=jti)), SERVICE_URL)
    verifier.verify(bearer(rs_client.token(SERVICE_URL, jti=jti)), SERVICE_URL)


def test_rejected_token_does_not_burn_its_jti(verifier, es_client):
    jti = str(uuid.uuid4())
    with pytest.raises(AuthError):
        verifier.verify(bearer(es_client.token(PUBLIC_OTHER, jti=jti)), SERVICE_URL)
    assert verifier.verify(bearer(es_client.token(SERVICE_URL, jti=jti)), SERVICE_URL)


def test_replay_store_is_shared_between_verifiers_on_one_database(tmp_path, es_client, rs_client,
                                                                  tenant_client):
    """Two workers (two verifiers, one database) see each other's jtis."""
    from tests.security.jwt_clients import clients_document
    url = f"sqlite:///{tmp_path}/shared.sqlite"
    clients = parse_trusted_clients(clients_document(es_client, rs_client, tenant_client))
    worker_a = JwtVerifier(clients, ReplayStore(make_engine(url)))
    worker_b = JwtVerifier(clients, ReplayStore(make_engine(url)))
    token = es_client.token(SERVICE_URL)
    worker_a.verify(bearer(token), SERVICE_URL)
    with pytest.raises(AuthError, match="replayed"):
        worker_b.verify(bearer(token), SERVICE_URL)


def test_replay_cleanup_removes_only_expired_entries(tmp_path):
    store = ReplayStore(make_engine(f"sqlite:///{tmp_path}/r.sqlite"))
    now = time.time()
    assert store.first_use("iss", "old", now - 10)
    assert store.first_use("iss", "live", now + 300)
    assert store.cleanup(now) == 1
    assert store.first_use("iss", "old", now + 300)  # forgotten after expiry
    assert not store.first_use("iss", "live", now + 300)


def test_tenant_allow_list(verifier, tenant_client):
    assert verifier.verify(bearer(tenant_client.token(SERVICE_URL, tenant="hospital-a")),
                           SERVICE_URL).tenant == "hospital-a"
    with pytest.raises(AuthError, match="tenant"):
        verifier.verify(bearer(tenant_client.token(SERVICE_URL, tenant="hospital-b")), SERVICE_URL)
    with pytest.raises(AuthError, match="tenant"):
        verifier.verify(bearer(tenant_client.token(SERVICE_URL)), SERVICE_URL)


def test_clock_skew_is_small_but_tolerated(verifier, es_client):
    now = int(time.time())
    verifier.verify(bearer(es_client.token(SERVICE_URL, iat=now + 10, exp=now + 300)), SERVICE_URL)
    verifier.verify(bearer(es_client.token(SERVICE_URL, iat=now - 300, exp=now - 10)), SERVICE_URL)
    with pytest.raises(AuthError):
        verifier.verify(bearer(es_client.token(SERVICE_URL, iat=now - 400, exp=now - 60)),
                        SERVICE_URL)


def test_key_of_another_type_under_the_kid_is_refused(tmp_path, es_client):
    """An RS384 token whose kid names an EC key must not verify (no alg confusion)."""
    rsa_signer = SigningClient("RS384", iss=es_client.iss, kid=es_client.kid)
    clients = parse_trusted_clients({"clients": [
        {"iss": es_client.iss, "jwks": {"keys": [es_client.public_jwk]}}]})
    v = JwtVerifier(clients, ReplayStore(make_engine(f"sqlite:///{tmp_path}/r.sqlite")))
    with pytest.raises(AuthError):
        v.verify(bearer(rsa_signer.token(SERVICE_URL)), SERVICE_URL)


def test_symmetric_key_in_jwks_is_never_used(tmp_path, es_client):
    secret = b"shared-secret-that-must-not-work"
    clients = parse_trusted_clients({"clients": [{"iss": es_client.iss, "jwks": {"keys": [
        {"kty": "oct", "kid": "hmac", "k": b64(secret), "alg": "HS256"}]}}]})
    v = JwtVerifier(clients, ReplayStore(make_engine(f"sqlite:///{tmp_path}/r.sqlite")))
    token = jwt.encode(es_client.claims(SERVICE_URL), secret, algorithm="HS256",
                       headers={"kid": "hmac", "typ": "JWT"})
    with pytest.raises(AuthError):
        v.verify(bearer(token), SERVICE_URL)


# -- the CDS Hooks sandbox ------------------------------------------------------------------

def test_example_sandbox_file_carries_the_published_sandbox_jwks():
    clients = load_trusted_clients(str(SANDBOX_FILE))
    sandbox = clients[SANDBOX_ISS]
    assert sandbox.jwks_url == SANDBOX_JKU
    assert sandbox.jwks == PUBLISHED_SANDBOX_JWKS
    key = JwksCache().key_for(sandbox, SANDBOX_KID, "ES384")
    assert key is not None and key.curve.name == "secp384r1"


def test_token_minted_the_sandbox_way_verifies(tmp_path):
    """Header and claims exactly as the sandbox's jwt-generator builds them (docs/cds-hooks.md#sandbox),
    signed by a key registered for the sandbox iss under its jwks_url."""
    signer = SigningClient("ES384", iss=SANDBOX_ISS, kid=SANDBOX_KID)
    clients = parse_trusted_clients({"clients": [{
        "iss": SANDBOX_ISS, "jwks_url": SANDBOX_JKU, "jwks": {"keys": [signer.public_jwk]},
        "fhir_servers": ["https://launch.smarthealthit.org/v/r2/fhir"]}]})
    v = JwtVerifier(clients, ReplayStore(make_engine(f"sqlite:///{tmp_path}/r.sqlite")))
    token = signer.token(SERVICE_URL, headers={"jku": SANDBOX_JKU})  # no tenant, exp now+300
    assert v.verify(bearer(token), SERVICE_URL).iss == SANDBOX_ISS


def test_sandbox_iss_and_kid_with_another_key_fail_against_the_published_jwks(tmp_path):
    """The example file really verifies with the sandbox's public key: a look-alike token
    signed by any other key is refused."""
    impostor = SigningClient("ES384", iss=SANDBOX_ISS, kid=SANDBOX_KID)
    v = JwtVerifier(load_trusted_clients(str(SANDBOX_FILE)),
                    ReplayStore(make_engine(f"sqlite:///{tmp_path}/r.sqlite")))
    with pytest.raises(AuthError, match="token invalid"):
        v.verify(bearer(impostor.token(SERVICE_URL, headers={"jku": SANDBOX_JKU})), SERVICE_URL)
