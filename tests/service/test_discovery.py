"""GET /cds-services: shape, the relapse service, and conformant prefetch templates."""
from __future__ import annotations

import re
from urllib.parse import parse_qsl

from cds_service.http import schemas
from cds_service.hooks.services import SERVICES, discovery_document
from tests.schema_assert import assert_valid

TOKEN = re.compile(r"\{\{([^}]*)\}\}")
# docs/cds-hooks.md#prefetch: context root primitives of patient-view and the four user tokens.
ALLOWED_TOKENS = {"context.patientId", "context.userId", "context.encounterId",
                  "userPractitionerId", "userPractitionerRoleId", "userPatientId", "userRelatedPersonId"}
# Search parameters our templates may use: a reference, a token (no modifiers), _count.
ALLOWED_PARAMS = {"patient", "subject", "code", "_count", "_sort"}


def test_discovery_lists_relapse_service_and_validates(client):
    resp = client.get("/cds-services")
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert_valid(body, schemas.DISCOVERY)
    relapse = [s for s in body["services"] if s["id"] == "myeloma-relapse"]
    assert len(relapse) == 1
    svc = relapse[0]
    assert svc["hook"] == "patient-view"
    assert svc["title"] and svc["description"]
    assert set(svc["prefetch"]) == {
        "patient", "conditions", "observations",
        "medicationStatements", "medicationRequests", "medicationAdministrations",
        "procedures", "diagnosticReports",
    }
    assert svc["prefetch"]["patient"] == "Patient/{{context.patientId}}"
    assert svc["prefetch"]["conditions"].startswith("Condition?patient={{context.patientId}}")


def test_observation_template_names_marker_codes():
    obs = discovery_document()["services"][0]["prefetch"]["observations"]
    query = dict(parse_qsl(obs.split("?", 1)[1], keep_blank_values=True))
    codes = query["code"].split(",")
    # serum M-protein, FLC kappa/lambda, calcium, haemoglobin, ECOG (docs/terminology.md#observations)
    for needed in ("33358-3", "36916-5", "33944-0", "17861-6", "718-7", "89247-1"):
        assert f"http://loinc.org|{needed}" in codes
    assert all("|" in c for c in codes), "codes must be system|code tokens"
    from fhir_mappings.terminology import investigation_observation_codes, prefetch_observation_codes

    assert set(prefetch_observation_codes()) <= set(codes)
    assert set(investigation_observation_codes()) <= set(codes)
    assert len(codes) == len(set(codes))
    assert int(query["_count"]) >= 100


def test_templates_use_only_allowed_tokens_and_parameters():
    for service in SERVICES:
        for key, template in service.prefetch.items():
            tokens = set(TOKEN.findall(template))
            assert tokens <= ALLOWED_TOKENS, (key, tokens)
            path, _, query = template.partition("?")
            assert re.fullmatch(r"[A-Z][A-Za-z]+(/\{\{[^}]+\}\})?", path), (key, path)
            for name, _value in parse_qsl(query, keep_blank_values=True):
                assert ":" not in name, f"{key}: no search modifiers allowed ({name})"
                assert name in ALLOWED_PARAMS, (key, name)


def test_discovery_generated_from_declarations():
    ids = [s["id"] for s in discovery_document()["services"]]
    assert ids == [s.id for s in SERVICES]
