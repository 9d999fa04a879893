"""The feedback report (`myeloma-cds feedback-report`): per card topic, how often cards were
accepted or overridden and why. Free-text override comments are counted, never printed (they
may name the patient)."""
from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict

from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import Engine

from cds_service.db import default_database_url, issued_card, make_engine
from cds_service.db import feedback as feedback_table


def feedback_report(engine: Engine) -> list[dict]:
    """Per card topic: counts, accept/override rates, override reasons (coded)."""
    query = select(
        feedback_table.c.service_id, feedback_table.c.outcome,
        feedback_table.c.override_system, feedback_table.c.override_code,
        feedback_table.c.override_display, feedback_table.c.override_comment,
        issued_card.c.topic_code, issued_card.c.topic_display,
    ).select_from(
        feedback_table.outerjoin(issued_card, feedback_table.c.card_uuid == issued_card.c.card_uuid)
    )
    groups: dict[str, dict] = {}
    reasons: dict[str, Counter] = defaultdict(Counter)
    with engine.connect() as conn:
        for row in conn.execute(query):
            topic = row.topic_code or "(card not issued by this service)"
            g = groups.setdefault(topic, {"topic": topic, "display": row.topic_display,
                                          "total": 0, "accepted": 0, "overridden": 0,
                                          "comments": 0})
            g["total"] += 1
            g[row.outcome] += 1
            if row.outcome == "overridden":
                if row.override_code:
                    label = row.override_display or row.override_code
                    reasons[topic][f"{label} ({row.override_system}|{row.override_code})"] += 1
                if row.override_comment:
                    g["comments"] += 1
                if not row.override_code and not row.override_comment:
                    reasons[topic]["(no reason given)"] += 1
    report = []
    for topic in sorted(groups):
        g = groups[topic]
        g["accept_rate"] = g["accepted"] / g["total"]
        g["override_rate"] = g["overridden"] / g["total"]
        g["override_reasons"] = reasons[topic].most_common()
        report.append(g)
    return report


def format_feedback_report(report: list[dict]) -> str:
    if not report:
        return "No feedback stored yet."
    lines = []
    for g in report:
        title = g["topic"] + (f" ({g['display']})" if g.get("display") else "")
        lines.append(
            f"{title}: {g['total']} feedback, accepted {g['accepted']} "
            f"({g['accept_rate']:.0%}), overridden {g['overridden']} ({g['override_rate']:.0%})"
        )
        for reason, count in g["override_reasons"]:
            lines.append(f"  override reason: {reason}: {count}")
        if g["comments"]:
            lines.append(f"  overrides with a free-text comment: {g['comments']} (not shown)")
    return "\n".join(lines)


def run_feedback_report(config, *, as_json: bool = False, out=None) -> int:
    """Print the report for the configured database (CDS_DATABASE_URL, else the instance
    SQLite file the service uses)."""
    out = out or sys.stdout
    url = getattr(config, "database_url", None) or default_database_url(
        Flask("cds_service").instance_path)
    report = feedback_report(make_engine(url))
    if as_json:
        out.write(json.dumps(report, indent=2, default=str) + "\n")
    else:
        out.write(format_feedback_report(report) + "\n")
    return 0
