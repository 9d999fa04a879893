"""Long strings where short codes belong (a 100,000-character unit, date or id) are data gaps
of bounded length, never parsed at length, never kept in a process-wide cache, and never make a
text rule run for minutes (the fuzz run found a hook call that held a worker past gunicorn's
30 s timeout: a 100 kB unit quoted in a data gap, then a backtracking card-text rule)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from cds_service.cards.words import clinical_text
from fhir_mappings import observations
from fhir_mappings.dates import UTC_SEEN, parse_date
from fhir_mappings.gaps import GapLog
from fhir_mappings.units import to_canonical
from tests.mappings.fhir import obs, quantity

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hooks" / "patient-view-len-refractory.json"
LONG = "x" * 100_000

# A hang must fail the test, not hold the suite: far above the milliseconds these take.
pytestmark = pytest.mark.timeout(30)


def test_an_over_long_unit_is_refused_without_parsing_and_not_remembered():
    value, problem = to_canonical("serum_m_protein", 1.0, LONG)
    assert value is None
    assert len(problem) < 120 and "100000 characters" in problem
    reader = observations.ObservationReader(gaps := GapLog())
    reader.add(obs("33358-3", id="long-unit", valueQuantity=quantity(2.0, LONG)))
    assert reader.labs == {}
    assert all(len(n) <= 300 for n in gaps.result())
    assert any("Observation/long-unit" in n for n in gaps.result())
    assert not any(len(unit) > 64 for _, unit in observations._FACTORS)


def test_a_64_character_unit_is_still_read_as_ucum():
    """The limit leaves room for any real unit: 'g/L' with a 60-character annotation converts."""
    unit = "g/L{" + "a" * 59 + "}"
    assert len(unit) == 64
    assert to_canonical("serum_m_protein", 2.0, unit) == (2.0, None)


def test_an_over_long_date_is_unreadable_and_not_remembered():
    padded = "2024-05-01" + " " * 100_000
    assert parse_date(padded) is None
    gaps = GapLog()
    reader = observations.ObservationReader(gaps)
    reader.add(obs("33358-3", id="long-date", when=padded, valueQuantity=quantity(2.0, "g/dL")))
    assert reader.labs == {}
    assert any("no effective date" in n for n in gaps.result())
    assert padded not in UTC_SEEN


def test_a_gap_note_is_cut_at_300_characters():
    gaps = GapLog()
    gaps.add("k", "Observation/" + LONG + ": something")
    (note,) = gaps.result()
    assert len(note) == 300 and note.endswith("…")


@pytest.mark.parametrize("text", [LONG + " missing unit", LONG, "a " * 50_000 + "missing unit"])
def test_card_text_rules_on_long_notes_are_bounded(text):
    out = clinical_text(text)
    assert len(out) <= 400


def test_the_card_text_rule_still_words_a_missing_unit():
    assert clinical_text("Observation/o1: igg missing unit; value not used") == \
        "IgG result without a unit; value not used"


def test_a_hook_call_with_a_100_kb_unit_answers_with_bounded_cards(client):
    body = json.loads(EXAMPLE.read_text())
    body = copy.deepcopy(body)
    entry = body["prefetch"]["observations"]["entry"][0]["resource"]
    entry["valueQuantity"]["unit"] = entry["valueQuantity"]["code"] = LONG
    resp = client.post("/cds-services/myeloma-relapse?asOf=2026-11-30", json=body)
    assert resp.status_code == 200
    assert LONG[:1000] not in resp.get_data(as_text=True)
    assert len(resp.get_data()) < 50_000
