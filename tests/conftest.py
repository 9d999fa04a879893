"""Shared fixtures (Flask-tutorial style). Helpers add fixtures here additively."""
from __future__ import annotations

import pytest

from cds_service import create_app
from cds_service.config import Config


@pytest.fixture
def config() -> Config:
    """Test config: auth off, short deadline so fault tests stay fast."""
    return Config(auth="off", request_deadline_s=2.0, fhir_connect_timeout_s=0.5, fhir_read_timeout_s=1.0)


@pytest.fixture
def app(config):
    app = create_app(config)
    app.config.update(TESTING=True)
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def hapi_server_instance():
    """One real HAPI FHIR JPA server per test session (tests marked `hapi`;
    tests/integration/hapi_server.py), with the demo patients loaded the way a user loads them:
    `cds_service.demo.load_demo`, the code behind `myeloma-cds load-demo`. Here so that the
    integration and browser tests share it (HAPI takes 30-90 s to start)."""
    from cds_service.demo import load_demo
    from tests.integration.fhir_server import stop_fhir_server
    from tests.integration.hapi_server import start_hapi_server

    server = start_hapi_server()
    try:
        load_demo(server.base_url)
        yield server
    finally:
        stop_fhir_server(server, grace=20.0)


@pytest.fixture(scope="session")
def hapi_server(hapi_server_instance) -> str:
    return hapi_server_instance.base_url


def pytest_configure(config):
    """Whole-suite check that no token or JWT is ever logged (tests/log_secrets.py)."""
    from tests.log_secrets import LogSecretsPlugin

    if not config.pluginmanager.has_plugin("myeloma-log-secrets"):
        config.pluginmanager.register(LogSecretsPlugin(), "myeloma-log-secrets")
