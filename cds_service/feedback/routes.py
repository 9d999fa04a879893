"""`POST /cds-services/{id}/feedback` (docs/cds-hooks.md#feedback): a bare 200 once the items
are validated and stored (feedback/store.py)."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from flask import g as flask_g

from cds_service.db import engine_for_app
from cds_service.feedback.store import FeedbackInvalid, store_feedback, validate_feedback
from cds_service.hooks.services import find_service
from cds_service.http.errors import bad_request, not_found
from cds_service.http.validation import parse_json_object
from cds_service.metrics import count_feedback

log = logging.getLogger(__name__)


def _blueprint():
    bp = Blueprint("cds_feedback", __name__)

    @bp.post("/cds-services/<service_id>/feedback")
    def post_feedback(service_id: str):
        if find_service(service_id) is None:
            raise not_found(f"No CDS service with id '{service_id}'; see GET /cds-services.")
        body = parse_json_object(request.get_data(cache=True))
        try:
            items = validate_feedback(body)
        except FeedbackInvalid as exc:
            where = str(exc).split(" ", 1)[0]
            raise bad_request(str(exc), expression=where if where.startswith("feedback") else "$") from None
        client = getattr(flask_g, "cds_client", None)
        new = store_feedback(engine_for_app(current_app), service_id, items,
                             client_iss=getattr(client, "iss", None))
        log.info("feedback for %s: %d item(s), %d new", service_id, len(items), new)
        count_feedback(service_id, [item.outcome for item in items], new)
        return Response(status=200)

    return bp


bp = _blueprint()
