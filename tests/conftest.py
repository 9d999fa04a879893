"""Shared fixtures (Flask-tutorial style). Helpers add fixtures here additively."""
from __future__ import annotations

import pytest

import cds_service.db
from cds_service import create_app
from cds_service.config import Config
from tests.feedback.postgres_url import stop_run_server


@pytest.fixture(autouse=True, scope="session")
def _temporary_default_database(tmp_path_factory):
    """Every app a test builds without a database URL, and every service or CLI a test starts
    as a subprocess, uses this run's own SQLite file: the suite never writes the developer's
    `instance/myeloma-cds.sqlite`."""
    url = "sqlite:///" + str(tmp_path_factory.mktemp("instance") / "myeloma-cds.sqlite")
    patch = pytest.MonkeyPatch()
    patch.setattr(cds_service.db, "default_database_url", lambda instance_path: url)
    patch.setenv("CDS_DATABASE_URL", url)
    yield url
    patch.undo()


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


def pytest_sessionfinish(session, exitstatus):
    """Stop this run's PostgreSQL test server, if a test started one."""
    stop_run_server()
