"""The timeline app as a confidential asymmetric client (smart_app/confidential.py): the key,
its JWKS, the client assertion and the code exchange, without a browser."""
from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cds_service.smart_app.confidential import (
    ASSERTION_TYPE,
    ClientKey,
    ConfidentialClientError,
    exchange_code,
)

ISS = "https://ehr.example.test/fhir"
TOKEN_URL = "https://auth.example.test/token"


def pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture(scope="module")
def key() -> ClientKey:
    return ClientKey(pem(ec.generate_private_key(ec.SECP384R1())))


def test_keys_and_their_algorithms():
    assert ClientKey(pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))).alg == "RS384"
    with pytest.raises(ValueError):
        ClientKey(pem(ec.generate_private_key(ec.SECP256R1())))  # ES384 needs P-384


def test_the_jwks_holds_the_public_key_only(key):
    (jwk,) = key.jwks()["keys"]
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-384" and "d" not in jwk
    assert jwk["kid"] == key.kid and jwk["alg"] == "ES384"


def test_the_assertion_follows_rfc_7523_and_smart(key):
    token = key.assertion("my-app", TOKEN_URL)
    header = jwt.get_unverified_header(token)
    assert header["kid"] == key.kid and header["alg"] == "ES384" and header["typ"] == "JWT"
    claims = jwt.decode(token, jwt.PyJWK(key.public_jwk).key, algorithms=["ES384"], audience=TOKEN_URL)
    assert claims["iss"] == claims["sub"] == "my-app"
    assert 0 < claims["exp"] - int(time.time()) <= 300  # SMART: at most five minutes
    assert claims["jti"] != jwt.decode(key.assertion("my-app", TOKEN_URL), options={"verify_signature": False})["jti"]


@responses.activate
def test_the_code_exchange_sends_a_verifiable_assertion(key):
    responses.get(f"{ISS}/.well-known/smart-configuration",
                  json={"token_endpoint": TOKEN_URL, "token_endpoint_auth_methods_supported": ["private_key_jwt"]})
    seen = {}

    def token_endpoint(request):
        form = {k: v[0] for k, v in parse_qs(request.body).items()}
        seen.update(form)
        jwt.decode(form["client_assertion"], jwt.PyJWK(key.public_jwk).key, algorithms=["ES384"], audience=TOKEN_URL)
        return 200, {}, json.dumps({"access_token": "at", "token_type": "Bearer", "patient": "p1"})

    responses.add_callback(responses.POST, TOKEN_URL, callback=token_endpoint)
    status, body = exchange_code(key, client_id="my-app", iss=ISS + "/", allowed_issuers=[ISS], code="c1",
                                 redirect_uri="https://cds.example.test/app/", code_verifier="v" * 43)
    assert status == 200 and body["patient"] == "p1"
    assert seen["client_assertion_type"] == ASSERTION_TYPE and seen["code_verifier"] == "v" * 43
    assert seen["grant_type"] == "authorization_code" and seen["client_id"] == "my-app"


@responses.activate
def test_an_oauth_error_passes_through_as_400(key):
    responses.get(f"{ISS}/.well-known/smart-configuration", json={"token_endpoint": TOKEN_URL})
    responses.post(TOKEN_URL, status=401, json={"error": "invalid_client"})
    status, body = exchange_code(key, client_id="a", iss=ISS, allowed_issuers=[ISS], code="c",
                                 redirect_uri="r", code_verifier="v" * 43)
    assert status == 400 and body == {"error": "invalid_client"}


@pytest.mark.parametrize("allowed, message", [([], "lists no FHIR server"),
                                              (["https://other.example.test/fhir"], "not configured")])
@responses.activate
def test_only_allow_listed_issuers_are_contacted(key, allowed, message):
    with pytest.raises(ConfidentialClientError, match=message) as exc:
        exchange_code(key, client_id="a", iss=ISS, allowed_issuers=allowed, code="c",
                      redirect_uri="r", code_verifier="v" * 43)
    assert exc.value.status == 400
    assert len(responses.calls) == 0


@responses.activate
def test_a_server_without_private_key_jwt_is_refused(key):
    responses.get(f"{ISS}/.well-known/smart-configuration",
                  json={"token_endpoint": TOKEN_URL, "token_endpoint_auth_methods_supported": ["client_secret_basic"]})
    with pytest.raises(ConfidentialClientError, match="private_key_jwt"):
        exchange_code(key, client_id="a", iss=ISS, allowed_issuers=[ISS], code="c",
                      redirect_uri="r", code_verifier="v" * 43)


def test_routes_of_a_public_client(client, monkeypatch):
    monkeypatch.delenv("CDS_SMART_CLIENT_KEY", raising=False)
    assert client.get("/app/.well-known/jwks.json").status_code == 404
    resp = client.post("/app/api/token", json={"iss": ISS, "code": "c", "redirect_uri": "r", "code_verifier": "v"})
    assert resp.status_code == 400 and "public client" in resp.get_json()["error_description"]


def test_routes_of_a_confidential_client(client, monkeypatch, tmp_path, key):
    path = tmp_path / "key.pem"
    path.write_bytes(pem(key.private_key))
    monkeypatch.setenv("CDS_SMART_CLIENT_KEY", str(path))
    assert client.get("/app/.well-known/jwks.json").get_json() == key.jwks()
    for body in (None, {"iss": ISS}, {"iss": ISS, "code": "", "redirect_uri": "r", "code_verifier": "v"},
                 {"iss": ISS, "code": "c" * 5000, "redirect_uri": "r", "code_verifier": "v"}):
        assert client.post("/app/api/token", json=body).status_code == 400
