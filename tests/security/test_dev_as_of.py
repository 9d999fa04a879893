"""`?asOf=` (answer as of a date) is a development option: refused with 400 when client
authentication is on, even for a valid token, and the FHIR server is never asked."""
from __future__ import annotations

import pytest

from tests.faults.fake_fhir import FakeFhirServer, patient_and_empty_searches
from tests.security.hook_bodies import PATIENT_ID, hook_body
from tests.security.jwt_clients import SERVICE_URL


@pytest.fixture
def fhir():
    with FakeFhirServer() as server:
        server.respond = patient_and_empty_searches(PATIENT_ID, server.origin)
        yield server


def test_as_of_is_refused_when_client_authentication_is_on(jwt_app, es_client, fhir):
    client = jwt_app([fhir.base_url]).test_client()
    resp = client.post("/cds-services/myeloma-relapse?asOf=2025-06-30", json=hook_body(fhir.base_url),
                       headers={"Authorization": "Bearer " + es_client.token(SERVICE_URL)})
    assert resp.status_code == 400
    issue = resp.get_json()["issue"][0]
    assert issue["expression"] == ["asOf"] and "CDS_AUTH=jwt" in issue["diagnostics"]
    assert fhir.seen == []
