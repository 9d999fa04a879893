"""Feedback endpoint (docs/cds-hooks.md#feedback): validation per cds-fb-1..3, 404 for unknown
services, idempotent storage (also under concurrent posts, on a SQLite file and on a real
PostgreSQL server), and the per-topic report."""
from __future__ import annotations

import json
import threading
import uuid

import pytest
from sqlalchemy import func, select

from cds_service import create_app
from cds_service.config import Config
from cds_service.db import feedback as feedback_table
from cds_service.db import make_engine, metadata
from cds_service.feedback.report import feedback_report, format_feedback_report
from cds_service.feedback.store import record_issued_cards, store_feedback, validate_feedback
from tests.feedback.postgres_url import postgres_url_or_skip
from tests.schema_assert import assert_operation_outcome

SERVICE = "myeloma-relapse"
URL = f"/cds-services/{SERVICE}/feedback"
REASON = {"system": "http://example.org/override-reasons", "code": "patient-declined",
          "display": "Patient declined"}


def accepted(card="card-1", ts="2026-11-23T10:05:31Z", suggestion="sugg-1") -> dict:
    return {"card": card, "outcome": "accepted", "acceptedSuggestions": [{"id": suggestion}],
            "outcomeTimestamp": ts}


def overridden(card="card-1", ts="2026-11-23T10:06:00Z", reason=REASON, comment=None) -> dict:
    item = {"card": card, "outcome": "overridden", "outcomeTimestamp": ts}
    override = {}
    if reason:
        override["reason"] = {k: v for k, v in reason.items()}
    if comment:
        override["userComment"] = comment
    if override:
        item["overrideReason"] = override
    return item


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path}/feedback.sqlite"


@pytest.fixture
def app(sqlite_url):
    app = create_app(Config(auth="off", database_url=sqlite_url))
    app.config.update(TESTING=True)
    return app


def stored_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(feedback_table)).scalar_one()


# -- validation --------------------------------------------------------------------------

VALID = {
    "accepted with a suggestion": {"feedback": [accepted()]},
    "overridden with a coded reason": {"feedback": [overridden()]},
    "overridden with a comment only": {"feedback": [overridden(reason=None, comment="not now")]},
    "overridden without any reason": {"feedback": [overridden(reason=None)]},
    "offset timestamp": {"feedback": [accepted(ts="2026-11-23T11:05:31+01:00")]},
    "batch across cards": {"feedback": [accepted("a"), overridden("b")]},
}

INVALID = {
    "feedback missing": ({}, "feedback"),
    "feedback empty": ({"feedback": []}, "feedback"),
    "feedback not an array": ({"feedback": {"card": "x"}}, "feedback"),
    "item not an object": ({"feedback": ["card-1"]}, "feedback[0]"),
    "card missing": ({"feedback": [{k: v for k, v in accepted().items() if k != "card"}]},
                     "feedback[0].card"),
    "card empty": ({"feedback": [accepted(card="")]}, "feedback[0].card"),
    "cds-fb-1 outcome not in the enum": ({"feedback": [{**accepted(), "outcome": "ignored"}]},
                                         "feedback[0].outcome"),
    "cds-fb-2 accepted without acceptedSuggestions": (
        {"feedback": [{k: v for k, v in accepted().items() if k != "acceptedSuggestions"}]},
        "feedback[0].acceptedSuggestions"),
    "acceptedSuggestions empty": ({"feedback": [{**accepted(), "acceptedSuggestions": []}]},
                                  "feedback[0].acceptedSuggestions"),
    "suggestion without id": ({"feedback": [{**accepted(), "acceptedSuggestions": [{}]}]},
                              "feedback[0].acceptedSuggestions[0].id"),
    "cds-fb-3 overrideReason empty": ({"feedback": [{**overridden(), "overrideReason": {}}]},
                                      "feedback[0].overrideReason"),
    "reason without code": ({"feedback": [overridden(reason={"system": "http://x"})]},
                            "feedback[0].overrideReason.reason.code"),
    "reason without system": ({"feedback": [overridden(reason={"code": "x"})]},
                              "feedback[0].overrideReason.reason.system"),
    "timestamp missing": ({"feedback": [{k: v for k, v in accepted().items()
                                         if k != "outcomeTimestamp"}]},
                          "feedback[0].outcomeTimestamp"),
    "timestamp without time zone": ({"feedback": [accepted(ts="2026-11-23T10:05:31")]},
                                    "feedback[0].outcomeTimestamp"),
    "date only": ({"feedback": [accepted(ts="2026-11-23")]}, "feedback[0].outcomeTimestamp"),
    "not a date": ({"feedback": [accepted(ts="yesterday")]}, "feedback[0].outcomeTimestamp"),
    "null outcome": ({"feedback": [{**accepted(), "outcome": None}]}, "feedback[0].outcome"),
}


