"""GET /codesystem/<name>: the service's own code systems (card topics, override reasons) as
FHIR R4 CodeSystem resources, so the `system` URL of every topic and override-reason coding a
card carries resolves to its definition. Public (no client authentication): it holds no patient
data."""
from __future__ import annotations

from flask import Blueprint, Response, json

from cds_service.config import get_config
from cds_service.cards.codes import CODE_SYSTEMS, code_system_resource
from cds_service.http.errors import not_found

bp = Blueprint("codesystems", __name__)


def _fhir_json(resource: dict) -> Response:
    return Response(json.dumps(resource), mimetype="application/fhir+json")


@bp.get("/codesystem/<name>")
def code_system(name: str):
    resource = code_system_resource(name, get_config())
    if resource is None:
        raise not_found(f"No code system '{name}'; known: {', '.join(sorted(CODE_SYSTEMS))}.")
    return _fhir_json(resource)
