"""Fixtures for the security tests: keys made per session, verifiers, trusted-client files."""
from __future__ import annotations

import json

import pytest

from cds_service.db import make_engine
from cds_service.security.jwks import JwksCache
from cds_service.security.jwt_verifier import JwtVerifier
from cds_service.security.replay import ReplayStore
from cds_service.security.trusted_clients import parse_trusted_clients
from tests.security.jwt_clients import SigningClient, clients_document


@pytest.fixture(scope="session")
def es_client() -> SigningClient:
    return SigningClient("ES384", iss="https://ehr.example.test")


@pytest.fixture(scope="session")
def rs_client() -> SigningClient:
    return SigningClient("RS384", iss="https://other-ehr.example.test")


@pytest.fixture(scope="session")
def tenant_client() -> SigningClient:
    return SigningClient("ES384", iss="https://tenanted-ehr.example.test")


@pytest.fixture
def verifier(tmp_path, es_client, rs_client, tenant_client) -> JwtVerifier:
    clients = parse_trusted_clients(clients_document(es_client, rs_client, tenant_client))
    engine = make_engine(f"sqlite:///{tmp_path}/replay.sqlite")
    return JwtVerifier(clients, ReplayStore(engine), jwks=JwksCache(),
                       clock_skew_s=30)


@pytest.fixture
def trusted_clients_file(tmp_path, es_client, rs_client, tenant_client):
    def write(fhir_servers=None) -> str:
        path = tmp_path / "trusted-clients.json"
        path.write_text(json.dumps(
            clients_document(es_client, rs_client, tenant_client, fhir_servers=fhir_servers)))
        return str(path)
    return write


@pytest.fixture
def jwt_app(tmp_path, trusted_clients_file):
    """Factory: a CDS_AUTH=jwt app trusting es/rs/tenant clients for `fhir_servers`."""
    from cds_service import create_app
    from cds_service.config import Config
    from tests.security.jwt_clients import PUBLIC_BASE

    def make(fhir_servers=None):
        config = Config(auth="jwt", trusted_clients=trusted_clients_file(fhir_servers),
                        public_base_url=PUBLIC_BASE,
                        database_url=f"sqlite:///{tmp_path}/cds.sqlite",
                        request_deadline_s=2.0, fhir_connect_timeout_s=0.5,
                        fhir_read_timeout_s=1.0)
        app = create_app(config)
        app.config.update(TESTING=True)
        return app

    return make
