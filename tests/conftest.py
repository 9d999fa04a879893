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


def pytest_configure(config):
    """Whole-suite check that no token or JWT is ever logged (tests/log_secrets.py)."""
    from tests.log_secrets import LogSecretsPlugin

    if not config.pluginmanager.has_plugin("myeloma-log-secrets"):
        config.pluginmanager.register(LogSecretsPlugin(), "myeloma-log-secrets")
