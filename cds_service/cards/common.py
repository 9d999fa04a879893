"""Card builder shared by every card module: uuid, source with topic, summary guard.

Cards follow docs/cds-hooks.md#response: summary < 140 characters, markdown detail, indicator
info|warning|critical, source {label, url, topic}. Optional fields are omitted, never empty.
"""
from __future__ import annotations

import uuid

from flask import has_request_context, request

TOPIC_SYSTEM = "https://myeloma-cds.example.org/card-topic"
TOPICS = {
    "relapse-status": "Relapse status",
    "treatment-timing": "Treatment timing",
    "treatment-options": "Treatment options",
    "investigations": "Investigations before treatment",
    "safety": "Safety",
}
INDICATORS = ("info", "warning", "critical")
SUMMARY_MAX = 139  # "<140-character summary"

# Citations used by several cards.
IMWG_2016 = {
    "label": "IMWG response criteria (Kumar et al., Lancet Oncol 2016)",
    "url": "https://doi.org/10.1016/S1470-2045(16)30206-6",
}
REVIEW_2025 = (
    "Vijjalwar R, Kannan A, Fuentes-Lacouture C, Ramasamy K. Approaches to managing relapsed "
    "myeloma: switching drug class or retreatment with same drug class? (2025)"
)


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
    source_label: str,
    source_url: str | None = None,
    detail: str | None = None,
    suggestions: list[dict] | None = None,
    selection_behavior: str | None = None,
    override_reasons: list[dict] | None = None,
    links: list[dict] | None = None,
) -> dict:
    if indicator not in INDICATORS:
        raise ValueError(f"indicator must be one of {INDICATORS}")
    if topic not in TOPICS:
        raise ValueError(f"unknown card topic {topic!r}")
    source: dict = {"label": source_label}
    if source_url:
        source["url"] = source_url
    source["topic"] = {"system": TOPIC_SYSTEM, "code": topic, "display": TOPICS[topic]}
    card: dict = {"uuid": str(uuid.uuid4()), "summary": guard_summary(summary), "indicator": indicator}
    if detail:
        card["detail"] = detail
    card["source"] = source
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = selection_behavior or "at-most-one"
    if override_reasons:
        card["overrideReasons"] = override_reasons
    if links:
        card["links"] = links
    return card


def md_list(items: list[str], limit: int = 12) -> str:
    shown = [f"- {i}" for i in items[:limit]]
    if len(items) > limit:
        shown.append(f"- … and {len(items) - limit} more")
    return "\n".join(shown)


# --- SMART timeline app link (issue 7) ---------------------------------------------------------
TIMELINE_LINK_LABEL = "Relapse timeline: M-protein, FLC and lines of therapy"
TIMELINE_LAUNCH_PATH = "/app/launch"


def timeline_app_link(config=None) -> dict | None:
    """The `smart` link to the relapse timeline app: CDS_APP_URL if set, else
    <CDS_PUBLIC_BASE_URL>/app/launch, else this request's own base URL. The EHR adds `iss` and
    `launch` (docs/cds-hooks.md#response). None outside a request when neither is configured."""
    url = getattr(config, "app_url", None)
    if not url:
        base = getattr(config, "public_base_url", None)
        if not base:
            if not has_request_context():
                return None
            base = request.host_url
        url = base.rstrip("/") + TIMELINE_LAUNCH_PATH
    return {"label": TIMELINE_LINK_LABEL, "url": url, "type": "smart"}


def with_timeline_link(cards: list[dict], config=None) -> list[dict]:
    """Every patient-view card links to the timeline app (once)."""
    link = timeline_app_link(config)
    if link is None:
        return cards
    for card in cards:
        links = card.setdefault("links", [])
        if not any(existing.get("url") == link["url"] for existing in links):
            links.append(dict(link))
    return cards
