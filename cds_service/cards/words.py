"""Clinical wording shared by every card: drug and class names, dates, numbers, plurals.

The assessment carries codes (`belantamab-mafodotin`, `IMiD`, `2025-04-28`); the cards say
"belantamab mafodotin", "immunomodulatory drug", "28 Apr 2025". Nothing here decides anything.
"""
from __future__ import annotations

import re
from myeloma_model.contract import parse_date

# Contract drug keys whose clinical name is not the key with spaces.
_DRUG_NAMES = {
    "idecabtagene-vicleucel": "idecabtagene vicleucel (ide-cel)",
    "ciltacabtagene-autoleucel": "ciltacabtagene autoleucel (cilta-cel)",
}
CLASS_NAMES = {
    "IMiD": "immunomodulatory drug (IMiD)",
    "PI": "proteasome inhibitor",
    "anti-CD38": "anti-CD38 antibody",
    "anti-SLAMF7": "anti-SLAMF7 antibody",
    "BCMA-ADC": "BCMA antibody-drug conjugate",
    "BCMA-bispecific": "BCMA bispecific antibody",
    "BCMA-CAR-T": "BCMA CAR-T",
    "GPRC5D-bispecific": "GPRC5D bispecific antibody",
    "FcRH5-bispecific": "FcRH5 bispecific antibody",
    "XPO1": "XPO1 inhibitor",
    "alkylator": "alkylating agent",
    "HDAC": "HDAC inhibitor",
    "BCL2": "BCL2 inhibitor",
    "corticosteroid": "corticosteroid",
}
SHORT_CLASS = {"IMiD": "IMiD", "PI": "proteasome inhibitor", "anti-CD38": "anti-CD38"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def drug_name(key: str) -> str:
    """`belantamab-mafodotin` -> "belantamab mafodotin"."""
    return _DRUG_NAMES.get(key, key.replace("-", " "))


def drug_names(keys) -> str:
    return join_and([drug_name(k) for k in keys])


def class_name(cls: str | None) -> str:
    return CLASS_NAMES.get(cls or "", (cls or "unknown class").replace("-", " "))


def join_and(items: list[str], word: str = "and") -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def plural(n: int | float, one: str, many: str | None = None) -> str:
    """`1 prior line`, `2 prior lines`."""
    n_text = f"{n:g}" if isinstance(n, float) else str(n)
    return f"{n_text} {one if n == 1 else (many or one + 's')}"


def day(value) -> str:
    """An assessment date as a clinician writes it: 28 Apr 2025 (unparseable: as given)."""
    d = parse_date(value)
    if d is None:
        return str(value) if value else "an unknown date"
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def num(value, unit: str = "") -> str:
    """7.3 g/L; integers without a decimal point; None -> "not known"."""
    if value is None:
        return "not known"
    text = f"{value:g}" if isinstance(value, (int, float)) else str(value)
    return f"{text} {unit}".strip()


def months(value) -> str:
    if value is None:
        return "an unknown number of months"
    return plural(round(float(value), 1), "month")


# Record keys (analytes, Table 1 tests) as a clinician names them, for free-text data gaps.
RECORD_TERMS = {
    "serum_m_protein": "serum M-protein", "urine_m_protein": "urine M-protein", "kappa_flc": "free kappa",
    "lambda_flc": "free lambda", "flc_ratio": "free light chain ratio", "b2m": "beta-2 microglobulin",
    "ldh": "LDH", "igg": "IgG", "iga": "IgA", "igm": "IgM", "egfr": "eGFR", "marrow_plasma_cells": "marrow plasma cells",
    "haemoglobin": "haemoglobin", "calcium": "calcium", "creatinine": "creatinine", "albumin": "albumin",
    "platelets": "platelets", "neutrophils": "neutrophils",
    # prefetch keys, in data gaps about whole categories
    "medicationStatements": "medication statements", "medicationRequests": "medication requests",
    "medicationAdministrations": "medication administrations", "diagnosticReports": "diagnostic reports",
    "conditions": "conditions", "observations": "observations", "procedures": "procedures",
}
_RESOURCE_REF = re.compile(r"\b(?:Observation|Condition|Medication\w*|Procedure|DiagnosticReport|Patient|ServiceRequest)"
                           r"/[A-Za-z0-9.\-]+:?\s*")
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_TERM = re.compile(r"\b(" + "|".join(sorted(map(re.escape, RECORD_TERMS), key=len, reverse=True)) + r")\b")
# The word before "missing unit", matched from the start of a word only: linear in the text
# (an unanchored `(\S+) missing unit` retried every position of a long word: minutes for 100 kB).
_MISSING_UNIT = re.compile(r"(?<!\S)(\S+) missing unit")
MAX_NOTE_CHARS = 400  # a longer free-text note is cut before the rules run


def clinical_text(text: str) -> str:
    """A free-text note from the mapping without resource ids or record keys: "Observation/x:
    igg missing unit; value not used" -> "An IgG result has no unit; value not used"."""
    text = str(text)
    if len(text) > MAX_NOTE_CHARS:
        text = text[:MAX_NOTE_CHARS - 1] + "…"
    text = _RESOURCE_REF.sub("", text).strip()
    text = _TERM.sub(lambda m: RECORD_TERMS[m.group(1)], text)
    text = _MISSING_UNIT.sub(r"\1 result without a unit", text)
    text = _ISO_DATE.sub(lambda m: day(m.group(0)), text)
    return text[:1].upper() + text[1:] if text else text
