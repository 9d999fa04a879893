"""Prometheus metrics: what an operator needs to see (latency per service and hook, status
codes, prefetch-vs-fetch, FHIR fetch time and bytes, cards issued per topic, feedback).

Why this shape: labels are closed sets (route rule, service id, hook name, HTTP status, card
topic code, prefetch key and source, feedback outcome), never a patient id, a URL, a token or
free text, so a scrape cannot leak patient data and the series count stays fixed.

Under gunicorn every worker is a process: with `PROMETHEUS_MULTIPROC_DIR` set (the image and
scripts/prod-stack set it, cds_service/gunicorn_config.py empties it at start and retires dead workers)
prometheus-client writes its values to files there and `/metrics` sums them over the
workers. Without it (dev server, tests) the in-process registry is used.

`/metrics` has no authentication by design: it holds no patient data, and the public entry
point (the reverse proxy in deploy/) does not publish it; Prometheus scrapes each replica
directly on the internal network. `CDS_METRICS=off` removes the endpoint (README "Metrics").
"""
from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

METRICS_PATH = "/metrics"
OTHER = "other"

# Hook calls take 10 ms to a few seconds (the FHIR fetch deadline is 2.5 s by default).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BYTES_BUCKETS = (1_000, 10_000, 100_000, 1_000_000, 4_000_000, 16_000_000, 32_000_000)

# The service's own registry, not prometheus_client's process-wide default: the families are
# registered once per import of this module, and nothing else in the process can collide with them.
REGISTRY = CollectorRegistry()

REQUEST_DURATION = Histogram(
    "cds_http_request_duration_seconds",
    "Time to answer an HTTP request, per route, CDS service and hook.",
    ("route", "service", "hook"),
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
REQUESTS = Counter(
    "cds_http_requests",
    "HTTP requests answered, per route, CDS service, hook and status code.",
    ("route", "service", "hook", "status"),
    registry=REGISTRY,
)
PREFETCH_KEYS = Counter(
    "cds_prefetch_keys",
    "Prefetch keys of hook calls by where their data came from: prefetch (sent by the client), "
    "null (client found nothing), fetched (read from fhirServer), unavailable.",
    ("key", "source"),
    registry=REGISTRY,
)
FHIR_FETCH_DURATION = Histogram(
    "cds_fhir_fetch_duration_seconds",
    "Time of one HTTP GET to a FHIR server (one page or read), by status class.",
    ("status",),
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
FHIR_FETCH_BYTES = Histogram(
    "cds_fhir_fetch_bytes",
    "Body size of one FHIR server answer, in bytes.",
    (),
    buckets=BYTES_BUCKETS,
    registry=REGISTRY,
)
CARDS_ISSUED = Counter(
    "cds_cards_issued",
    "Cards returned to CDS clients, per service and card topic code.",
    ("service", "topic"),
    registry=REGISTRY,
)
FEEDBACK_ITEMS = Counter(
    "cds_feedback_items",
    "Feedback items received, per service and outcome; stored=new or duplicate.",
    ("service", "outcome", "stored"),
    registry=REGISTRY,
)


def _label(value, allowed: set[str]) -> str:
    return value if isinstance(value, str) and value in allowed else (OTHER if value else "")


def _status_class(status: int) -> str:
    return f"{status // 100}xx"


# -- observation helpers called by the service code ----------------------------------------

def count_prefetch_sources(sources: dict[str, str]) -> None:
    """One increment per prefetch key of a resolved hook call (prefetch.resolve)."""
    for key, source in sources.items():
        PREFETCH_KEYS.labels(key=str(key)[:64], source=str(source)[:16]).inc()


def observe_fhir_fetch(seconds: float, size: int, status: int) -> None:
    """One FHIR GET that returned a body (fhir/client.py)."""
    FHIR_FETCH_DURATION.labels(status=_status_class(status)).observe(seconds)
    FHIR_FETCH_BYTES.observe(size)


def count_cards(service_id: str, cards: list[dict]) -> None:
    """Cards of one hook answer, by `source.topic.code` (a closed set of card topics)."""
    for card in cards:
        topic = ((card.get("source") or {}).get("topic") or {}) if isinstance(card, dict) else {}
        code = topic.get("code") if isinstance(topic, dict) else None
        CARDS_ISSUED.labels(service=service_id, topic=str(code)[:64] if code else "none").inc()


def count_feedback(service_id: str, outcomes: list[str], new: int) -> None:
    """Feedback items of one post; the first `new` of them counted as stored, the rest as
    duplicates (the store reports only how many were new)."""
    for i, outcome in enumerate(outcomes):
        FEEDBACK_ITEMS.labels(service=service_id, outcome=outcome,
                              stored="new" if i < new else "duplicate").inc()


# -- Flask wiring ---------------------------------------------------------------------------

def metrics_enabled() -> bool:
    return os.environ.get("CDS_METRICS", "on").strip().lower() not in ("off", "0", "false", "no")


def render_latest() -> tuple[bytes, str]:
    """The exposition text: summed over gunicorn workers in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def install_metrics(app: Flask, services: list) -> None:
    """Time every request and serve `/metrics` (unless CDS_METRICS=off). `services` (the
    declarations of cds_service.hooks.services) bound the service and hook labels."""
    if not metrics_enabled():
        return
    service_ids, hooks = {s.id for s in services}, {s.hook for s in services}

    @app.before_request
    def _metrics_start():
        g._cds_metrics_started = time.perf_counter()

    @app.after_request
    def _metrics_observe(response):
        started = getattr(g, "_cds_metrics_started", None)
        if started is None or request.path == METRICS_PATH:
            return response
        rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
        service = _label((request.view_args or {}).get("service_id"), service_ids)
        body = g.get("cds_body_fields") or {}
        hook = _label(body.get("hook"), hooks)
        REQUEST_DURATION.labels(route=rule, service=service, hook=hook).observe(
            time.perf_counter() - started)
        REQUESTS.labels(route=rule, service=service, hook=hook,
                        status=str(response.status_code)).inc()
        return response

    @app.get(METRICS_PATH)
    def metrics_endpoint():
        text, content_type = render_latest()
        return Response(text, content_type=content_type)
