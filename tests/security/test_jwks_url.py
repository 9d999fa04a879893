"""Keys from a client's JWKS URL: fetched, cached, refreshed on an unknown kid (rate-limited),
fetched with timeouts; `jku` honoured only when it equals the configured URL."""
from __future__ import annotations

import json
import time

import pytest

from cds_service.db import make_engine
from cds_service.security.jwks import JwksCache
from cds_service.security.jwt_verifier import AuthError, JwtVerifier
from cds_service.security.replay import ReplayStore
from cds_service.security.trusted_clients import TrustedClientsError, parse_trusted_clients
from tests.faults.fake_fhir import FakeFhirServer, Reply
from tests.security.jwt_clients import SERVICE_URL, SigningClient

ISS = "https://rotating-ehr.example.test"


@pytest.fixture
def jwks_server():
    with FakeFhirServer() as server:
        server.keys = []
        server.respond = lambda path: Reply.json({"keys": server.keys})
        server.jwks_url = server.origin + "/.well-known/jwks.json"
        yield server


def verifier_for(tmp_path, url, cache=None):
    clients = parse_trusted_clients({"clients": [{"iss": ISS, "jwks_url": url}]})
    return JwtVerifier(clients, ReplayStore(make_engine(f"sqlite:///{tmp_path}/r.sqlite")),
                       jwks=cache or JwksCache(timeout_s=(0.3, 0.5)))


def bearer(token):
    return "Bearer " + token


def test_key_is_fetched_from_the_jwks_url_and_cached(tmp_path, jwks_server):
    signer = SigningClient("RS384", iss=ISS)
    jwks_server.keys = [signer.public_jwk]
    v = verifier_for(tmp_path, jwks_server.jwks_url)
    v.verify(bearer(signer.token(SERVICE_URL)), SERVICE_URL)
    v.verify(bearer(signer.token(SERVICE_URL)), SERVICE_URL)
    assert len(jwks_server.seen) == 1  # cached


def test_rotated_key_is_picked_up_on_unknown_kid(tmp_path, jwks_server):
    old, new = SigningClient("ES384", iss=ISS), SigningClient("ES384", iss=ISS)
    jwks_server.keys = [old.public_jwk]
    cache = JwksCache(timeout_s=(0.3, 0.5), min_refresh_s=0.0)
    v = verifier_for(tmp_path, jwks_server.jwks_url, cache)
    v.verify(bearer(old.token(SERVICE_URL)), SERVICE_URL)
    jwks_server.keys = [old.public_jwk, new.public_jwk]  # the client rotates
    v.verify(bearer(new.token(SERVICE_URL)), SERVICE_URL)
    assert len(jwks_server.seen) == 2


def test_unknown_kids_cannot_make_us_hammer_the_jwks_url(tmp_path, jwks_server):
    signer = SigningClient("ES384", iss=ISS)
    jwks_server.keys = [signer.public_jwk]
    v = verifier_for(tmp_path, jwks_server.jwks_url)  # min_refresh_s default 60
    v.verify(bearer(signer.token(SERVICE_URL)), SERVICE_URL)
    for i in range(5):
        with pytest.raises(AuthError):
            v.verify(bearer(signer.token(SERVICE_URL, headers={"kid": f"bogus-{i}"})), SERVICE_URL)
    assert len(jwks_server.seen) == 1


def test_slow_jwks_url_fails_fast_with_401(tmp_path, jwks_server):
    signer = SigningClient("ES384", iss=ISS)
    jwks_server.respond = lambda path: Reply.json({"keys": [signer.public_jwk]}, delay_s=3)
    v = verifier_for(tmp_path, jwks_server.jwks_url)
    started = time.monotonic()
    with pytest.raises(AuthError):
        v.verify(bearer(signer.token(SERVICE_URL)), SERVICE_URL)
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("body", [b"not json", b'{"keys": "x"}', b" " * 70000])
def test_bad_jwks_documents_give_no_key(tmp_path, jwks_server, body):
    signer = SigningClient("ES384", iss=ISS)
    jwks_server.respond = lambda path: Reply(body=body)
    with pytest.raises(AuthError):
        verifier_for(tmp_path, jwks_server.jwks_url).verify(bearer(signer.token(SERVICE_URL)),
                                                            SERVICE_URL)


def test_jku_equal_to_the_configured_url_is_accepted_and_others_never_fetched(tmp_path, jwks_server):
    signer = SigningClient("ES384", iss=ISS)
    jwks_server.keys = [signer.public_jwk]
    v = verifier_for(tmp_path, jwks_server.jwks_url)
    v.verify(bearer(signer.token(SERVICE_URL, headers={"jku": jwks_server.jwks_url})), SERVICE_URL)
    with FakeFhirServer() as attacker:
        attacker.respond = lambda path: Reply.json({"keys": [signer.public_jwk]})
        with pytest.raises(AuthError, match="jku"):
            v.verify(bearer(signer.token(SERVICE_URL, headers={"jku": attacker.origin + "/jwks"})),
                     SERVICE_URL)
        assert attacker.seen == []


@pytest.mark.parametrize("doc", [
    {}, {"clients": {}}, {"clients": [{"jwks_url": "https://x.test/jwks"}]},
    {"clients": [{"iss": "https://a.test"}]},
    {"clients": [{"iss": "https://a.test", "jwks_url": "http://a.test/jwks"}]},
    {"clients": [{"iss": "https://a.test", "jwks": {"keys": []},
                  "fhir_servers": ["http://fhir.example.test/r4"]}]},
    {"clients": [{"iss": "https://a.test", "jwks": {"keys": []}, "tenants": "t1"}]},
    {"clients": [{"iss": "https://a.test", "jwks": {"keys": []}},
                 {"iss": "https://a.test", "jwks": {"keys": []}}]},
])
def test_malformed_trusted_clients_files_are_refused(doc):
    with pytest.raises(TrustedClientsError):
        parse_trusted_clients(doc)


def test_trusted_clients_file_errors_name_the_problem(tmp_path):
    from cds_service.security.trusted_clients import load_trusted_clients
    bad = tmp_path / "c.json"
    bad.write_text("{not json")
    with pytest.raises(TrustedClientsError, match="not valid JSON"):
        load_trusted_clients(str(bad))
    with pytest.raises(TrustedClientsError, match="cannot read"):
        load_trusted_clients(str(tmp_path / "missing.json"))
    bad.write_text(json.dumps({"clients": []}))
    with pytest.raises(TrustedClientsError, match="no clients"):
        load_trusted_clients(str(bad))
