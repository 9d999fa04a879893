"""Who may call the timeline API (`POST /app/api/timeline`) when CDS_AUTH=jwt.

The timeline app holds a SMART access token issued by the EHR for one patient; the service
cannot verify that token itself (it is opaque, signed by the EHR's authorization server), but
the FHIR server that issued it can: the service reads `Patient/{id}` from the launch's FHIR
server with the token, and only a 200 naming that same patient lets the request in.

The browser sends `Authorization: Bearer <SMART token>`, `X-FHIR-Server: <iss>` and
`X-FHIR-Patient: <patient id>`. The FHIR server must be on CDS_SMART_ALLOWED_ISS, or, when
that is empty, on a trusted client's `fhir_servers` (so the API cannot be used to make the
service call arbitrary URLs), https or loopback http. A trusted CDS client may call the API
with its CDS Hooks JWT instead (no X-FHIR-Server header), checked like every other call.
Any failure is an AuthError (the caller answers a bare 401; the reason goes to the log only).
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fhir_mappings.resource_set import is_fhir_id

from ..fhir.client import Deadline, FhirClient, FhirFetchError
from .fetch_policy import policy_for
from .jwt_verifier import AuthError, bearer_token
from .url_policy import FhirBase, UrlPolicyError, parse_fhir_base, validate_allow_entry

FHIR_SERVER_HEADER = "X-FHIR-Server"
PATIENT_HEADER = "X-FHIR-Patient"


@dataclass(frozen=True)
class SmartAccess:
    """A SMART token the launch's FHIR server accepted for `patient_id`."""

    fhir_server: str
    patient_id: str


def allowed_smart_servers(allowed_iss: list[str], trusted_clients: dict) -> list[FhirBase]:
    """CDS_SMART_ALLOWED_ISS entries (https, or http on loopback), else every trusted client's
    fhir_servers; malformed entries are skipped (they can never match)."""
    bases = []
    for entry in allowed_iss:
        try:
            bases.append(validate_allow_entry(entry))
        except UrlPolicyError:
            continue
    if bases:
        return bases
    return [b for c in trusted_clients.values() for b in c.fhir_servers]


def verify_smart_access(headers, *, allowed: list[FhirBase], config, session=None) -> SmartAccess:
    """Check the request's SMART token against its FHIR server, or raise AuthError."""
    token = bearer_token(headers.get("Authorization"))
    server = headers.get(FHIR_SERVER_HEADER, "")
    patient_id = headers.get(PATIENT_HEADER, "")
    if not is_fhir_id(patient_id):
        raise AuthError(f"{PATIENT_HEADER} is missing or not a FHIR id")
    try:
        base = parse_fhir_base(server)
    except UrlPolicyError:
        raise AuthError(f"{FHIR_SERVER_HEADER} is missing or not an http(s) base URL") from None
    if not any(entry.contains(base) for entry in allowed):
        raise AuthError(f"{FHIR_SERVER_HEADER} is not an allowed SMART FHIR server")
    client = FhirClient(
        str(base), token=token, deadline=Deadline(config.request_deadline_s),
        connect_timeout=config.fhir_connect_timeout_s, read_timeout=config.fhir_read_timeout_s,
        policy=policy_for(base, config), session=session,
    )
    try:
        patient = client.read(f"Patient/{quote(patient_id, safe='')}", "Patient")
    except FhirFetchError as err:
        status = f" {err.status}" if err.status else ""
        raise AuthError(f"the FHIR server did not accept the SMART token ({err.reason}{status})") from None
    finally:
        client.close()
    if patient.get("id") != patient_id:
        raise AuthError("the FHIR server answered with another patient")
    return SmartAccess(fhir_server=str(base), patient_id=patient_id)
