"""Clinician feedback, validated and stored (docs/cds-hooks.md#feedback); the route is in
feedback/routes.py, the report in feedback/report.py.

Validation follows the logical model's invariants: cds-fb-1 (outcome is `accepted` or
`overridden`), cds-fb-2 (accepted implies acceptedSuggestions), cds-fb-3 (overrideReason
has `reason` or `userComment`), plus the JSON rules (no nulls, no empty values).
Storage is idempotent: an item is keyed by (service, card, outcome, outcomeTimestamp,
accepted suggestion ids); the same item posted twice, or by two workers at once, is stored
once (unique key + INSERT ... ON CONFLICT DO NOTHING). The answer is a bare 200.

Card topics for the report: when the service issues cards it records card uuid -> the
card's `source.topic` (see `record_issued_cards`); feedback carries only the card uuid, so
`feedback_report` joins the two. Free-text override comments are stored but never logged
and never printed by the report (they may name the patient).
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy.engine import Engine

from cds_service.db import feedback as feedback_table
from cds_service.db import insert_ignoring_duplicates, insert_many_ignoring_duplicates, issued_card

log = logging.getLogger(__name__)

OUTCOMES = ("accepted", "overridden")
MAX_ITEMS = 500
MAX_ID_LEN = 256
MAX_TEXT_LEN = 4000
MAX_SUGGESTIONS = 100  # a card carries a handful; the stored list must stay small
EARLIEST_TIMESTAMP = datetime(2000, 1, 1, tzinfo=timezone.utc)
MAX_FUTURE_SKEW = timedelta(days=1)


class FeedbackInvalid(ValueError):
    """The feedback body breaks section 6; the message names the offending element."""


@dataclass(frozen=True)
class FeedbackItem:
    card: str
    outcome: str
    outcome_timestamp: datetime  # UTC
    accepted_suggestions: tuple[str, ...]
    override_system: str | None = None
    override_code: str | None = None
    override_display: str | None = None
    override_comment: str | None = None

    def dedupe_key(self, service_id: str) -> str:
        canonical = json.dumps(
            [service_id, self.card, self.outcome, self.outcome_timestamp.isoformat(),
             sorted(set(self.accepted_suggestions))],
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


# -- validation -----------------------------------------------------------------------------

def _string(value, where: str, *, max_len: int = MAX_ID_LEN) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FeedbackInvalid(f"{where} must be a non-empty string")
    if len(value) > max_len:
        raise FeedbackInvalid(f"{where} is longer than {max_len} characters")
    return value


def parse_timestamp(value, where: str, *, now: datetime | None = None) -> datetime:
    """RFC 3339 date-time with a time zone (spec: UTC, e.g. 2021-12-11T10:05:31Z), between
    EARLIEST_TIMESTAMP and a day from now: feedback is about a card the service issued, and
    a year-1 or year-9999 instant cannot even be converted to UTC or stored everywhere."""
    text = _string(value, where, max_len=64)
    if "T" not in text.upper():
        raise FeedbackInvalid(f"{where} must be an RFC 3339 date-time, e.g. 2021-12-11T10:05:31Z")
    try:
        when = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        raise FeedbackInvalid(
            f"{where} must be an RFC 3339 date-time, e.g. 2021-12-11T10:05:31Z") from None
    if when.tzinfo is None:
        raise FeedbackInvalid(f"{where} must carry a time zone (UTC 'Z')")
    latest = (now or datetime.now(timezone.utc)) + MAX_FUTURE_SKEW
    try:
        when = when.astimezone(timezone.utc)
        in_range = EARLIEST_TIMESTAMP <= when <= latest
    except (OverflowError, ValueError):  # e.g. 0001-01-01T00:00:00+01:00
        in_range = False
    if not in_range:
        raise FeedbackInvalid(f"{where} must lie between {EARLIEST_TIMESTAMP:%Y-%m-%d} and "
                              "one day from now")
    return when


def _item(raw, where: str) -> FeedbackItem:
    if not isinstance(raw, dict):
        raise FeedbackInvalid(f"{where} must be an object")
    card = _string(raw.get("card"), f"{where}.card")
    outcome = raw.get("outcome")
    if outcome not in OUTCOMES:  # cds-fb-1
        raise FeedbackInvalid(f"{where}.outcome must be 'accepted' or 'overridden'")
    when = parse_timestamp(raw.get("outcomeTimestamp"), f"{where}.outcomeTimestamp")
    suggestions: list[str] = []
    if "acceptedSuggestions" in raw:
        accepted = raw["acceptedSuggestions"]
        if not isinstance(accepted, list) or not accepted:
            raise FeedbackInvalid(f"{where}.acceptedSuggestions must be a non-empty array")
        if len(accepted) > MAX_SUGGESTIONS:
            raise FeedbackInvalid(f"{where}.acceptedSuggestions has more than {MAX_SUGGESTIONS} items")
        for j, s in enumerate(accepted):
            if not isinstance(s, dict):
                raise FeedbackInvalid(f"{where}.acceptedSuggestions[{j}] must be an object")
            suggestions.append(_string(s.get("id"), f"{where}.acceptedSuggestions[{j}].id"))
    if outcome == "accepted" and not suggestions:  # cds-fb-2
        raise FeedbackInvalid(f"{where}.acceptedSuggestions is required when outcome is accepted")
    system = code = display = comment = None
    if "overrideReason" in raw:
        reason_obj = raw["overrideReason"]
        if not isinstance(reason_obj, dict):
            raise FeedbackInvalid(f"{where}.overrideReason must be an object")
        if "reason" not in reason_obj and "userComment" not in reason_obj:  # cds-fb-3
            raise FeedbackInvalid(f"{where}.overrideReason needs reason or userComment")
        if "reason" in reason_obj:
            coding = reason_obj["reason"]
            if not isinstance(coding, dict):
                raise FeedbackInvalid(f"{where}.overrideReason.reason must be a Coding")
            code = _string(coding.get("code"), f"{where}.overrideReason.reason.code")
            system = _string(coding.get("system"), f"{where}.overrideReason.reason.system",
                             max_len=512)
            if "display" in coding:
                display = _string(coding["display"], f"{where}.overrideReason.reason.display",
                                  max_len=512)
        if "userComment" in reason_obj:
            comment = _string(reason_obj["userComment"], f"{where}.overrideReason.userComment",
                              max_len=MAX_TEXT_LEN)
    return FeedbackItem(card, outcome, when, tuple(suggestions), system, code, display, comment)


def validate_feedback(body) -> list[FeedbackItem]:
    """Parse a feedback request body or raise FeedbackInvalid naming the problem."""
    if not isinstance(body, dict):
        raise FeedbackInvalid("body must be a JSON object {\"feedback\": [...]}")
    items = body.get("feedback")
    if not isinstance(items, list) or not items:
        raise FeedbackInvalid("feedback must be a non-empty array")
    if len(items) > MAX_ITEMS:
        raise FeedbackInvalid(f"feedback has more than {MAX_ITEMS} items")
    return [_item(raw, f"feedback[{i}]") for i, raw in enumerate(items)]


# -- storage --------------------------------------------------------------------------------

def store_feedback(engine: Engine, service_id: str, items: list[FeedbackItem],
                   client_iss: str | None = None) -> int:
    """Store each item unless already stored; returns how many were new."""
    now = datetime.now(timezone.utc)
    new = 0
    for item in items:
        row = {
            "dedupe_key": item.dedupe_key(service_id),
            "service_id": service_id,
            "card_uuid": item.card,
            "outcome": item.outcome,
            "outcome_timestamp": item.outcome_timestamp,
            "accepted_suggestions": json.dumps(sorted(set(item.accepted_suggestions)))
            if item.accepted_suggestions else None,
            "override_system": item.override_system,
            "override_code": item.override_code,
            "override_display": item.override_display,
            "override_comment": item.override_comment,
            "client_iss": client_iss,
            "received_at": now,
        }
        new += insert_ignoring_duplicates(engine, feedback_table, row)
    return new


def card_topic(card: dict) -> tuple[str, str | None]:
    """(code, display) of a card's `source.topic`, or a fallback naming the absence."""
    topic = (card.get("source") or {}).get("topic") if isinstance(card, dict) else None
    if isinstance(topic, dict) and isinstance(topic.get("code"), str) and topic["code"]:
        display = topic.get("display")
        return topic["code"], display if isinstance(display, str) else None
    return "(no topic)", None


def record_issued_cards(engine: Engine, service_id: str, cards: list[dict]) -> None:
    """Remember card uuid -> topic for every card with a uuid (feedback report input).

    One transaction per response. Best effort: a database problem is logged and never fails
    the hook response.
    """
    now = datetime.now(timezone.utc)
    rows = []
    for card in cards:
        uuid = card.get("uuid") if isinstance(card, dict) else None
        if not isinstance(uuid, str) or not uuid:
            continue
        code, display = card_topic(card)
        rows.append({"card_uuid": uuid[:MAX_ID_LEN], "service_id": service_id,
                     "topic_code": code[:MAX_ID_LEN],
                     "topic_display": display[:512] if display else None, "issued_at": now})
    if not rows:
        return
    try:
        insert_many_ignoring_duplicates(engine, issued_card, rows)
    except Exception as exc:  # noqa: BLE001 - never fail a hook call for bookkeeping
        log.warning("could not record issued cards: %s", type(exc).__name__)
