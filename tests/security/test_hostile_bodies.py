"""Hostile bodies never break the service (issue 13): each class that once gave a 500 is now a
400 OperationOutcome naming the problem, on every endpoint that reads a body, with the
database on SQLite and on PostgreSQL.

Classes: deep nesting (RecursionError), integers of more than 4,300 digits (ValueError),
floats that overflow and NaN/Infinity, lone surrogates, NUL characters, far dates (`asOf`,
feedback `outcomeTimestamp`).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cds_service import create_app
from cds_service.config import Config
from cds_service.http.safe_json import JsonRefused, loads_bounded
from tests.feedback.postgres_url import postgres_url_or_skip
from tests.schema_assert import assert_operation_outcome

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "hooks"
PATIENT_VIEW = json.loads((EXAMPLES / "patient-view-vignette.json").read_text(encoding="utf-8"))
ORDER_SIGN = json.loads((EXAMPLES / "order-sign-carfilzomib-cardiac.json").read_text(encoding="utf-8"))
BUNDLE = {"resourceType": "Bundle", "type": "collection",
          "entry": [{"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1950-01-01"}}]}
FEEDBACK = {"feedback": [{"card": "c-1", "outcome": "overridden", "outcomeTimestamp": "2026-11-23T10:05:31Z",
                          "overrideReason": {"userComment": "x"}}]}
BODY_ENDPOINTS = {  # path -> a valid body that the hostile part is spliced into
    "/cds-services/myeloma-relapse": PATIENT_VIEW,
    "/cds-services/myeloma-order-sign": ORDER_SIGN,
    "/cds-services/myeloma-relapse/feedback": FEEDBACK,
    "/assessment?asOf=2025-06-30": BUNDLE,
    "/app/api/timeline?asOf=2025-06-30": BUNDLE,
}


def splice(body: dict, raw_value: str) -> bytes:
    """The valid body with one extra member whose (raw JSON) value is hostile."""
    text = json.dumps(body)
    return (text[:-1] + ', "hostile": ' + raw_value + "}").encode("utf-8", "surrogatepass")


HOSTILE_VALUES = {
    "deep nesting": "[" * 100_000 + "]" * 100_000,
    "nesting 65 deep": "[" * 64 + "1" + "]" * 64,  # inside the body object: 65 levels
    "integer of 4,301 digits": "9" * 4301,
    "integer of 400 digits": "9" * 400,
    "float overflow": "1e999",
    "NaN": "NaN",
    "Infinity": "-Infinity",
    "lone high surrogate": '"\\ud800"',
    "lone low surrogate": '"abc\\udfff"',
    "NUL character": '"a\\u0000b"',
}


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/hostile.sqlite"
    return postgres_url_or_skip()


@pytest.fixture
def client(database_url):
    app = create_app(Config(auth="off", database_url=database_url))
    app.config.update(TESTING=True)
    return app.test_client()


# -- the parser itself: limits on both sides ------------------------------------------------

def nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def test_depth_64_parses_and_65_is_refused():
    assert loads_bounded(nested(64)) is not None
    with pytest.raises(JsonRefused, match="deeper than 64"):
        loads_bounded(nested(65))
    with pytest.raises(JsonRefused, match="deeper than 64"):
        loads_bounded("[" * 1_000_000)  # unterminated: refused before the parser recurses


def test_brackets_and_digits_inside_strings_do_not_count():
    text = json.dumps({"note": "[" * 500 + "{" * 500, "id": "9" * 500})
    assert loads_bounded(text)["id"] == "9" * 500


def test_numbers_of_40_characters_parse_and_41_are_refused():
    assert loads_bounded("9" * 40) == int("9" * 40)
    with pytest.raises(JsonRefused, match="longer than 40"):
        loads_bounded("9" * 41)
    assert loads_bounded("1e308") == 1e308
    with pytest.raises(JsonRefused, match="too large"):
        loads_bounded("1e309")
    assert loads_bounded("1e-400") == 0.0  # underflow is harmless


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "[1, NaN]"])
def test_nan_and_infinity_are_refused(text):
    with pytest.raises(JsonRefused, match="not a JSON number"):
        loads_bounded(text)


def test_surrogates_and_nul():
    assert loads_bounded('"\\ud83d\\ude00"') == "\U0001F600"  # a pair is one character
    assert loads_bounded('"\\\\ud800 and \\\\u0000"') == "\\ud800 and \\u0000"  # escaped backslash: text
    for text in ('"\\ud800"', '"\\udc00x"', '{"\\ud800": 1}', '"a\\u0000"', '{"a\\u0000": 1}'):
        with pytest.raises(JsonRefused):
            loads_bounded(text)
    with pytest.raises(UnicodeDecodeError):
        loads_bounded(b'"\xed\xa0\x80"')  # a surrogate encoded as UTF-8 bytes


# -- every endpoint, every class: a 400 naming the problem --------------------------------------

@pytest.mark.parametrize("kind", sorted(HOSTILE_VALUES))
@pytest.mark.parametrize("path", sorted(BODY_ENDPOINTS))
def test_hostile_value_is_a_400_on_every_endpoint(client, path, kind):
    body = splice(BODY_ENDPOINTS[path], HOSTILE_VALUES[kind])
    resp = client.post(path, data=body, content_type="application/json")
    assert resp.status_code == 400, (kind, resp.status_code, resp.get_data()[:300])
    outcome = resp.get_json()
    assert_operation_outcome(outcome)
    diagnostics = outcome["issue"][0]["diagnostics"]
    assert "refused" in diagnostics or "cannot read" in diagnostics


def test_the_same_bodies_without_the_hostile_member_are_accepted(client):
    for path, body in BODY_ENDPOINTS.items():
        resp = client.post(path, data=splice(body, '"harmless \\u00e9 \\ud83d\\ude00"'),
                           content_type="application/json")
        assert resp.status_code == 200, (path, resp.status_code, resp.get_data()[:300])


# -- far dates where they enter --------------------------------------------------------------

@pytest.mark.parametrize("path", ["/assessment", "/app/api/timeline"])
@pytest.mark.parametrize("as_of, status", [
    ("9999-12-31", 400), ("0001-01-01", 400), ("1899-12-31", 400), ("2200-01-01", 400),
    ("1900-01-01", 200), ("2199-12-31", 200), ("2025-06-30", 200),
])
def test_as_of_outside_1900_to_2199_is_a_400(client, path, as_of, status):
    resp = client.post(f"{path}?asOf={as_of}", json=BUNDLE)
    assert resp.status_code == status, resp.get_data()[:300]
    if status == 400:
        assert "asOf" in resp.get_json()["issue"][0]["diagnostics"]


@pytest.mark.parametrize("timestamp", [
    "0001-01-01T00:00:00Z", "0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-01:00", "1999-12-31T23:59:59Z", "2999-01-01T00:00:00Z",
])
def test_feedback_timestamp_outside_2000_to_tomorrow_is_a_400(client, timestamp):
    body = {"feedback": [{**FEEDBACK["feedback"][0], "outcomeTimestamp": timestamp}]}
    resp = client.post("/cds-services/myeloma-relapse/feedback", json=body)
    assert resp.status_code == 400
    assert resp.get_json()["issue"][0]["expression"] == ["feedback[0].outcomeTimestamp"]


def test_feedback_with_non_ascii_text_is_stored_on_both_databases(client):
    item = {**FEEDBACK["feedback"][0], "card": "c-\u00e9\U0001F600", "outcomeTimestamp": "2000-01-01T00:00:00Z",
            "overrideReason": {"userComment": "d\u00e9j\u00e0 trait\u00e9 \u6cbb\u7597 \U0001F600"}}
    for _ in range(2):  # idempotent too
        assert client.post("/cds-services/myeloma-relapse/feedback", json={"feedback": [item]}).status_code == 200


# -- endpoints without a body ----------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/cds-services", "/healthz", "/app/launch?iss=%ED%A0%80&launch=%00", "/app/?code=%FF%FE&state=" + "x" * 5000,
    "/cds-services/%00", "/cds-services/myeloma-relapse%ED%A0%80", "/assessment?asOf=%00",
])
def test_odd_urls_never_get_a_5xx(client, path):
    for method in ("GET", "POST"):
        resp = client.open(path, method=method, data=b"\x00\xff", content_type="application/json")
        assert resp.status_code < 500, (method, path, resp.status_code)


# -- found by benchmarks/fuzz_gunicorn.py ---------------------------------------------------

VIGNETTE = json.loads((EXAMPLES.parent / "patients" / "vignette.json").read_text(encoding="utf-8"))


def with_far_dates(doc: dict, far: str) -> dict:
    """Every date-like string in the document replaced by `far`."""
    text = json.dumps(doc)
    for key in ("effectiveDateTime", "start", "end", "onsetDateTime", "performedDateTime", "authoredOn",
                "birthDate", "recordedDate", "issued"):
        text = text.replace(f'"{key}": "', f'"{key}": "{far}", "was-{key}": "')
    return json.loads(text)


@pytest.mark.parametrize("far", ["0001-01-01", "0001-01-01T00:00:00Z", "9999-12-31", "9999-12-31T23:59:59Z"])
def test_far_dates_inside_the_records_are_unreadable_values_not_a_500(client, far):
    bundle = with_far_dates(VIGNETTE, far)
    for path in ("/assessment?asOf=2025-06-30", "/app/api/timeline?asOf=2025-06-30"):
        resp = client.post(path, json=bundle)
        assert resp.status_code == 200, (path, resp.status_code, resp.get_data()[:300])
    hook = json.loads(json.dumps(PATIENT_VIEW))
    hook["prefetch"] = with_far_dates(hook["prefetch"], far)
    assert client.post("/cds-services/myeloma-relapse", json=hook).status_code == 200


@pytest.mark.parametrize("patient_id", [["p1"], {"a": 1}, 7])
def test_a_patient_id_that_is_not_a_string_is_a_400(client, patient_id):
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": {"resourceType": "Patient", "id": patient_id}}]}
    for path in ("/assessment", "/app/api/timeline"):
        resp = client.post(path, json=bundle)
        assert resp.status_code == 400 and "id must be a string" in resp.get_json()["issue"][0]["diagnostics"]
