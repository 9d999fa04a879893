"""A small seeded synthetic export (benchmarks/surveil_export.py) shared by the tests."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from benchmarks.surveil_export import generate, write_export

AS_OF = date(2026, 11, 30)
N_PATIENTS = 60
SEED = 7


@pytest.fixture(scope="session")
def small_export(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    write_export(folder, N_PATIENTS, as_of=AS_OF, seed=SEED)
    return folder


@pytest.fixture(scope="session")
def patients_of_small_export() -> dict[str, list[dict]]:
    """patient id -> that patient's resources, exactly as written to the export."""
    out = {}
    for _, resources in generate(N_PATIENTS, as_of=AS_OF, seed=SEED):
        pid = next(r["id"] for r in resources if r["resourceType"] == "Patient")
        out[pid] = resources
    return out
