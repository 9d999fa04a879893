"""CDS Hooks endpoints: discovery and service calls
(docs/cds-hooks.md#discovery, #service-call, #response)."""
from __future__ import annotations

import logging
import time

from flask import Blueprint, current_app, g, jsonify, request

from cds_service.hooks.assessment_api import parse_as_of
from cds_service.config import get_config
from cds_service import metrics
from cds_service.db import engine_for_app
from cds_service.http.errors import CdsError, Issue, not_found
from cds_service.feedback.store import record_issued_cards
from cds_service.http.gc_pause import gc_paused
from cds_service.hooks.services import ServiceCall, discovery_document, find_service
from cds_service.http.validation import parse_json_object, validate_hook_request

log = logging.getLogger(__name__)

bp = Blueprint("cds_hooks", __name__)


@bp.get("/cds-services")
def discovery():
    return jsonify(discovery_document())


@bp.post("/cds-services/<service_id>")
def call_service(service_id: str):
    # The request's large JSON tree is built and freed with the cyclic GC paused
    # (cds_service/http/gc_pause.py); it is released when _call_service returns.
    with gc_paused():
        return _call_service(service_id)


def _dev_as_of(config):
    """`?asOf=YYYY-MM-DD`: answer as of that date (demos, README examples, tests of dated
    patients). Development only: refused (400) when client authentication is on, so a
    production caller can never move the service's clock."""
    raw = request.args.get("asOf")
    if raw is None:
        return None
    if config.auth != "off":
        raise CdsError(400, [Issue("asOf is a development option; it is refused when client authentication is on "
                                   "(CDS_AUTH=jwt).", code="not-supported", expression="asOf")])
    return parse_as_of(raw)


def _call_service(service_id: str):
    service = find_service(service_id)
    if service is None:
        raise not_found(f"No CDS service with id '{service_id}'; see GET /cds-services.")
    body = parse_json_object(request.get_data(cache=True))
    # For the request log (http/request_log.py), which would otherwise parse the body again.
    g.cds_body_fields = {"hook": body.get("hook"), "hookInstance": body.get("hookInstance")}
    hook = body.get("hook")
    if isinstance(hook, str) and hook:
        service = find_service(service_id, hook)
        if service.hook != hook:
            raise CdsError(
                400,
                [
                    Issue(
                        f"Service '{service.id}' answers the '{service.hook}' hook, not '{hook}'.",
                        code="not-supported",
                        expression="hook",
                    )
                ],
            )
    validate_hook_request(body)
    config = get_config()
    started = time.monotonic()
    response = service.handler(ServiceCall(service=service, body=body, config=config, as_of=_dev_as_of(config)))
    # card uuid -> topic, so feedback (uuid only) can be reported per topic (feedback/report.py)
    record_issued_cards(engine_for_app(current_app), service.id, response.get("cards", []))
    metrics.count_cards(service.id, response.get("cards", []))
    # DEBUG: the request log (http/request_log.py) already writes the one INFO line per request.
    log.debug(
        "service %s answered %d card(s) in %.0f ms",
        service.id,
        len(response.get("cards", [])),
        (time.monotonic() - started) * 1000,
    )
    return jsonify(response)
