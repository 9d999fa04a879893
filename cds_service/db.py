"""The service's one database: JWT replay store, clinician feedback, issued-card topics.

Why a database and not memory: the `jti` replay store must be shared by every worker and
replica, and feedback must survive restarts. SQLite (a file) is the default so a developer
needs nothing; PostgreSQL is used by giving `CDS_DATABASE_URL=postgresql://...` (driver:
psycopg 3). Idempotency is enforced by unique constraints, so concurrent writers are safe on
both engines.
"""
from __future__ import annotations

import os
import threading

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

DEFAULT_SQLITE_NAME = "myeloma-cds.sqlite"

metadata = MetaData()

# One row per accepted JWT: (iss, jti) may never be presented twice while the token lives.
jwt_replay = Table(
    "jwt_replay",
    metadata,
    Column("iss", String(512), primary_key=True),
    Column("jti", String(256), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_jwt_replay_expires_at", "expires_at"),
)

# One row per distinct feedback item; `dedupe_key` makes re-posts and concurrent posts no-ops.
feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(64), nullable=False, unique=True),
    Column("service_id", String(128), nullable=False),
    Column("card_uuid", String(256), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("outcome_timestamp", DateTime(timezone=True), nullable=False),
    Column("accepted_suggestions", Text, nullable=True),  # JSON array of suggestion uuids
    Column("override_system", String(512), nullable=True),
    Column("override_code", String(256), nullable=True),
    Column("override_display", String(512), nullable=True),
    Column("override_comment", Text, nullable=True),
    Column("client_iss", String(512), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_feedback_card_uuid", "card_uuid"),
)

# card uuid -> topic, written when cards are issued, so feedback (which carries only the
# card uuid) can be reported per card topic.
issued_card = Table(
    "issued_card",
    metadata,
    Column("card_uuid", String(256), primary_key=True),
    Column("service_id", String(128), nullable=False),
    Column("topic_code", String(256), nullable=False),
    Column("topic_display", String(512), nullable=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)

_create_lock = threading.Lock()


def sqlalchemy_url(url: str) -> str:
    """Map a plain `postgresql://` / `postgres://` URL onto the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def default_database_url(instance_path: str) -> str:
    """SQLite file in the Flask instance folder (created if missing)."""
    os.makedirs(instance_path, exist_ok=True)
    return "sqlite:///" + os.path.join(os.path.abspath(instance_path), DEFAULT_SQLITE_NAME)


def make_engine(url: str) -> Engine:
    """Engine for `url`, with the schema created. SQLite gets WAL and a busy timeout so
    several threads/processes can write the same file."""
    url = sqlalchemy_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, future=True
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")  # WAL: durable enough, one fsync less
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    else:
        engine = create_engine(url, pool_pre_ping=True, future=True)
    create_schema(engine)
    return engine


def create_schema(engine: Engine) -> None:
    """Create missing tables. Two processes creating at once can collide on PostgreSQL's
    catalog; the loser just re-checks."""
    with _create_lock:
        for _attempt in range(3):
            try:
                metadata.create_all(engine, checkfirst=True)
                return
            except (IntegrityError, ProgrammingError, OperationalError):
                continue
        metadata.create_all(engine, checkfirst=True)


def engine_for_app(app) -> Engine:
    """The app's engine, created once from `CDS_DATABASE_URL` (default: instance SQLite)."""
    engine = app.extensions.get("cds_db_engine")
    if engine is None:
        configured = getattr(app.config.get("CDS"), "database_url", None)
        url = configured or default_database_url(app.instance_path)
        engine = make_engine(url)
        app.extensions["cds_db_engine"] = engine
    return engine


def _dialect_insert(engine: Engine):
    if engine.dialect.name == "postgresql":
        return postgresql_insert
    if engine.dialect.name == "sqlite":
        return sqlite_insert
    return None  # pragma: no cover


def insert_many_ignoring_duplicates(engine: Engine, table: Table, rows: list[dict]) -> None:
    """Insert rows in one transaction, skipping those whose key already exists."""
    insert = _dialect_insert(engine)
    with engine.begin() as conn:
        if insert is None:  # pragma: no cover
            for row in rows:
                try:
                    with conn.begin_nested():
                        conn.execute(table.insert().values(**row))
                except IntegrityError:
                    pass
            return
        conn.execute(insert(table).on_conflict_do_nothing(), rows)


def insert_ignoring_duplicates(engine: Engine, table: Table, row: dict) -> bool:
    """INSERT that is a no-op on a unique-key conflict. True if the row was inserted.

    Uses the dialect's ON CONFLICT DO NOTHING so concurrent writers never see an error, and
    RETURNING to learn whether this call inserted: `rowcount` is not reliable here (psycopg 3
    reports -1), and the jti replay check depends on this answer.
    """
    insert = _dialect_insert(engine)
    if insert is None:  # pragma: no cover - other engines: rely on the constraint
        try:
            with engine.begin() as conn:
                conn.execute(table.insert().values(**row))
            return True
        except IntegrityError:
            return False
    key = list(table.primary_key.columns)[0]
    stmt = insert(table).values(**row).on_conflict_do_nothing().returning(key)
    with engine.begin() as conn:
        return conn.execute(stmt).first() is not None
