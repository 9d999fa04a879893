"""`jti` replay store in the database, so every worker and replica sees every token.

A (iss, jti) pair is inserted when a token verifies; the primary key turns a second
presentation into a conflict, even when both arrive at the same instant on two processes.
Rows are kept until the token's expiry (plus clock skew) and then deleted opportunistically.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

from sqlalchemy import delete
from sqlalchemy.engine import Engine

from ..db import insert_ignoring_duplicates, jwt_replay


class ReplayStore:
    def __init__(self, engine: Engine, *, cleanup_every_s: float = 60.0):
        self.engine = engine
        self.cleanup_every_s = cleanup_every_s
        self._last_cleanup = 0.0
        self._lock = threading.Lock()

    def first_use(self, iss: str, jti: str, expires_at: float) -> bool:
        """Record the token; True if this (iss, jti) was never seen, False if replayed."""
        self._maybe_cleanup()
        row = {
            "iss": iss,
            "jti": jti,
            "expires_at": datetime.fromtimestamp(expires_at, tz=timezone.utc),
        }
        return insert_ignoring_duplicates(self.engine, jwt_replay, row)

    def cleanup(self, now: float | None = None) -> int:
        """Delete entries whose token has expired; returns how many."""
        cutoff = datetime.fromtimestamp(now if now is not None else time.time(), tz=timezone.utc)
        with self.engine.begin() as conn:
            return conn.execute(delete(jwt_replay).where(jwt_replay.c.expires_at < cutoff)).rowcount

    def _maybe_cleanup(self) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last_cleanup < self.cleanup_every_s:
                return
            self._last_cleanup = now
        self.cleanup()
