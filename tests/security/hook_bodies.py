"""CDS Hooks request bodies for the security tests."""
from __future__ import annotations

import uuid

PATIENT_ID = "sec-patient-1"
ACCESS_TOKEN = "fhir-access-token-for-security-tests-7f3a"


def hook_body(fhir_server: str | None, *, token: str | None = ACCESS_TOKEN,
              prefetch: dict | None = None) -> dict:
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"patientId": PATIENT_ID, "userId": "Practitioner/sec-user"}}
    if fhir_server is not None:
        body["fhirServer"] = fhir_server
        if token:
            body["fhirAuthorization"] = {"access_token": token, "token_type": "Bearer",
                                         "expires_in": 300, "scope": "patient/*.read",
                                         "subject": "myeloma-cds"}
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body

