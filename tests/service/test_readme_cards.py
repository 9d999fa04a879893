"""The README's example cards are what the service returns for the demo patients as of
2025-06-30 (issue 11: the README's cards stay true whatever today's date is)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
URL = "/cds-services/myeloma-relapse?asOf=2025-06-30"


def between(name: str) -> str:
    return README.split(f"<!-- {name}:begin -->", 1)[1].split(f"<!-- {name}:end -->", 1)[0].strip()


def readme_rows() -> dict[str, list[tuple[str, str, str]]]:
    rows: dict[str, list[tuple[str, str, str]]] = {}
    for line in between("cards").splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        patient = cells[0].strip("`")
        rows.setdefault(patient, [])
        if cells[1] != "(no card)":
            rows[patient].append((cells[1].strip("`"), cells[2].strip("`"), cells[3]))
    return rows


ROWS = readme_rows()


@pytest.mark.parametrize("patient", sorted(ROWS))
def test_readme_card_table_matches_the_service(client, patient):
    body = json.loads((ROOT / "examples" / "hooks" / f"patient-view-{patient}.json").read_text())
    cards = client.post(URL, json=body).get_json()["cards"]
    served = [(c["source"]["topic"]["code"], c["indicator"], c["summary"]) for c in cards]
    assert served == ROWS[patient]


def test_readme_vignette_detail_matches_the_service(client):
    body = json.loads((ROOT / "examples" / "hooks" / "patient-view-vignette.json").read_text())
    card = client.post(URL, json=body).get_json()["cards"][0]
    shown = re.sub(r"^```markdown\n|\n```$", "", between("vignette-detail"))
    assert shown == card["detail"]


def test_every_example_patient_is_in_the_readme_table():
    examples = {p.stem for p in (ROOT / "examples" / "patients").glob("*.json")}
    assert set(ROWS) == examples
