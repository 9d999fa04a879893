"""Session fixtures for tests against real FHIR servers.

`fhir_server` is the base URL (str, ends in /fhir) of one sekmet-fhir instance per test
session, with every demo patient of examples/patients/ loaded by transaction.
`fhir_server_instance` gives the FhirServer object itself (pid, session(), log_tail()).

`hapi_server` / `hapi_server_instance` are the same for one HAPI FHIR JPA server per session
(tests marked `hapi`; hapi_server.py), with the demo patients loaded the way a user loads
them: `cds_service.demo.load_demo`, the code behind `myeloma-cds load-demo`.
"""
from __future__ import annotations

import pytest

from cds_service.demo import load_demo
from tests.integration.fhir_server import FhirServer, load_demo_bundles, start_fhir_server, stop_fhir_server
from tests.integration.hapi_server import HapiServer, start_hapi_server


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


@pytest.fixture(scope="session")
def hapi_server_instance() -> HapiServer:
    server = start_hapi_server()
    try:
        load_demo(server.base_url)
        yield server
    finally:
        stop_fhir_server(server, grace=20.0)


@pytest.fixture(scope="session")
def hapi_server(hapi_server_instance: HapiServer) -> str:
    return hapi_server_instance.base_url
