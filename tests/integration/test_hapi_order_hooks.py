"""The order-sign / order-select tests of the sekmet suite, run unchanged against HAPI: the
service fetches the patient's data itself from a HAPI JPA server (`fhir_server` below)."""
from __future__ import annotations

import pytest

from tests.integration.test_order_hooks_against_fhir_server import (  # noqa: F401
    cds_client, test_carfilzomib_on_heart_failure_patient_warns_from_fetched_data,
    test_carfilzomib_without_cardiac_disease_and_recent_echo_is_quiet,
)

pytestmark = [pytest.mark.hapi, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def fhir_server(hapi_server: str) -> str:
    return hapi_server
