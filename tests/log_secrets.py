"""Pytest plugin: capture every log record of the whole suite and fail the run if a token or a
JWT appears in one (issue 5: never log JWTs, access tokens).

Secrets are learnt without the tests' help wherever they cross a boundary: the Authorization
header and `fhirAuthorization.access_token` of every request sent through Flask's test client,
and the Authorization header of every outgoing `requests` call (the FHIR access token). Tests
may add more with `register_secret`. Independently, any JWT-shaped string (`eyJ...`) in a log
record is a finding. The check runs in tests/test_logs_no_secrets.py (ordered last) and again
at session finish, so records logged after that test are covered too.
Registered by tests/conftest.py (pytest_configure).
"""
from __future__ import annotations

import json
import logging
import re
import threading

JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
MIN_SECRET_LEN = 8  # shorter strings would match ordinary words

_secrets: set[str] = set()
_records: list[tuple[str, str]] = []  # (test node id, rendered record)
_lock = threading.Lock()
_current_test = {"id": "(outside tests)"}


def register_secret(value: object) -> None:
    if isinstance(value, str) and len(value) >= MIN_SECRET_LEN:
        with _lock:
            _secrets.add(value)


def _learn_authorization(value: object) -> None:
    if isinstance(value, str):
        scheme, _, credential = value.partition(" ")
        register_secret(credential.strip() if scheme.lower() == "bearer" else value)


def _learn_body(body: object) -> None:
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):  # hostile bodies (issue 13)
            return
    if isinstance(body, dict):
        auth = body.get("fhirAuthorization")
        if isinstance(auth, dict):
            register_secret(auth.get("access_token"))


def render(record: logging.LogRecord) -> str:
    try:
        text = logging.Formatter("%(name)s %(levelname)s %(message)s").format(record)
    except Exception:  # noqa: BLE001 - a broken record must not break the suite
        text = str(record.msg)
    extra = getattr(record, "cds", None)
    if extra is not None:
        text += " " + json.dumps(extra, default=str)
    return text


def findings(records: list[tuple[str, str]] | None = None,
             secrets: set[str] | None = None) -> list[str]:
    """Human-readable findings: which test logged which kind of secret (never the secret)."""
    with _lock:
        records = list(_records if records is None else records)
        secrets = set(_secrets if secrets is None else secrets)
    out = []
    for test_id, text in records:
        if JWT_SHAPE.search(text):
            out.append(f"{test_id}: a JWT-shaped string in a log record: {text[:80]!r}...")
        elif any(s in text for s in secrets):
            out.append(f"{test_id}: a token used by the tests appears in a log record "
                       f"(logger line starts {text[:40]!r})")
    return out


class _Collector(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        text = render(record)
        with _lock:
            _records.append((_current_test["id"], text))


class LogSecretsPlugin:
    def __init__(self) -> None:
        self.handler = _Collector(level=logging.DEBUG)

    def pytest_configure(self, config) -> None:
        root = logging.getLogger()
        root.addHandler(self.handler)
        self._patch_flask_client()
        self._patch_requests()

    @staticmethod
    def _patch_flask_client() -> None:
        from flask.testing import FlaskClient

        if getattr(FlaskClient.open, "_learns_secrets", False):
            return
        original = FlaskClient.open

        def open_learning(self, *args, **kwargs):
            headers = kwargs.get("headers") or {}
            items = headers.items() if hasattr(headers, "items") else headers
            for key, value in items:
                if str(key).lower() == "authorization":
                    _learn_authorization(value)
            _learn_body(kwargs.get("json"))
            _learn_body(kwargs.get("data"))
            return original(self, *args, **kwargs)

        open_learning._learns_secrets = True  # type: ignore[attr-defined]
        FlaskClient.open = open_learning

    @staticmethod
    def _patch_requests() -> None:
        import requests

        if getattr(requests.Session.send, "_learns_secrets", False):
            return
        original = requests.Session.send

        def send_learning(self, request, **kwargs):
            _learn_authorization(request.headers.get("Authorization"))
            return original(self, request, **kwargs)

        send_learning._learns_secrets = True  # type: ignore[attr-defined]
        requests.Session.send = send_learning

    def pytest_runtest_setup(self, item) -> None:
        _current_test["id"] = item.nodeid

    def pytest_collection_modifyitems(self, session, config, items) -> None:
        """Run the whole-suite check last."""
        last = [i for i in items if i.nodeid.startswith("tests/test_logs_no_secrets.py")]
        if last:
            items[:] = [i for i in items if i not in last] + last

    def pytest_sessionfinish(self, session, exitstatus) -> None:
        found = findings()
        if found:
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            lines = ["SECRETS IN LOGS (tests/log_secrets.py):"] + found[:20]
            if reporter:
                reporter.write_line("\n".join(lines), red=True)
            session.exitstatus = 1
