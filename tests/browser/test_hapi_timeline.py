"""The SMART timeline app's browser test, run unchanged with HAPI FHIR behind the test SMART
authorization server: the app's FHIR reads go through auth_server.py's proxy to the session's
HAPI JPA server (tests/conftest.py `hapi_server_instance`, demo patients loaded). HAPI itself
is open; the proxy still checks that every read carries the granted bearer token."""
from __future__ import annotations

import pytest

from tests.browser.test_timeline_app import assessment, test_ehr_launch_draws_the_vignette_timeline  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.hapi, pytest.mark.timeout(900)]


class _HapiBehindTheAuthServer:
    """What the auth_server fixture needs of `fhir_with_token`: the upstream base and a token
    it hands out and forwards (HAPI ignores it)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.tokens = ["token-forwarded-to-an-open-hapi"]


@pytest.fixture(scope="module")
def fhir_with_token(hapi_server_instance):
    return _HapiBehindTheAuthServer(hapi_server_instance.base_url)
