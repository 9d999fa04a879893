"""UCUM conversion into the canonical units of docs/clinical-model.md (reference units in units.json).

A unit is parsed as a UCUM expression by the ucumvert parser (UCUM grammar, mapped onto pint),
not looked up in a table of spellings: the litre may be written `l` or `L` (`mg/dl` = `mg/dL`),
annotations in braces are ignored (`mg/dL{total}`), prefixes and powers are understood
(`10*3/uL` = `10*9/L`). The value is converted to the first reference unit of the analyte that
has the same dimension, then multiplied by that reference's factor: a mass concentration reaches
g/L directly; a molar one reaches calcium, creatinine, beta-2 microglobulin or haemoglobin
through the analyte-specific factor. A unit that does not parse, or whose dimension matches no
reference, is never guessed: the caller gets a reason to report as a data gap.

Parsing costs about 2 ms, so each (analyte, unit) answer is cached: a patient's thousands of
results use a handful of units. The registry is built on first use (about 0.6 s) rather than
at import, so processes that never read a unit (the CLI's help, the discovery endpoint) do not
pay for it.
"""
from __future__ import annotations

import threading
from functools import lru_cache

from ucumvert import PintUcumRegistry

from fhir_mappings.terminology import SYSTEM_ALIASES as _SYSTEM_ALIASES
from fhir_mappings.terminology import UCUM, tables

_T = tables()
_REFERENCES = _T.unit_factors  # analyte -> reference UCUM unit -> factor to the canonical unit
_ALIASES = _T.unit_aliases  # free text that is not UCUM ("mg/24h", "x10^9/L") -> UCUM
_OPTIONAL = _T.unit_optional
_LOCK = threading.Lock()  # pint registries are not documented as thread-safe
# No UCUM unit a laboratory sends is this long (the longest in units.json is 14); a longer string
# is refused before it is parsed (a 100,000-character one took the parser 0.5 s) or remembered
# in a cache (it would hold the client's text there).
MAX_UNIT_CHARS = 64


@lru_cache(maxsize=1)
def _registry() -> PintUcumRegistry:
    return PintUcumRegistry()


@lru_cache(maxsize=1024)
def _quantity(unit: str):
    """The pint quantity of one `unit` (magnitude carries numeric factors such as 24 in
    mg/(24.h)); None when the string is not a UCUM expression."""
    with _LOCK:
        try:
            q = _registry().from_ucum(unit)
            if not hasattr(q, "dimensionality"):  # an annotation alone ("{ratio}") is unity
                q = _registry().from_ucum("1")
            return q
        except Exception:  # ucumvert raises its own and lark's errors; all mean "not UCUM"
            return None


def ucum_of(quantity: dict) -> str | None:
    """The unit a Quantity states: its `code` when the system is UCUM, else its human `unit`
    (a non-UCUM free-text spelling mapped through the alias table), else a system-less code;
    None when the Quantity states no unit at all."""
    code = quantity.get("code")
    system = quantity.get("system")
    if code is not None and system is not None and _SYSTEM_ALIASES.get(system, system) == UCUM:
        return code
    unit = quantity.get("unit")
    if unit is not None:
        return human_unit(unit)
    if code is not None and system is None:
        return human_unit(code)
    return code


def human_unit(unit: str) -> str:
    """Free-text unit -> a UCUM expression: the alias when the text is a known non-UCUM
    spelling ("mg/24h", "x10^9/L", "µmol/L"), else the text itself (parsed later)."""
    unit = unit.strip()
    return _ALIASES.get(unit.lower().replace(" ", ""), unit)


@lru_cache(maxsize=4096)
def factor_to_canonical(analyte: str, unit: str) -> tuple[float | None, str | None]:
    """(factor, None) turning a value in `unit` into the analyte's canonical unit, or
    (None, reason)."""
    references = _REFERENCES.get(analyte)
    if references is None:
        return None, f"no unit table for {analyte}"
    exact = references.get(unit)
    if exact is not None:
        return exact, None
    given = _quantity(unit)
    if given is None:
        return None, f"unit '{unit}' is not a UCUM unit; not convertible"
    for ref_unit, factor in references.items():
        ref = _quantity(ref_unit)
        if ref is None or ref.dimensionality != given.dimensionality:
            continue
        try:
            ratio = (given / ref).to("dimensionless").magnitude
        except Exception:  # same dimension but no defined conversion (arbitrary units)
            continue
        return float(ratio) * factor, None
    return None, f"unit '{unit}' not convertible"


def to_canonical(analyte: str, value: float, unit: str | None) -> tuple[float | None, str | None]:
    """(value in the canonical unit, None) or (None, reason) when the unit is unusable."""
    if analyte not in _REFERENCES:
        return None, f"no unit table for {analyte}"
    if unit is None or unit == "":
        if analyte in _OPTIONAL:
            return value, None
        return None, "missing unit"
    if len(unit) > MAX_UNIT_CHARS:
        return None, f"unit '{unit[:24]}…' ({len(unit)} characters) is not a UCUM unit; not convertible"
    factor, problem = factor_to_canonical(analyte, unit)
    if problem is not None:
        return None, problem
    return value * factor, None
