"""Where the tests marked `postgres` find their server: CDS_TEST_POSTGRES_URL, else the URL
file written by scripts/postgres-test-server. Missing or unreachable: skip locally, FAIL on CI
(CI must exercise the real PostgreSQL server)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

URL_FILE = Path(os.environ.get("CDS_PGTEST_DIR", "/tmp/myeloma-cds-pgtest")) / "url"


def postgres_url_or_skip() -> str:
    url = os.environ.get("CDS_TEST_POSTGRES_URL")
    if not url and URL_FILE.exists():
        url = URL_FILE.read_text().strip()
    problem = None
    if not url:
        problem = "no CDS_TEST_POSTGRES_URL and no scripts/postgres-test-server URL file"
    else:
        try:
            import psycopg
            with psycopg.connect(url, connect_timeout=5):
                pass
        except Exception as exc:  # noqa: BLE001 - any failure means "no server"
            problem = f"PostgreSQL at the test URL is unreachable ({type(exc).__name__})"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"{problem}; on CI the postgres tests must run (scripts/setup starts it)")
        pytest.skip(problem)
    return url
