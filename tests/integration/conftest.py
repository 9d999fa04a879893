"""Session fixtures for tests against real FHIR servers.

`fhir_server` is the base URL (str, ends in /fhir) of one sekmet-fhir instance per test
session, with every demo patient of examples/patients/ loaded by transaction.
`fhir_server_instance` gives the FhirServer object itself (pid, session(), log_tail()).

`hapi_server` / `hapi_server_instance` (tests/conftest.py, shared with tests/browser) are the
same for one HAPI FHIR JPA server per session (tests marked `hapi`; hapi_server.py).
"""
from __future__ import annotations

import pytest

from tests.integration.fhir_server import FhirServer, load_demo_bundles, start_fhir_server, stop_fhir_server


@pytest.fixture(scope="session")
def fhir_server_instance() -> FhirServer:
    server = start_fhir_server()
    try:
        load_demo_bundles(server)
        yield server
    finally:
        stop_fhir_server(server)


@pytest.fixture(scope="session")
def fhir_server(fhir_server_instance: FhirServer) -> str:
    return fhir_server_instance.base_url
