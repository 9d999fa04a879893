"""Generated hostile requests for every endpoint (issue 13), shared by the fuzz test in the suite
(tests/faults/test_hostile_fuzz.py) and the run against gunicorn (benchmarks/fuzz_gunicorn.py).

`generate(rng)` returns one request: method, path (with query), headers and body bytes. It
starts from a real request for the endpoint (the example hook requests, demo Bundles, a
feedback body) and splices in one to three hostile values at random places: deep nesting,
huge or overflowing numbers, NaN/Infinity, lone surrogates, NUL characters, far dates, long
strings and arrays, wrong types; or it damages the bytes (truncation, invalid UTF-8). Query
strings get far or malformed `asOf` dates, headers hostile JWTs. Deterministic for a seed.
"""
from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FEEDBACK = {"feedback": [{"card": "card-1", "outcome": "overridden", "outcomeTimestamp": "2026-11-23T10:05:31Z",
                          "overrideReason": {"reason": {"system": "http://example.org/r", "code": "declined"},
                                             "userComment": "patient declined"}},
                         {"card": "card-2", "outcome": "accepted", "acceptedSuggestions": [{"id": "s-1"}],
                          "outcomeTimestamp": "2026-11-23T10:06:00Z"}]}
FAR_DATES = ["9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01", "10000-01-01", "-0001-01-01",
             "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00",
             "2024-02-30", "2024-13-01", "1e999", ""]


@dataclass
class Request:
    method: str
    path: str
    body: bytes = b""
    headers: dict = field(default_factory=dict)


def _offline(text: str) -> str:
    """An example hook request without its fhirServer: generated requests never reach a
    real FHIR server (the examples name localhost:8081, where anything may listen)."""
    doc = json.loads(text)
    doc.pop("fhirServer", None)
    doc.pop("fhirAuthorization", None)
    return json.dumps(doc)


@lru_cache(maxsize=None)
def _examples() -> dict[str, list[str]]:
    hooks = {p.name: _offline(p.read_text(encoding="utf-8")) for p in sorted((EXAMPLES / "hooks").glob("*.json"))}
    bundles = [p.read_text(encoding="utf-8") for p in sorted((EXAMPLES / "patients").glob("*.json"))]
    return {
        "patient-view": [t for n, t in hooks.items() if n.startswith("patient-view")],
        "order-sign": [t for n, t in hooks.items() if n.startswith("order-sign")],
        "bundle": bundles,
    }


def hostile_value(rng: random.Random) -> str:
    """Raw JSON text of one hostile value."""
    kind = rng.randrange(16)
    if kind == 0:
        depth = rng.choice([rng.randint(60, 70), rng.randint(100, 5000), 200_000])
        open_, close = rng.choice([("[", "]"), ('{"a":', "}")])
        return open_ * depth + "1" + close * depth
    if kind == 1:
        return rng.choice(["-", ""]) + "9" * rng.choice([39, 40, 41, 400, 4300, 4301, 20_000])
    if kind == 2:
        return rng.choice(["1e309", "-1e999", "1.5E+400", "1e-400", "0." + "0" * 50 + "1", "1e308"])
    if kind == 3:
        return rng.choice(["NaN", "Infinity", "-Infinity", "[NaN]", '{"value": Infinity}'])
    if kind == 4:
        return '"' + rng.choice(["\\ud800", "\\udfff", "a\\ud83d", "\\ude00b", "\\ud83d\\ude00",
                                 "\\\\ud800"]) + '"'
    if kind == 5:
        return '"' + rng.choice(["\\u0000", "a\\u0000b", "\\\\u0000"]) + '"'
    if kind == 6:
        return json.dumps(rng.choice(FAR_DATES))
    if kind == 7:
        return json.dumps("x" * rng.choice([300, 5000, 100_000]))
    if kind == 8:
        return "[" + ",".join(["1"] * rng.choice([1000, 50_000])) + "]"
    if kind == 9:
        return json.dumps(rng.choice(["\U0001F600", "\u202e", "\ufeff", "\u0085", "caf\u00e9", "\u6cbb"]))
    if kind == 10:
        return rng.choice(["null", "true", "false", "[]", "{}", '""', "0", "-0", "1.0"])
    if kind == 11:
        return json.dumps({"resourceType": rng.choice(["Bundle", "OperationOutcome", "Patient", "Observation"]),
                           "link": [{"relation": "next", "url": rng.choice(
                               ["http://169.254.169.254/latest", "file:///etc/passwd", "https://x.example/fhir?a"])}],
                           "entry": [{"resource": {"resourceType": "Observation", "subject": {"reference": "Patient/x"}}}]})
    if kind == 12:
        return json.dumps(rng.choice(["Patient/../x", "p1?x=1", "%00", "http://127.0.0.1:1/fhir", " " * 10]))
    if kind == 13:
        return json.dumps({"start": rng.choice(FAR_DATES), "end": rng.choice(FAR_DATES)})
    if kind == 14:
        return json.dumps({"value": rng.choice([1e308, -1e308, 5e-324, 0, 10 ** 30]),
                           "unit": rng.choice(["g/L", "mmol/L", "", "\u00b5mol/L"])})
    return json.dumps(rng.choice(["accepted", "overridden", "patient-view", "order-sign", "final"]))


