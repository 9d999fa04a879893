"""The bounded parser's two parsers agree: msgspec for speed, the standard library for the exact
reason a body is refused (cds_service/http/safe_json.py)."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.http import safe_json
from cds_service.http.safe_json import JsonRefused, loads_bounded

# JSON a client may send: finite floats, integers beyond 64 bits too, text without NUL
# or lone surrogates (those are refused, tested in test_hostile_bodies.py).
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)
_scalars = st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.floats(allow_nan=False, allow_infinity=False) | _text
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_text, inner, max_size=5),
                     max_leaves=40)


def _typed(value):
    """The value with every scalar's type beside it, so 1 and 1.0 (equal in Python) differ."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_the_fast_parse_gives_what_the_standard_library_gives(value):
    raw = json.dumps(value, ensure_ascii=False).encode()
    assert _typed(loads_bounded(raw)) == _typed(json.loads(raw))
    assert _typed(loads_bounded(json.dumps(value).encode())) == _typed(json.loads(raw))  # \u escapes


@pytest.mark.parametrize("digits", [19, 20, 25, 40])
def test_long_integers_stay_exact_integers(digits):
    number = int("9" * digits)
    assert loads_bounded(f'{{"valueInteger": {number}}}')["valueInteger"] == number
    assert type(loads_bounded(f"[{number}]")[0]) is int


def test_a_refused_body_is_named_by_the_standard_library_path(monkeypatch):
    """Only what the fast parser refuses reaches the standard library (and gets its reason)."""
    calls = []
    original = safe_json._loads_stdlib
    monkeypatch.setattr(safe_json, "_loads_stdlib", lambda raw, depth: calls.append(raw) or original(raw, depth))
    assert loads_bounded(b'{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}
    assert calls == []
    with pytest.raises(JsonRefused, match="NaN is not a JSON number"):
        loads_bounded(b'{"a": NaN}')
    with pytest.raises(JsonRefused, match="lone UTF-16 surrogate"):
        loads_bounded(b'{"a": "\\ud800"}')
    with pytest.raises(json.JSONDecodeError, match="Expecting"):
        loads_bounded(b'{"a": [1,]}')
    assert len(calls) == 3


def test_nul_is_refused_on_the_fast_path_too():
    with pytest.raises(JsonRefused, match="NUL"):
        loads_bounded(b'{"note": "a\\u0000b"}')
    with pytest.raises(JsonRefused, match="NUL"):
        loads_bounded(b'{"a\\u0000": 1}')
