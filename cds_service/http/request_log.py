"""One structured JSON log line per HTTP request, and redaction for every log line.

The line holds: method, path (service ids only, no query), service, hook, status,
duration_ms, iss (verified caller), hookInstance. It never holds the JWT, the FHIR access
token, the request body or patient identifiers. `SecretRedactingFilter` is defence in
depth on this handler: JWT-shaped strings and `Bearer ...` values are masked. The real rule
is that no code logs them (tests/test_logs_no_secrets.py checks the raw records).
"""
from __future__ import annotations

import json
import logging
import re
import time

from flask import Flask, g, request

REQUEST_LOGGER = "cds_service.request"
JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){1,2}")
BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+")
SAFE_FIELD = re.compile(r"^[A-Za-z0-9._:/@+-]{1,128}$")


def redact(text: str) -> str:
    return BEARER.sub(r"\1[redacted]", JWT_SHAPE.sub("[redacted-jwt]", text))


class SecretRedactingFilter(logging.Filter):
    """Mask JWT-shaped strings and Bearer credentials in the rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object; structured fields come from `extra={"cds": {}}`."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
        }
        fields = getattr(record, "cds", None)
        if isinstance(fields, dict):
            doc.update(fields)
        else:
            doc["message"] = redact(record.getMessage())
        if record.exc_info:
            doc["error"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(doc, separators=(",", ":"), default=str)


def _safe(value) -> str | None:
    """Only short identifier-like strings are logged; anything else is dropped."""
    if isinstance(value, str) and SAFE_FIELD.match(value) and not JWT_SHAPE.search(value):
        return value
    return None


def _service_from_path(path: str) -> str | None:
    parts = path.strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "cds-services":
        return _safe(parts[1])
    return None


def configure_logging(app: Flask) -> None:
    """One JSON handler (stderr, redacting) on the `cds_service` logger, once per process, at
    CDS_LOG_LEVEL: every module logger (the 401 reasons of security.flask_auth, the request
    lines of `cds_service.request`) reaches it, under gunicorn and the dev server alike
    (neither configures the root logger, whose last-resort handler drops INFO)."""
    package = logging.getLogger("cds_service")
    config = app.config.get("CDS")
    package.setLevel(getattr(config, "log_level", "INFO") or "INFO")
    if not any(getattr(h, "_cds_json", False) for h in package.handlers):
        handler = logging.StreamHandler()
        handler._cds_json = True  # type: ignore[attr-defined]
        handler.setFormatter(JsonFormatter())
        handler.addFilter(SecretRedactingFilter())
        package.addHandler(handler)
    request_logger = logging.getLogger(REQUEST_LOGGER)
    for h in [h for h in request_logger.handlers if getattr(h, "_cds_json", False)]:
        request_logger.removeHandler(h)  # older apps in this process attached one here
    request_logger.setLevel(logging.INFO)


def install_request_log(app: Flask) -> None:
    """Register before/after-request hooks that emit the per-request JSON line."""
    configure_logging(app)
    logger = logging.getLogger(REQUEST_LOGGER)

    @app.before_request
    def _start_timer():
        g._cds_started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        started = getattr(g, "_cds_started", None)
        duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
        # set by the endpoints that parsed the body (once, with safe_json); never parsed here
        body = g.get("cds_body_fields")
        body = body if isinstance(body, dict) else {}
        client = getattr(g, "cds_client", None)
        fields = {
            "event": "request",
            "method": request.method,
            "path": redact(request.path[:200]),
            "service": _service_from_path(request.path),
            "hook": _safe(body.get("hook")),
            "status": response.status_code,
            "duration_ms": duration_ms,
            "iss": getattr(client, "iss", None),
            "hookInstance": _safe(body.get("hookInstance")),
        }
        logger.info("request", extra={"cds": fields})
        return response
