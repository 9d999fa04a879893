"""The ready-made hook requests of examples/hooks/ sent to the service (full prefetch, no
network): valid responses, the cards each example was built to produce."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from cds_service.hooks import pipeline
from cds_service.http.schemas import RESPONSE, validator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AS_OF = date.fromisoformat(json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8"))["asOf"])
CARFILZOMIB_CARDIAC_WORDS = ("carfilzomib", "kyprolis")
HEART_WORDS = ("heart", "cardiac", "echo")


@pytest.fixture(autouse=True)
def examples_date(monkeypatch):
    """The examples are dated: 'today' is their documented as-of date (echo age, months off drug)."""
    monkeypatch.setattr(pipeline, "today", lambda: AS_OF)


def post(client, service_id: str, example: str):
    body = json.loads((EXAMPLES / "hooks" / f"{example}.json").read_text(encoding="utf-8"))
    resp = client.post(f"/cds-services/{service_id}", json=body)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    out = resp.get_json()
    errors = list(validator(RESPONSE).iter_errors(out))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    return out["cards"]


def text_of(card: dict) -> str:
    return (card.get("summary", "") + " " + card.get("detail", "")).lower()


@pytest.mark.parametrize("patient", ["vignette", "len-refractory", "triple-class", "cardiac"])
def test_patient_view_for_a_relapsed_patient_leads_with_the_relapse_card(client, patient):
    cards = post(client, "myeloma-relapse", f"patient-view-{patient}")
    assert cards[0]["source"].get("topic", {}).get("code") == "relapse-treatment"
    assert "relapse since" in cards[0]["summary"]


def test_patient_view_for_a_patient_without_myeloma_returns_no_cards(client):
    assert post(client, "myeloma-relapse", "patient-view-no-myeloma") == []


def test_order_sign_carfilzomib_warns_for_heart_failure(client):
    cards = post(client, "myeloma-order-sign", "order-sign-carfilzomib-cardiac")
    about = [c for c in cards if c["indicator"] in ("warning", "critical")
             and any(w in text_of(c) for w in CARFILZOMIB_CARDIAC_WORDS) and "heart" in text_of(c)]
    assert about, [c["summary"] for c in cards]


def test_order_sign_carfilzomib_is_quiet_without_cardiac_disease_and_with_a_recent_echo(client):
    cards = post(client, "myeloma-order-sign", "order-sign-carfilzomib-len-refractory")
    about = [c for c in cards if any(w in text_of(c) for w in HEART_WORDS)]
    assert about == [], [c["summary"] for c in about]


def test_stable_remission_gets_no_card_by_default(client):
    assert post(client, "myeloma-relapse", "patient-view-stable-remission") == []
