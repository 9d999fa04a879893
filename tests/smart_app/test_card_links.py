"""Every patient-view card links to the SMART timeline app with type "smart" (issue 7)."""
from __future__ import annotations

from datetime import date

from cds_service.cards import render_patient_view
from cds_service.cards.common import TIMELINE_LAUNCH_PATH, timeline_app_link, with_timeline_link
from cds_service.config import Config
from myeloma_model import assess
from myeloma_model.records import LabResult, PatientRecord

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
    assert timeline_app_link(Config()) is None  # no request, nothing configured: no guessed URL


def test_link_is_added_once_and_other_links_are_kept():
    other = {"label": "Guideline", "url": "https://example.org/g", "type": "absolute"}
    cards = [{"summary": "a", "links": [other]}, {"summary": "b"}]
    config = Config(app_url="https://apps.example.org/launch")
    with_timeline_link(with_timeline_link(cards, config), config)
    assert cards[0]["links"][0] == other
    for card in cards:
        smart = [link for link in card["links"] if link["type"] == "smart"]
        assert [link["url"] for link in smart] == ["https://apps.example.org/launch"]


def test_every_patient_view_card_links_to_the_app():
    assessment = assess(relapsing_record(), AS_OF)
    cards = render_patient_view(assessment, config=Config(app_url="https://apps.example.org/launch"))
    assert cards, "an in-scope relapsing patient gets at least the relapse-status card"
    for card in cards:
        assert {"label": card["links"][-1]["label"], "url": "https://apps.example.org/launch", "type": "smart"} in card["links"]


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
    for card in cards:
        assert {"label": card["links"][-1]["label"], "url": "https://cds.hospital.example" + TIMELINE_LAUNCH_PATH,
                "type": "smart"} in card["links"]
