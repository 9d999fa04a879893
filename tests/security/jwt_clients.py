"""Test CDS clients with their own key pairs, minting tokens the sandbox way."""
from __future__ import annotations

import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


PUBLIC_BASE = "https://cds.example.test"
SERVICE_URL = PUBLIC_BASE + "/cds-services/myeloma-relapse"


class SigningClient:
    """A CDS client with its own key pair, able to mint tokens the sandbox way."""

    def __init__(self, alg: str = "ES384", iss: str = "https://ehr.example.test",
                 kid: str | None = None):
        self.alg = alg
        self.iss = iss
        self.kid = kid or f"{alg.lower()}-{uuid.uuid4()}"
        if alg.startswith("ES"):
            self.private_key = ec.generate_private_key(ec.SECP384R1())
            jwk = ECAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        else:
            self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            jwk = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        self.public_jwk = {**jwk, "kid": self.kid, "use": "sig", "alg": alg}

    def claims(self, aud: str, **overrides) -> dict:
        now = int(time.time())
        claims = {"iss": self.iss, "aud": aud, "exp": now + 300, "iat": now,
                  "jti": str(uuid.uuid4())}
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, aud: str, *, headers: dict | None = None, key=None, alg: str | None = None,
              **claim_overrides) -> str:
        hdr = {"typ": "JWT", "kid": self.kid}
        hdr.update(headers or {})
        hdr = {k: v for k, v in hdr.items() if v is not None}
        return jwt.encode(self.claims(aud, **claim_overrides), key or self.private_key,
                          algorithm=alg or self.alg, headers=hdr)


def clients_document(es_client, rs_client, tenant_client, *, fhir_servers=None) -> dict:
    fhir_servers = fhir_servers or ["https://fhir.example.test/r4"]
    return {"clients": [
        {"iss": es_client.iss, "jwks": {"keys": [es_client.public_jwk]},
         "fhir_servers": fhir_servers},
        {"iss": rs_client.iss, "jwks": {"keys": [rs_client.public_jwk]},
         "fhir_servers": fhir_servers},
        {"iss": tenant_client.iss, "jwks": {"keys": [tenant_client.public_jwk]},
         "tenants": ["hospital-a"], "fhir_servers": fhir_servers},
    ]}
