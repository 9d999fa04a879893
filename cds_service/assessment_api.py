"""POST /assessment: the assessment JSON (docs/assessment-contract.md) for a Bundle or hook request.

`?asOf=YYYY-MM-DD` fixes "today" for reproducible results. A hook request's missing prefetch
keys are fetched from its fhirServer, as for the hook itself.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify, request

from cds_service.config import get_config
from cds_service.errors import bad_request
from cds_service.pipeline import assessment_from_input, today
from cds_service.validation import parse_json_object

bp = Blueprint("assessment", __name__)


def parse_as_of(raw: str | None) -> date:
    if raw is None or raw == "":
        return today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise bad_request(f"asOf must be a date YYYY-MM-DD, got {raw[:40]!r}.", expression="asOf") from None


@bp.post("/assessment")
def assessment():
    as_of = parse_as_of(request.args.get("asOf"))
    body = parse_json_object(request.get_data(cache=True))
    return jsonify(assessment_from_input(body, config=get_config(), as_of=as_of, fetch=True))