@pytest.mark.parametrize("case", sorted(VALID))
def test_valid_feedback_is_stored_with_200(app, case):
    resp = app.test_client().post(URL, json=VALID[case])
    assert resp.status_code == 200, resp.data


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_feedback_is_a_400_operation_outcome_naming_the_element(app, case):
    body, expression = INVALID[case]
    resp = app.test_client().post(URL, json=body)
    assert resp.status_code == 400
    outcome = resp.get_json()
    assert_operation_outcome(outcome)
    assert outcome["issue"][0]["expression"] == [expression]


def test_non_json_body_is_a_400(app):
    resp = app.test_client().post(URL, data=b"{not json", content_type="application/json")
    assert resp.status_code == 400
    assert_operation_outcome(resp.get_json())


def test_unknown_service_is_a_404(app):
    resp = app.test_client().post("/cds-services/no-such-service/feedback",
                                  json={"feedback": [accepted()]})
    assert resp.status_code == 404
    assert_operation_outcome(resp.get_json())


# -- idempotency -------------------------------------------------------------------------

def test_same_feedback_posted_twice_is_stored_once(app, sqlite_url):
    client = app.test_client()
    body = {"feedback": [accepted(), overridden()]}
    assert client.post(URL, json=body).status_code == 200
    assert client.post(URL, json=body).status_code == 200
    assert stored_count(make_engine(sqlite_url)) == 2


def test_same_item_twice_in_one_batch_and_equal_timestamps_are_one(sqlite_url):
    engine = make_engine(sqlite_url)
    items = validate_feedback({"feedback": [
        accepted(ts="2026-11-23T10:05:31Z"), accepted(ts="2026-11-23T11:05:31+01:00")]})
    assert store_feedback(engine, SERVICE, items) == 1
    assert stored_count(engine) == 1


def test_distinct_events_on_one_card_are_all_kept(sqlite_url):
    engine = make_engine(sqlite_url)
    items = validate_feedback({"feedback": [
        accepted(ts="2026-11-23T10:05:31Z"), accepted(ts="2026-11-23T10:05:32Z"),
        accepted(suggestion="sugg-2"), overridden()]})
    assert store_feedback(engine, SERVICE, items) == 4


def concurrent_posts(url: str, threads: int = 12) -> int:
    """`threads` workers (each its own engine, as separate processes would have) post the
    same batch at the same instant; returns the rows stored."""
    engine = make_engine(url)
    card = f"card-{uuid.uuid4()}"
    body = {"feedback": [accepted(card), overridden(card, comment="dose too high")]}
    items = validate_feedback(body)
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def worker():
        own = make_engine(url)
        try:
            barrier.wait()
            store_feedback(own, SERVICE, items)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            own.dispose()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert not errors, errors
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(feedback_table)
                            .where(feedback_table.c.card_uuid == card)).scalar_one()


def test_concurrent_posts_store_once_on_a_sqlite_file(sqlite_url):
    assert concurrent_posts(sqlite_url) == 2


