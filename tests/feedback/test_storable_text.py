"""Text that reaches the database is storable on SQLite and PostgreSQL alike (issue 13).

Request bodies cannot carry NUL characters or lone surrogates (the JSON parser refuses them,
tests/security/test_hostile_bodies.py); the database layer still normalises them, so any
other way in (a CLI, a future endpoint) stores U+FFFD instead of failing on PostgreSQL.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from cds_service.db import feedback as feedback_table
from cds_service.db import make_engine, storable_text
from cds_service.feedback.store import FeedbackItem, store_feedback, validate_feedback, FeedbackInvalid
from cds_service.security.replay import ReplayStore
from tests.feedback.postgres_url import postgres_url_or_skip


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path}/s.sqlite" if request.param == "sqlite" else postgres_url_or_skip()
    return make_engine(url)


def test_storable_text_replaces_nul_and_lone_surrogates_only():
    assert storable_text("a\x00b") == "a\ufffdb"
    assert storable_text("x\ud800y\udfff") == "x\ufffdy\ufffd"
    assert storable_text("caf\u00e9 \U0001F600 \u6cbb") == "caf\u00e9 \U0001F600 \u6cbb"


def test_feedback_with_nul_and_surrogates_is_stored_normalised(engine):
    card = f"card-{time.time_ns()}\x00"
    item = FeedbackItem(card=card, outcome="overridden",
                        outcome_timestamp=datetime(2026, 11, 23, 10, 5, tzinfo=timezone.utc),
                        accepted_suggestions=(), override_comment="bad \ud800 text \x00 end \U0001F600")
    assert store_feedback(engine, "myeloma-relapse", [item]) == 1
    with engine.connect() as conn:
        row = conn.execute(select(feedback_table.c.card_uuid, feedback_table.c.override_comment)
                           .where(feedback_table.c.card_uuid == storable_text(card))).one()
    assert row.override_comment == "bad \ufffd text \ufffd end \U0001F600"


def test_replay_store_accepts_a_jti_with_nul_once(engine):
    store = ReplayStore(engine)
    jti = f"jti-{time.time_ns()}-\x00-\ud800"
    assert store.first_use("https://ehr.example.test", jti, time.time() + 300) is True
    assert store.first_use("https://ehr.example.test", jti, time.time() + 300) is False


def test_accepted_suggestions_are_capped_at_100():
    item = {"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-11-23T10:05:31Z"}
    validate_feedback({"feedback": [{**item, "acceptedSuggestions": [{"id": f"s{i}"} for i in range(100)]}]})
    with pytest.raises(FeedbackInvalid, match="more than 100"):
        validate_feedback({"feedback": [{**item, "acceptedSuggestions": [{"id": f"s{i}"} for i in range(101)]}]})
