"""Cards of a dated patient (`assess --cards`, `?asOf=` on the hook when auth is off) and the
service's own code systems served at the URLs the cards carry."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cds_service import cli
from cds_service.cards.codes import TOPICS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
URL = "/cds-services/myeloma-relapse"


def load(rel: str) -> dict:
    return json.loads((EXAMPLES / rel).read_text())


def strip_uuids(cards: list[dict]) -> list[dict]:
    out = json.loads(json.dumps(cards))
    for card in out:
        card.pop("uuid")
        for s in card.get("suggestions") or []:
            s.pop("uuid")
    return out


def test_hook_as_of_a_date_gives_the_cards_of_that_date(client):
    body = load("hooks/patient-view-vignette.json")
    dated = client.post(URL + "?asOf=2025-06-30", json=body)
    assert dated.status_code == 200
    cards = dated.get_json()["cards"]
    assert cards[0]["summary"].startswith("Biochemical relapse since 28 Apr 2025")
    # before the first rise the same record shows no relapse: no card by default
    assert client.post(URL + "?asOf=2025-01-31", json=body).get_json() == {"cards": []}


@pytest.mark.parametrize("bad", ["2025-13-01", "yesterday", "30/06/2025"])
def test_hook_as_of_must_be_a_date(client, bad):
    resp = client.post(URL + f"?asOf={bad}", json=load("hooks/patient-view-vignette.json"))
    assert resp.status_code == 400
    assert resp.get_json()["issue"][0]["expression"] == ["asOf"]


def test_cli_cards_print_the_patient_view_response_of_that_date(capsys):
    assert cli.main(["assess", str(EXAMPLES / "patients/vignette.json"), "--as-of", "2025-06-30", "--cards"]) == 0
    from_bundle = json.loads(capsys.readouterr().out)
    assert list(from_bundle) == ["cards"]
    assert [c["source"]["topic"]["code"] for c in from_bundle["cards"]] == ["relapse-treatment", "investigations"]
    assert cli.main(["assess", str(EXAMPLES / "hooks/patient-view-vignette.json"), "--as-of", "2025-06-30",
                     "--cards"]) == 0
    from_hook = json.loads(capsys.readouterr().out)
    assert strip_uuids(from_hook["cards"]) == strip_uuids(from_bundle["cards"])


def test_cli_cards_of_the_same_record_match_the_http_hook(client, capsys):
    cli.main(["assess", str(EXAMPLES / "hooks/patient-view-triple-class.json"), "--as-of", "2025-06-30", "--cards"])
    printed = json.loads(capsys.readouterr().out)["cards"]
    served = client.post(URL + "?asOf=2025-06-30", json=load("hooks/patient-view-triple-class.json"),
                         base_url="http://127.0.0.1:8080").get_json()["cards"]
    assert strip_uuids(printed) == strip_uuids(served)


def test_cli_cards_of_a_patient_without_myeloma_are_empty(capsys):
    assert cli.main(["assess", str(EXAMPLES / "patients/no-myeloma.json"), "--as-of", "2025-06-30", "--cards"]) == 0
    assert json.loads(capsys.readouterr().out) == {"cards": []}


def test_topic_code_system_is_served_where_the_cards_point(client):
    card = client.post(URL + "?asOf=2025-06-30", json=load("hooks/patient-view-vignette.json"),
                       base_url="http://cds.local:9000").get_json()["cards"][0]
    system = card["source"]["topic"]["system"]
    assert system == "http://cds.local:9000/codesystem/card-topic"
    resp = client.get("/codesystem/card-topic", base_url="http://cds.local:9000")
    assert resp.status_code == 200 and resp.mimetype == "application/fhir+json"
    cs = resp.get_json()
    assert cs["resourceType"] == "CodeSystem" and cs["url"] == system and cs["content"] == "complete"
    assert {c["code"] for c in cs["concept"]} == set(TOPICS)
    assert card["source"]["topic"]["code"] in {c["code"] for c in cs["concept"]}
    reasons = client.get("/codesystem/override-reason", base_url="http://cds.local:9000").get_json()
    assert reasons["url"] == card["overrideReasons"][0]["system"]
    assert {o["code"] for o in card["overrideReasons"]} <= {c["code"] for c in reasons["concept"]}


def test_unknown_code_system_is_404(client):
    resp = client.get("/codesystem/nope")
    assert resp.status_code == 404 and resp.get_json()["resourceType"] == "OperationOutcome"
