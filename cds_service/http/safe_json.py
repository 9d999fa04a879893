"""The one JSON parser for everything a client sends: bounded depth, bounded numbers, clean text.

`json.loads` alone lets a client crash a request: 100,000 nested brackets raise RecursionError,
an integer of more than 4,300 digits raises ValueError, `1e999` silently becomes infinity and
`NaN`/`Infinity` are accepted, lone surrogates (`"\\ud800"`) become strings no database or
encoder accepts, and a NUL character is refused by PostgreSQL. `loads_bounded` refuses all of
these with `JsonRefused` (a message naming the problem, no request data), which every endpoint
turns into a 400 OperationOutcome (validation.parse_json_object).

Cost: the checks that run on every body are C-speed passes over the bytes (bytes.translate,
bytes.replace, a substring search); the slower exact checks run only when a quick one fires.
Text problems (NUL, lone surrogates) can only arrive as `\\u` escapes, so a body without a
backslash (one memchr) skips those scans. Float overflow is checked per float by the parser's
`parse_float` hook: as cheap as the C float for a hook body's few thousand numbers, and cheaper
than another scan of the whole body (benchmarks/hook_stages.py).
"""
from __future__ import annotations

import json
import re
from array import array
from math import isinf
from itertools import accumulate

import msgspec

MAX_DEPTH = 64  # FHIR hook requests nest about 15 deep (prefetch > Bundle > entry > resource > ...)
MAX_NUMBER_CHARS = 40  # longer than any int64 or double a FHIR value can hold

_OPEN, _CLOSE, _DIGIT, _OTHER = b"(", b")", b"0", b" "


def _table(mapping: dict[bytes, bytes], default: bytes) -> bytes:
    table = bytearray(default * 256)
    for chars, to in mapping.items():
        for c in chars:
            table[c] = to[0]
    return bytes(table)


# brackets -> "(" / ")", everything else deleted: the nesting skeleton of the document
_SKELETON = _table({b"[{": _OPEN, b"]}": _CLOSE}, _OTHER)
_NOT_BRACKET = bytes(c for c in range(256) if c not in b"[]{}")
# number characters -> "0" (exponent marks -> "e"), everything else " "
_NUMBERISH = _table({b"0123456789.+-": _DIGIT, b"eE": b"e"}, _OTHER)
_STEPS = _table({_OPEN: b"\x01", _CLOSE: b"\xff"}, b"\x00")
_REPLACE_ROUNDS = 16
_LONG_NUMBER = _DIGIT * (MAX_NUMBER_CHARS + 1)
_DECODE = msgspec.json.Decoder().decode  # untyped: plain dicts, lists, str, int, float, bool, None
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# a \u escape of a high surrogate not followed by a low one, or a low one not preceded by a
# high one (pairs such as "\ud83d\ude00" are one character and fine)
_LONE_SURROGATE_ESCAPE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")


class JsonRefused(ValueError):
    """The text is not JSON this service accepts; the message says why (no request data)."""


def _too_deep(skeleton: bytes, max_depth: int) -> bool:
    """True if brackets nest deeper than max_depth. Cheap rounds of removing the innermost
    level first (FHIR nests about 15 deep), then one running sum over what is left."""
    if _OPEN * (max_depth + 1) in skeleton:  # a run of openers is that deep at least
        return True
    rounds = min(max_depth, _REPLACE_ROUNDS)
    for _ in range(rounds):
        reduced = skeleton.replace(b"()", b"")
        if not reduced or reduced == skeleton:  # done, or unbalanced (the parser says where)
            return False
        skeleton = reduced
    # "(" -> +1, ")" -> -1 as signed bytes; depth of the remainder = its largest prefix sum
    steps = array("b", skeleton.translate(_STEPS))
    return rounds + max(accumulate(steps), default=0) > max_depth


def _strip_strings(raw: bytes) -> bytes:
    return _STRING.sub(b'""', raw)


def _check_shape(raw: bytes, max_depth: int) -> None:
    """Depth and number length, before parsing. Brackets and digits inside strings can only
    make a quick pass fire; then the exact pass (strings removed) decides."""
    if _too_deep(raw.translate(_SKELETON, _NOT_BRACKET), max_depth):
        if _too_deep(_strip_strings(raw).translate(_SKELETON, _NOT_BRACKET), max_depth):
            raise JsonRefused(f"JSON nesting is deeper than {max_depth} levels")
    numbers = raw.translate(_NUMBERISH)
    if _LONG_NUMBER in numbers:
        numbers = _strip_strings(raw).translate(_NUMBERISH)
        if _LONG_NUMBER in numbers:
            raise JsonRefused(f"a JSON number is longer than {MAX_NUMBER_CHARS} characters")


def _refuse_constant(name: str):
    raise JsonRefused(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if isinf(value):  # "1e999": the text is finite, only its float is not
        raise JsonRefused("a JSON number is too large")
    return value


def _bad_text(value) -> str | None:
    """What is wrong with the strings of a parsed document (keys and values), if anything."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return "a JSON string holds a NUL character (\\u0000)"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "a JSON string holds a lone UTF-16 surrogate (\\ud800-\\udfff)"
    return None


def loads_bounded(raw: bytes | str, *, max_depth: int = MAX_DEPTH):
    """Parse `raw` (UTF-8 bytes or text) or raise JsonRefused, json.JSONDecodeError or
    UnicodeDecodeError (all ValueError).

    The parse itself is msgspec's (untyped, so the same dicts and lists as `json.loads`, about
    twice as fast): it refuses what this module refuses of the text (invalid UTF-8, lone
    surrogates, NaN/Infinity, numbers that overflow a double) and keeps integers exact.
    Whatever it refuses is parsed again by the standard library with this module's hooks, so
    a client gets the message naming the problem, and only a refused body pays twice."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    _check_shape(raw, max_depth)
    try:
        value = _DECODE(raw)
    except (msgspec.DecodeError, RecursionError):
        return _loads_stdlib(raw, max_depth)
    # NUL can only arrive as an escape; msgspec keeps it, so walk the strings when one is there.
    if b"\\u0000" in raw:
        problem = _bad_text(value)
        if problem:
            raise JsonRefused(problem)
    return value


def _loads_stdlib(raw: bytes, max_depth: int):
    """The standard library's parse with every check of this module: the exact reason for a
    body msgspec refused (or the value, should the two parsers ever disagree on valid JSON)."""
    text = raw.decode("utf-8")  # strict: encoded surrogates and invalid bytes raise here
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:  # defence in depth: _check_shape bounds the depth first
        raise JsonRefused(f"JSON nesting is deeper than {max_depth} levels") from None
    # NUL and lone surrogates can only arrive as \\u escapes (raw ones fail the decode):
    # walk the strings only when such an escape is present.
    if b"\\" in raw and (b"\\u0000" in raw or (b"\\u" in raw and _LONE_SURROGATE_ESCAPE.search(raw))):
        problem = _bad_text(value)
        if problem:
            raise JsonRefused(problem)
    return value
