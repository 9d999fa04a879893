"""UCUM conversion into the canonical units of docs/clinical-model.md#units (tables in units.json).

A Quantity's UCUM code is matched case-sensitively (UCUM is case-sensitive: "mg/dl" is not a
UCUM code). Only when no UCUM code is given is the human `unit` string read, through the alias
table. An unknown unit is never guessed: the caller gets a reason to report as a data gap.
"""
from __future__ import annotations

from fhir_mappings.terminology import SYSTEM_ALIASES as _SYSTEM_ALIASES
from fhir_mappings.terminology import UCUM, tables

_T = tables()
_FACTORS = _T.unit_factors
_ALIASES = _T.unit_aliases
_OPTIONAL = _T.unit_optional
# Every exact UCUM spelling the tables know: a human `unit` equal to one is taken as is.
_KNOWN = frozenset(_ALIASES.values()) | frozenset(u for f in _FACTORS.values() for u in f)


def ucum_of(quantity: dict) -> str | None:
    """The UCUM code a Quantity states.

    - system UCUM and a code: the code, exactly (UCUM is case-sensitive; never corrected);
    - no system, a code the tables know: that code;
    - otherwise the human `unit` string (or, lacking one, a system-less code) through the
      alias table; None when the Quantity states no unit at all.
    """
    code = quantity.get("code")
    system = quantity.get("system")
    if code is not None and system is not None and _SYSTEM_ALIASES.get(system, system) == UCUM:
        return code
    if code is not None and system is None and code in _KNOWN:
        return code
    unit = quantity.get("unit")
    if unit is not None:
        return human_unit(unit)
    if code is not None and system is None:
        return human_unit(code)
    return code


def human_unit(unit: str) -> str:
    """Free-text unit -> UCUM code when known (exact UCUM spelling first, then aliases)."""
    unit = unit.strip()
    if unit in _KNOWN:
        return unit
    key = unit.lower().replace(" ", "")
    return _ALIASES.get(key, unit)


def to_canonical(analyte: str, value: float, unit: str | None) -> tuple[float | None, str | None]:
    """(value in the canonical unit, None) or (None, reason) when the unit is unusable."""
    factors = _FACTORS.get(analyte)
    if factors is None:
        return None, f"no unit table for {analyte}"
    if unit is None or unit == "":
        if analyte in _OPTIONAL:
            return value, None
        return None, "missing unit"
    factor = factors.get(unit)
    if factor is None:
        return None, f"unit '{unit}' not convertible"
    return value * factor, None
