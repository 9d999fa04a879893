"""POST /assessment: the assessment JSON (docs/assessment-contract.md) for a Bundle or hook request.

`?asOf=YYYY-MM-DD` fixes "today" for reproducible results. A hook request's missing prefetch
keys are fetched from its fhirServer, as for the hook itself.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, g, jsonify, request

from cds_service.config import get_config
from cds_service.http.errors import bad_request
from cds_service.hooks.pipeline import assessment_from_input, today
from cds_service.http.validation import parse_json_object

bp = Blueprint("assessment", __name__)


EARLIEST_AS_OF = date(1900, 1, 1)
LATEST_AS_OF = date(2199, 12, 31)


def parse_as_of(raw: str | None) -> date:
    """`asOf` (YYYY-MM-DD) within EARLIEST_AS_OF..LATEST_AS_OF, else a 400: the model adds
    months and years to it, which overflows near year 9999."""
    if raw is None or raw == "":
        return today()
    try:
        as_of = date.fromisoformat(raw) if len(raw) <= 10 else None
    except ValueError:
        as_of = None
    if as_of is None:
        raise bad_request(f"asOf must be a date YYYY-MM-DD, got {_shown(raw)}.", expression="asOf")
    if not EARLIEST_AS_OF <= as_of <= LATEST_AS_OF:
        raise bad_request(f"asOf must lie between {EARLIEST_AS_OF} and {LATEST_AS_OF}.", expression="asOf")
    return as_of


def _shown(raw: str) -> str:
    """The refused value, short and printable (it is echoed in the response)."""
    text = raw[:40]
    return repr(text) if text.isprintable() else "an unprintable value"


@bp.post("/assessment")
def assessment():
    as_of = parse_as_of(request.args.get("asOf"))
    body = parse_json_object(request.get_data(cache=True))
    g.cds_body_fields = {"hook": body.get("hook"), "hookInstance": body.get("hookInstance")}
    return jsonify(assessment_from_input(body, config=get_config(), as_of=as_of, fetch=True))
