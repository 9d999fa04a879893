"""Card builder shared by every card module: uuid, source with topic, summary guard, sources.

Cards follow CDS Hooks 2.0 (docs/cds-hooks.md#response): summary < 140 characters, markdown detail, indicator
info|warning|critical, source {label, url, topic}. Optional fields are omitted, never empty.
Topic and override-reason codings are in the service's own code systems (cards/codes.py).
"""
from __future__ import annotations

import uuid

from cds_service.cards.codes import TOPICS, override_reasons, service_base, topic_coding

INDICATORS = ("info", "warning", "critical")
SEVERITY = {"info": 0, "warning": 1, "critical": 2}
SUMMARY_MAX = 139  # "<140-character summary"

# Citations. The review is cited by its University of Oxford publication page (a stable page
# for the article: authors, title, abstract and the journal link).
REVIEW = {
    "label": "Vijjalwar R, Kannan A, Fuentes-Lacouture C, Ramasamy K. Approaches to managing relapsed myeloma: "
             "switching drug class or retreatment with same drug class? 2025",
    "url": "https://www.rdm.ox.ac.uk/publications/2102870",
}
REVIEW_SHORT = "Vijjalwar et al. 2025 (review of relapsed myeloma management)"
IMWG_2016 = {
    "label": "IMWG response criteria (Kumar et al., Lancet Oncol 2016)",
    "url": "https://doi.org/10.1016/S1470-2045(16)30206-6",
}
ADVISORY = "_Advice only: the service does not order or change treatment._"


def guard_summary(text: str) -> str:
    """One line, at most SUMMARY_MAX characters (cut at a word with an ellipsis)."""
    text = " ".join(text.split())
    if len(text) <= SUMMARY_MAX:
        return text
    cut = text[: SUMMARY_MAX - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def make_card(
    *,
    summary: str,
    indicator: str,
    topic: str,
    source: dict | None = None,
    detail: str | None = None,
    suggestions: list[dict] | None = None,
    selection_behavior: str | None = None,
    override_reason_codes: tuple[str, ...] = (),
    links: list[dict] | None = None,
    config=None,
) -> dict:
    if indicator not in INDICATORS:
        raise ValueError(f"indicator must be one of {INDICATORS}")
    if topic not in TOPICS:
        raise ValueError(f"unknown card topic {topic!r}")
    source = source or REVIEW
    card: dict = {"uuid": str(uuid.uuid4()), "summary": guard_summary(summary), "indicator": indicator}
    if detail:
        card["detail"] = detail
    card["source"] = {"label": source["label"], "url": source["url"], "topic": topic_coding(topic, config)}
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = selection_behavior or "at-most-one"
    if override_reason_codes:
        card["overrideReasons"] = override_reasons(*override_reason_codes, config=config)
    if links:
        card["links"] = links
    return card


def md_list(items: list[str], limit: int = 8) -> str:
    items = [i for i in items if i]
    shown = [f"- {i}" for i in items[:limit]]
    if len(items) > limit:
        shown.append(f"- and {len(items) - limit} more")
    return "\n".join(shown)


def cap_indicators(cards: list[dict], priority: list[dict]) -> list[dict]:
    """At most one card of a response is `warning` or `critical`: the first card of `priority`
    that is; every other one becomes `info` (the reader sees one alert, not three)."""
    kept = next((c for c in priority if c["indicator"] != "info"), None)
    for card in cards:
        if card is not kept and card["indicator"] != "info":
            card["indicator"] = "info"
    return cards


# --- SMART timeline app link (one per response, on the main card) -------------------------
TIMELINE_LINK_LABEL = "Relapse timeline and all options (SMART app)"
TIMELINE_LAUNCH_PATH = "/app/launch"


def timeline_app_link(config=None) -> dict:
    """The `smart` link to the relapse timeline app: CDS_APP_URL if set, else
    <service base>/app/launch. The EHR adds `iss` and `launch`."""
    url = getattr(config, "app_url", None) or service_base(config) + TIMELINE_LAUNCH_PATH
    return {"label": TIMELINE_LINK_LABEL, "url": url, "type": "smart"}
