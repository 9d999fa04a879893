"""Where the tests marked `postgres` find their server: one PostgreSQL server per test run,
in a temporary data directory, started on first use by scripts/postgres-test-server and
stopped (folder removed) when the run ends (tests/conftest.py calls `stop_run_server`).
With CDS_TEST_POSTGRES_URL set, that server is used instead, with a database of this run's
own, dropped at the end. No PostgreSQL: skip locally, FAIL on CI (CI must exercise it;
scripts/setup installs Debian's postgresql as root)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "postgres-test-server"

_state: dict = {}  # url, and how to clean up: dir (own server) or admin_url + database


def _start_own_server() -> str:
    # Directly under /tmp: as root the server runs as `postgres`, which must reach the folder
    # (pytest's own tmp folders are private to the user running the tests).
    folder = tempfile.mkdtemp(prefix="myeloma-cds-pgtest-")
    _state["dir"] = folder
    env = {**os.environ, "CDS_PGTEST_DIR": folder}
    proc = subprocess.run([str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"scripts/postgres-test-server failed: {proc.stderr.strip()[-500:]}")
    return (Path(folder) / "url").read_text().strip()


def _own_database_on(admin_url: str) -> str:
    name = f"myeloma_cds_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    _state["admin_url"], _state["database"] = admin_url, name
    return admin_url.rsplit("/", 1)[0] + "/" + name


def _run_url() -> str:
    if "url" not in _state:
        external = os.environ.get("CDS_TEST_POSTGRES_URL")
        _state["url"] = _own_database_on(external) if external else _start_own_server()
    return _state["url"]


def postgres_url_or_skip() -> str:
    problem = None
    try:
        url = _run_url()
        with psycopg.connect(url, connect_timeout=5):
            pass
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        _state.setdefault("url", None)  # do not retry for every test
        problem = f"no PostgreSQL test server ({type(exc).__name__}: {str(exc)[:300]})"
    else:
        if url is None:
            problem = "no PostgreSQL test server (failed to start earlier in this run)"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"{problem}; on CI the postgres tests must run (scripts/setup installs it)")
        pytest.skip(problem)
    return url


def stop_run_server() -> None:
    """End of the run: stop this run's server and remove its folder, or drop its database."""
    folder = _state.pop("dir", None)
    if folder:
        subprocess.run([str(SCRIPT), "stop"], env={**os.environ, "CDS_PGTEST_DIR": folder},
                       capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
    database = _state.pop("database", None)
    if database:
        try:
            with psycopg.connect(_state["admin_url"], autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        except Exception:  # noqa: BLE001 - best effort at the end of the run
            pass
    _state.clear()