def test_concurrent_http_posts_store_once(app, sqlite_url):
    body = {"feedback": [accepted("card-http")]}
    barrier = threading.Barrier(8)
    statuses = []

    def worker():
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(URL, json=body).status_code)

    pool = [threading.Thread(target=worker) for _ in range(8)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert statuses == [200] * 8
    assert stored_count(make_engine(sqlite_url)) == 1


@pytest.fixture
def postgres_url():
    url = postgres_url_or_skip()
    engine = make_engine(url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.mark.postgres
def test_concurrent_posts_store_once_on_postgresql(postgres_url):
    assert concurrent_posts(postgres_url) == 2


@pytest.mark.postgres
def test_feedback_endpoint_and_report_on_postgresql(postgres_url):
    app = create_app(Config(auth="off", database_url=postgres_url))
    client = app.test_client()
    engine = make_engine(postgres_url)
    record_issued_cards(engine, SERVICE, [{"uuid": "pg-card", "source": {"topic": {
        "code": "relapse-status", "system": "http://example.org/topics"}}}])
    assert client.post(URL, json={"feedback": [overridden("pg-card")]}).status_code == 200
    assert client.post(URL, json={"feedback": [overridden("pg-card")]}).status_code == 200
    (row,) = feedback_report(engine)
    assert (row["topic"], row["total"], row["overridden"]) == ("relapse-status", 1, 1)


# -- report ------------------------------------------------------------------------------

def test_report_gives_rates_per_topic_and_override_reasons(sqlite_url):
    engine = make_engine(sqlite_url)
    topic = {"system": "http://example.org/topics", "code": "relapse-status",
             "display": "Relapse status"}
    record_issued_cards(engine, SERVICE, [
        {"uuid": "c1", "summary": "s", "source": {"label": "x", "topic": topic}},
        {"uuid": "c2", "summary": "s", "source": {"label": "x", "topic": topic}},
        {"uuid": "c3", "summary": "s", "source": {"label": "x", "topic": {
            "system": "http://example.org/topics", "code": "regimen-options"}}},
        {"summary": "no uuid, never reported"},
    ])
    store_feedback(engine, SERVICE, validate_feedback({"feedback": [
        accepted("c1"),
        overridden("c2"),
        overridden("c2", ts="2026-11-23T12:00:00Z", reason=None, comment="Jane Doe prefers x"),
        accepted("c3"),
        accepted("unknown-card"),
    ]}))
    report = {row["topic"]: row for row in feedback_report(engine)}
    relapse = report["relapse-status"]
    assert (relapse["total"], relapse["accepted"], relapse["overridden"]) == (3, 1, 2)
    assert relapse["accept_rate"] == pytest.approx(1 / 3)
    assert relapse["override_rate"] == pytest.approx(2 / 3)
    assert relapse["override_reasons"] == [
        ("Patient declined (http://example.org/override-reasons|patient-declined)", 1)]
    assert relapse["comments"] == 1
    assert report["regimen-options"]["accept_rate"] == 1.0
    assert report["(card not issued by this service)"]["total"] == 1
    text = format_feedback_report(feedback_report(engine))
    assert "relapse-status (Relapse status): 3 feedback, accepted 1 (33%), overridden 2 (67%)" in text
    assert "Patient declined" in text
    assert "Jane Doe" not in text  # free text may name the patient: never printed


def test_empty_report(sqlite_url):
    assert format_feedback_report(feedback_report(make_engine(sqlite_url))) == "No feedback stored yet."


# -- end to end: cards issued by the service, feedback on them, the CLI report -------------

def test_feedback_on_issued_cards_is_reported_per_topic_by_the_cli(app, sqlite_url, monkeypatch,
                                                                   capsys):
    from pathlib import Path

    from cds_service.cli import main

    example = Path(__file__).resolve().parents[2] / "examples" / "hooks" / "patient-view-len-refractory.json"
    body = json.loads(example.read_text())
    client = app.test_client()
    # as of the examples' date: "today" the record's results are stale (one repeat card only)
    cards = client.post(f"/cds-services/{SERVICE}?asOf=2025-06-30", json=body).get_json()["cards"]
    assert len(cards) >= 2, "the example patient should get two cards or more"
    first, second = cards[0], cards[-1]
    assert client.post(URL, json={"feedback": [
        overridden(first["uuid"]), overridden(second["uuid"], ts="2026-11-23T10:07:00Z")]}
    ).status_code == 200

    monkeypatch.setenv("CDS_DATABASE_URL", sqlite_url)
    assert main(["feedback-report"]) == 0
    text = capsys.readouterr().out
    for card in (first, second):
        assert card["source"]["topic"]["code"] in text
    assert "overridden 1 (100%)" in text and "Patient declined" in text

    assert main(["feedback-report", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    topics = {r["topic"] for r in rows}
    assert topics == {first["source"]["topic"]["code"], second["source"]["topic"]["code"]}


@pytest.mark.postgres
def test_jti_replay_store_is_shared_through_postgresql(postgres_url):
    """Two workers on one PostgreSQL database: a token accepted by one is a replay for the
    other, even when both see it at the same instant."""
    import time

    from cds_service.security.replay import ReplayStore

    stores = [ReplayStore(make_engine(postgres_url)) for _ in range(8)]
    jti = str(uuid.uuid4())
    barrier = threading.Barrier(len(stores))
    results = []

    def worker(store):
        barrier.wait()
        results.append(store.first_use("https://ehr.example.test", jti, time.time() + 300))

    pool = [threading.Thread(target=worker, args=(s,)) for s in stores]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert sorted(results) == [False] * 7 + [True]


@pytest.mark.postgres
def test_store_reports_new_items_only_once_on_postgresql(postgres_url):
    engine = make_engine(postgres_url)
    items = validate_feedback({"feedback": [accepted(f"pg-{uuid.uuid4()}")]})
    assert store_feedback(engine, SERVICE, items) == 1
    assert store_feedback(engine, SERVICE, items) == 0
