"""Card rendering: assessment -> CDS Hooks cards (templates apart from clinical logic).

The card set follows the situation (docs/cards.md), one card per topic, at most three:
- out of scope, or stable / unknown with nothing to act on: no card (the setting
  `CDS_STABLE_DISEASE_CARD` turns on an info card for stable disease);
- a suspected rise, or markers too old to judge (timing `confirm`): one info card with one draft
  order set to repeat SPEP and free light chains;
- a relapse (timing `treat-now`): the relapse card (verdict, timing, strategy, top three
  regimens), the investigations card (one order set) when tests are missing, the safety card
  when a safety finding exists;
- a safety finding is shown whatever the relapse status.
At most one card is `warning` or `critical`; the SMART app link is on the first card only.
"""
from __future__ import annotations

from cds_service.cards import investigations, relapse_status, safety, treatment
from cds_service.cards.common import cap_indicators, timeline_app_link
from myeloma_model.contract import Assessment


def stable_card_enabled(config) -> bool:
    return bool(getattr(config, "stable_disease_card", False))


def render_patient_view(assessment: Assessment, *, config=None) -> list[dict]:
    """The cards for one typed assessment (myeloma_model.contract.Assessment)."""
    if not assessment.in_scope:
        return []
    link = timeline_app_link(config)
    timing = assessment.timing
    safety_card = safety.safety_card(assessment, config=config)
    cards: list[dict] = []
    if timing == "treat-now":
        main = treatment.relapse_card(assessment, config=config, link=link)
        cards.append(main)
        inv = investigations.investigations_card(assessment, config=config)
        if inv:
            cards.append(inv)
        if safety_card:
            cards.append(safety_card)
        # clinical relapse (critical) outranks a safety warning, which outranks a biochemical relapse
        priority = [main, safety_card] if main["indicator"] == "critical" else [safety_card, main]
        return cap_indicators(cards, [c for c in priority if c])
    if timing == "confirm":
        status = assessment.relapse.status
        stale = assessment.data_freshness == "stale" or status != "suspected"
        provisional = treatment.provisional_text(assessment)
        main = relapse_status.suspected_card(assessment, config=config, stale=stale, provisional=provisional)
    elif stable_card_enabled(config):
        main = relapse_status.stable_card(assessment, config=config)
    else:
        main = None
    if main:
        cards.append(main)
    if safety_card:
        cards.append(safety_card)
    if cards:
        cards[0].setdefault("links", []).append(link)
    return cards