def _paths(value, path=()):
    """The path of every member and item."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield path + (k,)
            yield from _paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield path + (i,)
            yield from _paths(v, path + (i,))


@lru_cache(maxsize=64)
def _paths_of(doc_text: str) -> tuple:
    return tuple(_paths(json.loads(doc_text)))


def _damaged(raw: bytes, rng: random.Random) -> bytes:
    choice = rng.randrange(4)
    if choice == 0:
        return raw[: rng.randrange(len(raw) + 1)]
    if choice == 1:
        i = rng.randrange(len(raw) + 1)
        return raw[:i] + rng.choice([b"\xff", b"\xed\xa0\x80", b"\x00", b"\xc3"]) + raw[i:]
    if choice == 2:
        return rng.choice([b"", b" ", b"null", b"[]", b"1", b'"x"', b"\xef\xbb\xbf{}"])
    return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))


def mutate(doc_text: str, rng: random.Random) -> bytes:
    """The document with 1-3 hostile values spliced in (raw JSON text), or damaged bytes."""
    if rng.random() < 0.1:
        return _damaged(doc_text.encode(), rng)
    doc = json.loads(doc_text)
    paths = _paths_of(doc_text)
    markers = {}
    for n in range(rng.randint(1, 3)):
        marker = f"__hostile_{n}__"
        markers[marker] = hostile_value(rng)
        if not paths or rng.random() < 0.15:
            doc[rng.choice(["hostile", "context", "prefetch", "hook", "entry", "feedback"])] = marker
            continue
        *parents, last = rng.choice(paths)
        container = doc
        try:
            for step in parents:
                container = container[step]
            if rng.random() < 0.1 and isinstance(container, dict):
                container.pop(last, None)
            else:
                container[last] = marker
        except (KeyError, IndexError, TypeError):  # an earlier splice replaced a parent
            continue
    text = json.dumps(doc)
    for marker, raw in markers.items():
        text = text.replace(json.dumps(marker), raw)
    return text.encode("utf-8", "surrogatepass")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hostile_authorization(rng: random.Random) -> str:
    header = {"alg": rng.choice(["ES384", ["ES384"], {"a": 1}, None, "none", "HS384", 384]),
              "typ": rng.choice(["JWT", 1, None]), "kid": rng.choice(["k1", ["k"], "", "x" * 300])}
    payload = {"iss": rng.choice(["https://ehr.example.test", ["x"], None]), "aud": "https://x/cds-services",
               "exp": rng.choice([1, "9999999999", None, 10 ** 30, 1.5]), "iat": rng.choice([0, "0", None]),
               "jti": rng.choice(["j", "", None, ["j"]])}
    header_text = json.dumps(header)
    payload_text = json.dumps(payload)
    if rng.random() < 0.5:
        value = hostile_value(rng)
        if len(value) > 1500:  # keep the header under gunicorn's 8,190-byte field limit
            value = '"\\ud800"'
        payload_text = payload_text.replace('"jti": ', '"jti": ' + value + ', "x": ', 1)
    token = f"{_b64(header_text.encode('utf-8', 'surrogatepass'))}." \
            f"{_b64(payload_text.encode('utf-8', 'surrogatepass'))}.{_b64(b'sig')}"
    # "Bearer " + 8,150 characters: still under gunicorn's header limit, over the service's
    return rng.choice([f"Bearer {token}", f"Bearer {token}" * 2, "Bearer " + "a" * 8150, "Bearer a.b",
                       "Basic x", "Bearer", "bearer  " + token])


def _as_of(rng: random.Random) -> str:
    return rng.choice(["2025-06-30", rng.choice(FAR_DATES), f"{rng.randint(1, 9999):04d}-12-31",
                       "%00", "%ED%A0%80", "2025-06-30T00:00:00Z"])


def generate(rng: random.Random, *, with_auth_headers: bool = False) -> Request:
    """One hostile request for a randomly chosen endpoint."""
    examples = _examples()
    kind = rng.randrange(20)
    headers = {"Content-Type": rng.choice(["application/json"] * 4 + ["application/fhir+json", "text/plain"])}
    if with_auth_headers:
        headers["Authorization"] = hostile_authorization(rng)
    if kind < 6:
        return Request("POST", "/cds-services/myeloma-relapse", mutate(rng.choice(examples["patient-view"]), rng), headers)
    if kind < 9:
        path = rng.choice(["/cds-services/myeloma-order-sign", "/cds-services/myeloma-order-select"])
        return Request("POST", path, mutate(rng.choice(examples["order-sign"]), rng), headers)
    if kind < 12:
        return Request("POST", "/cds-services/myeloma-relapse/feedback", mutate(json.dumps(FEEDBACK), rng), headers)
    if kind < 15:
        base = rng.choice(examples["bundle"] + examples["patient-view"][:1])
        return Request("POST", f"/assessment?asOf={_as_of(rng)}", mutate(base, rng), headers)
    if kind < 18:
        if rng.random() < 0.3:
            headers.update({"X-FHIR-Server": rng.choice(["http://127.0.0.1:1/fhir", "x", "https://a.example/fhir"]),
                            "X-FHIR-Patient": rng.choice(["p1", "../x", ""])})
        return Request("POST", f"/app/api/timeline?asOf={_as_of(rng)}", mutate(rng.choice(examples["bundle"]), rng), headers)
    path = rng.choice(["/cds-services", "/healthz", "/app/launch?iss=%ED%A0%80&launch=%00", "/app/?code=x&state=%FF",
                       "/cds-services/nope", "/cds-services/myeloma-relapse", "/app/static/%2e%2e/x",
                       f"/app/launch?iss={rng.choice(FAR_DATES)}"])
    return Request(rng.choice(["GET", "POST", "PUT", "OPTIONS"]), path, mutate(json.dumps(FEEDBACK), rng), headers)
