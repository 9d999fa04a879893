"""The SMART on FHIR relapse timeline app, served under /app/ (issue 7).

- `GET /app/launch`: EHR launch (`iss` + `launch`) or standalone launch (`iss` only). The page's
  script discovers `{iss}/.well-known/smart-configuration` and starts the authorization code
  flow with PKCE S256 (frontend/src/smart.js).
- `GET /app/`: the redirect URI and the app page (chart, swimlane, summary, table).
- `POST /app/api/timeline[?asOf=YYYY-MM-DD]`: body = a FHIR Bundle of the patient's records,
  read by the browser with its SMART token; answers with the timeline JSON of
  cds_service.smart_app.timeline (the assessment plus the series to draw). With CDS_AUTH=jwt
  the caller shows that SMART token (checked with the launch's FHIR server,
  security/smart_token.py) or a trusted client's JWT; otherwise a bare 401.
- `/app/static/*`: the JavaScript and CSS bundle built from frontend/ by `npm ci && npm run
  build` (scripts/setup); not committed. `/app/favicon.svg`: the app's icon.
- Confidential asymmetric client (`CDS_SMART_CLIENT_KEY` set; smart_app/confidential.py):
  `GET /app/.well-known/jwks.json` (the public key) and `POST /app/api/token` (the code
  exchange with a `private_key_jwt` client assertion).

Settings (environment): CDS_SMART_CLIENT_ID (client_id registered at the EHR, default
"myeloma-cds-timeline"), CDS_SMART_ALLOWED_ISS (comma-separated FHIR base URLs the app may be
launched from; empty: any; required with a client key), CDS_SMART_CLIENT_KEY (PEM private key:
the app is then a confidential asymmetric client).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request

from cds_service.config import get_config
from cds_service.hooks.assessment_api import parse_as_of
from cds_service.http.errors import bad_request
from cds_service.hooks.pipeline import bundle_patient
from cds_service.security.flask_auth import unauthorized
from cds_service.security.jwt_verifier import AuthError
from cds_service.security.smart_token import FHIR_SERVER_HEADER, allowed_smart_servers, verify_smart_access
from cds_service.smart_app.confidential import ConfidentialClientError, client_key, exchange_code
from cds_service.smart_app.timeline import build_timeline
from cds_service.http.validation import parse_json_object
from fhir_mappings import build_patient_record
from cds_service.cards.contract_words import assessment_json
from myeloma_model import evaluate
from myeloma_model.assessment import as_of_view
from myeloma_model.relapse import analyse_relapse

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
DEFAULT_CLIENT_ID = "myeloma-cds-timeline"
# SMART v2 scopes for what the app reads; `launch` or `launch/patient` is added by the launch.
SCOPES = " ".join(
    f"patient/{t}.rs"
    for t in ("Patient", "Condition", "Observation", "MedicationStatement", "MedicationRequest",
              "MedicationAdministration", "Procedure", "DiagnosticReport")
)

bp = Blueprint("smart_app", __name__, url_prefix="/app", static_folder="static", template_folder="templates")


FAVICON = (  # a rising M-protein line with a marker: recognisable in a tab strip
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="6" fill="#1f3a5f"/>'
    '<polyline points="4,12 11,22 18,24 28,9" fill="none" stroke="#fff" stroke-width="3" '
    'stroke-linejoin="round" stroke-linecap="round"/><circle cx="28" cy="9" r="3.5" fill="#e57373"/></svg>'
)
MAX_TOKEN_FIELD = 4096


def allowed_issuers() -> list[str]:
    allowed = os.environ.get("CDS_SMART_ALLOWED_ISS", "")
    return [i.strip().rstrip("/") for i in allowed.split(",") if i.strip()]


def client_id() -> str:
    return os.environ.get("CDS_SMART_CLIENT_ID", "").strip() or DEFAULT_CLIENT_ID


def smart_settings() -> dict:
    settings = {
        "clientId": client_id(),
        "scope": SCOPES,
        "allowedIssuers": allowed_issuers(),
        "redirectPath": "./",
        "timelinePath": "./api/timeline",
    }
    if os.environ.get("CDS_SMART_CLIENT_KEY"):
        settings["tokenProxyPath"] = "./api/token"  # confidential: the service exchanges the code
    return settings


def _page(template: str) -> Response:
    if not (STATIC_DIR / "app.js").is_file():
        # The bundle is built at setup time; say so instead of serving a blank page.
        return Response(
            "The timeline app is not built: run `npm ci && npm run build` in frontend/ (scripts/setup does).",
            status=503, mimetype="text/plain",
        )
    resp = Response(render_template(template, smart_config=smart_settings()), mimetype="text/html")
    # The page talks to the EHR's FHIR and auth servers (any origin); scripts only from here.
    resp.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src *; frame-ancestors *; base-uri 'none'; form-action 'none'"
    )
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/favicon.svg")
def favicon() -> Response:
    resp = Response(FAVICON, mimetype="image/svg+xml")
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return resp


def _oauth_error(status: int, description: str) -> tuple[Response, int]:
    error = "invalid_request" if status == 400 else "temporarily_unavailable"
    return jsonify({"error": error, "error_description": description}), status


@bp.get("/.well-known/jwks.json")
def jwks():
    key = client_key(os.environ.get("CDS_SMART_CLIENT_KEY"))
    if key is None:
        return jsonify({"error": "not_found", "error_description": "the app is a public client: no JWKS"}), 404
    return jsonify(key.jwks())


@bp.post("/api/token")
def token():
    """Code exchange for the confidential asymmetric client (smart_app/confidential.py)."""
    key = client_key(os.environ.get("CDS_SMART_CLIENT_KEY"))
    if key is None:
        return _oauth_error(400, "the app is a public client: exchange the code at the token endpoint")
    body = request.get_json(silent=True)
    fields = ("iss", "code", "redirect_uri", "code_verifier")
    if not isinstance(body, dict) or not all(
            isinstance(body.get(f), str) and 0 < len(body[f]) <= MAX_TOKEN_FIELD for f in fields):
        return _oauth_error(400, "expected a JSON object with iss, code, redirect_uri and code_verifier")
    try:
        status, answer = exchange_code(key, client_id=client_id(), iss=body["iss"],
                                       allowed_issuers=allowed_issuers(), code=body["code"],
                                       redirect_uri=body["redirect_uri"], code_verifier=body["code_verifier"])
    except ConfidentialClientError as exc:
        return _oauth_error(exc.status, str(exc))
    resp = jsonify(answer)
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/launch")
def launch() -> Response:
    return _page("smart_app/launch.html")


@bp.get("/")
def index() -> Response:
    return _page("smart_app/index.html")


def _timeline_access() -> str | None:
    """Who may call the timeline API: anyone with CDS_AUTH=off (development, like every other
    endpoint); with CDS_AUTH=jwt the launch's SMART token checked with its FHIR server
    (security.smart_token; returns the token's patient id), or a trusted client's CDS Hooks
    JWT when no X-FHIR-Server header is sent. Raises AuthError."""
    if current_app.extensions.get("cds_auth_mode") != "jwt":
        return None
    config = get_config()
    if FHIR_SERVER_HEADER not in request.headers:
        base_url = str(config.public_base_url or "").rstrip("/")
        g.cds_client = current_app.extensions["cds_verifier"].verify(
            request.headers.get("Authorization"), base_url + request.path)
        return None
    allowed = allowed_smart_servers(smart_settings()["allowedIssuers"],
                                    current_app.extensions.get("cds_trusted_clients") or {})
    return verify_smart_access(request.headers, allowed=allowed, config=config).patient_id


@bp.post("/api/timeline")
def timeline():
    try:
        launch_patient = _timeline_access()
    except AuthError as exc:
        log.info("timeline authentication failed: %s", exc.reason)
        return unauthorized()
    as_of = parse_as_of(request.args.get("asOf"))
    body = parse_json_object(request.get_data(cache=True))
    if body.get("resourceType") != "Bundle":
        raise bad_request("Expected a FHIR Bundle of the patient's records (resourceType 'Bundle').", expression="$")
    resources, patient_id = bundle_patient(body)
    if launch_patient is not None and patient_id != launch_patient:
        raise bad_request("The Bundle's Patient is not the patient of the SMART launch.", expression="$.entry")
    record = build_patient_record(resources, patient_id=patient_id, as_of=as_of)
    assessment = assessment_json(evaluate(record, as_of))
    view = as_of_view(record, as_of)  # what the assessment saw
    lines = analyse_relapse(view, as_of).lines if record.in_scope else []
    return jsonify(build_timeline(resources, view, assessment, lines, as_of))
