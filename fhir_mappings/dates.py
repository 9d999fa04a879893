"""FHIR date / dateTime / instant strings -> datetime.date (the calendar date as written).

Partial dates ("2024", "2024-05") resolve to the first day of the period. Cached: lab series
repeat the same timestamps, so parsing is a dict hit after the first time.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache

# Dates outside this range are unreadable (None), not clinical history: the model adds and
# subtracts months and years, which overflows near year 1 and year 9999 (issue 13).
EARLIEST, LATEST = date(1800, 1, 1), date(2199, 12, 31)
# The longest FHIR instant ("2024-05-01T10:00:00.123456789+14:00") is 35 characters; a longer
# string is unreadable at once, and never kept in a cache (it would hold the client's text).
MAX_DATE_CHARS = 64


def parse_date(value: object) -> date | None:
    """The date part of a FHIR date/dateTime/instant, or None when unreadable."""
    if type(value) is not str or len(value) > MAX_DATE_CHARS:
        return None
    return _parse(value)


@lru_cache(maxsize=65536)
def _parse(value: str) -> date | None:
    d = _parse_any(value)
    return d if d is not None and EARLIEST <= d <= LATEST else None


def _parse_any(value: str) -> date | None:
    s = value.strip()
    try:
        if len(s) >= 10:
            return date.fromisoformat(s[:10])
        if len(s) == 7:
            return date(int(s[:4]), int(s[5:7]), 1)
        if len(s) == 4:
            return date(int(s), 1, 1)
    except ValueError:
        return None
    return None


def period_bounds(period: object) -> tuple[date | None, date | None]:
    """(start, end) of a FHIR Period dict; (None, None) when absent."""
    if not isinstance(period, dict):
        return None, None
    return parse_date(period.get("start")), parse_date(period.get("end"))


def effective_date(resource: dict) -> date | None:
    """effectiveDateTime / effectivePeriod.start / effectiveInstant / issued, first found."""
    d = resource.get("effectiveDateTime")
    if d is not None:
        return parse_date(d)
    p = resource.get("effectivePeriod")
    if p:
        start, end = period_bounds(p)
        return start or end
    d = resource.get("effectiveInstant") or resource.get("issued")
    return parse_date(d) if d is not None else None


# Timestamps already read -> (UTC date, UTC minute): a plain dict, so the hot loop of the
# Observation reader can look a timestamp up without a call (fhir_mappings/observations.py).
# Emptied when full, which bounds it as lru_cache would.
UTC_SEEN: dict[str, tuple[date, str]] = {}
UTC_SEEN_MAX = 65536


def utc(value: str) -> tuple[date, str] | None:
    """`_utc` remembered in UTC_SEEN (unreadable values are not remembered)."""
    t = UTC_SEEN.get(value)
    if t is None:
        if len(value) > MAX_DATE_CHARS:
            return None
        t = _utc(value)
        if t is not None:
            if len(UTC_SEEN) >= UTC_SEEN_MAX:
                UTC_SEEN.clear()
            UTC_SEEN[value] = t
    return t


def _utc(value: str) -> tuple[date, str] | None:
    """(UTC calendar date, UTC minute "YYYY-MM-DDTHH:MM" or the date alone) of a FHIR
    date/dateTime/instant. A dateTime with a time is normalised to UTC (FHIR requires a zone
    with a time; one without is read as UTC); a date or partial date is its first day."""
    s = value.strip()
    if len(s) <= 10:
        d = _parse(s)
        return (d, d.isoformat()) if d else None
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        d = _parse(s)
        return (d, d.isoformat()) if d else None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc)
    return dt.date(), dt.strftime("%Y-%m-%dT%H:%M")


def effective_time(resource: dict) -> tuple[date, str] | None:
    """An Observation's effective time (docs/clinical-model.md s2): effectiveDateTime, else
    effectivePeriod.start, else effectiveInstant, else issued (else effectivePeriod.end), as
    (UTC date, UTC minute key for de-duplication); None when none is readable."""
    d = resource.get("effectiveDateTime")
    if type(d) is str:  # the usual case, without building the list of candidates
        return utc(d)
    p = resource.get("effectivePeriod")
    for value in (resource.get("effectiveDateTime"), p.get("start") if isinstance(p, dict) else None,
                  resource.get("effectiveInstant"), resource.get("issued"),
                  p.get("end") if isinstance(p, dict) else None):
        if type(value) is str:
            return utc(value)
    return None
