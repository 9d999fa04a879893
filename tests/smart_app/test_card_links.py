"""The patient-view response links to the SMART timeline app once, on its first card, with type
"smart" (issue 7; one link per response since issue 11)."""
from __future__ import annotations

from cds_service.cards.contract_words import assessment_json
from myeloma_model.contract import from_json
from datetime import date

from cds_service.cards import render_patient_view
from cds_service.cards.codes import DEFAULT_BASE
from cds_service.cards.common import TIMELINE_LAUNCH_PATH, timeline_app_link
from cds_service.config import Config
from myeloma_model import evaluate
from myeloma_model.records import LabResult, PatientRecord


def assess(record, as_of) -> dict:
    """The assessment in the JSON form the service sends (sentences worded)."""
    return assessment_json(evaluate(record, as_of))


AS_OF = date(2025, 6, 30)


def relapsing_record() -> PatientRecord:
    """In scope, serum M-protein 2 -> 7.1 -> 7.3 g/L: enough for a relapse-status card."""
    values = [(date(2023, 1, 1), 2.0), (date(2025, 4, 28), 7.1), (date(2025, 6, 9), 7.3)]
    labs = {"serum_m_protein": [LabResult("serum_m_protein", v, d) for d, v in values]}
    return PatientRecord(patient_id="p1", in_scope=True, labs=labs)


def test_configured_app_url_is_used_verbatim():
    link = timeline_app_link(Config(app_url="https://apps.example.org/timeline/launch"))
    assert link == {"label": link["label"], "url": "https://apps.example.org/timeline/launch", "type": "smart"}


def test_public_base_url_gets_the_launch_path():
    link = timeline_app_link(Config(public_base_url="https://cds.example.org"))
    assert link["url"] == "https://cds.example.org" + TIMELINE_LAUNCH_PATH


def test_without_configuration_the_request_base_is_used(app):
    with app.test_request_context("/cds-services/x", base_url="http://cds.local:9000/"):
        assert timeline_app_link(Config())["url"] == "http://cds.local:9000" + TIMELINE_LAUNCH_PATH
    # no request, nothing configured (the CLI): the development server's address
    assert timeline_app_link(Config())["url"] == DEFAULT_BASE + TIMELINE_LAUNCH_PATH


def test_the_response_links_to_the_app_once_on_its_first_card():
    assessment = assess(relapsing_record(), AS_OF)
    cards = render_patient_view(from_json(assessment), config=Config(app_url="https://apps.example.org/launch"))
    assert cards, "an in-scope relapsing patient gets at least the relapse card"
    assert cards[0]["links"] == [{"label": cards[0]["links"][0]["label"], "url": "https://apps.example.org/launch",
                                  "type": "smart"}]
    assert all("links" not in card for card in cards[1:])


def test_hook_response_cards_all_carry_the_smart_link(client):
    """Through the real hook endpoint (vignette with prefetch): no public URL configured, so
    the link is built from the request's own base URL."""
    import json
    from pathlib import Path

    body = json.loads((Path(__file__).resolve().parents[2] / "examples" / "hooks" / "patient-view-vignette.json")
                      .read_text(encoding="utf-8"))
    resp = client.post("/cds-services/myeloma-relapse", json=body, base_url="https://cds.hospital.example")
    assert resp.status_code == 200
    cards = resp.get_json()["cards"]
    assert cards
    links = [link for card in cards for link in card.get("links") or []]
    assert links == [{"label": links[0]["label"], "url": "https://cds.hospital.example" + TIMELINE_LAUNCH_PATH,
                      "type": "smart"}]
