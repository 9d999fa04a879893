"""The test suite keeps its hands off the developer's own database (instance/ of the
checkout): an app built with the default configuration writes to this run's temporary file."""
from __future__ import annotations

import json
import os
from pathlib import Path

from cds_service import create_app
from cds_service.config import Config
from cds_service.db import engine_for_app

REPO = Path(__file__).resolve().parents[1]
DEVELOPER_DB = REPO / "instance" / "myeloma-cds.sqlite"
VIGNETTE = json.loads((REPO / "examples/hooks/patient-view-vignette.json").read_text())


def fingerprint(path: Path):
    return (path.stat().st_mtime_ns, path.stat().st_size) if path.exists() else None


def test_a_default_app_writes_to_the_runs_temporary_database(_temporary_default_database):
    before = fingerprint(DEVELOPER_DB)
    app = create_app(Config(auth="off"))
    resp = app.test_client().post("/cds-services/myeloma-relapse", json=VIGNETTE)
    assert resp.status_code == 200
    database = Path(engine_for_app(app).url.database)
    assert str(database) == _temporary_default_database.removeprefix("sqlite:///")
    assert REPO not in database.parents
    assert database.exists()
    assert fingerprint(DEVELOPER_DB) == before


def test_subprocesses_get_the_temporary_database_too(_temporary_default_database):
    assert os.environ["CDS_DATABASE_URL"] == _temporary_default_database
    assert Config.from_env().database_url == _temporary_default_database
