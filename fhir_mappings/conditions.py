"""Condition -> ConditionFact (and scope / diagnosis date / light chain / transplant history).

docs/clinical-model.md section 1: a myeloma Condition (SNOMED 109989006 or a known subtype,
ICD-10(-CM) C90.0*) that is not refuted and not entered in error puts the patient in scope,
whatever its clinicalStatus (a myeloma in remission is the patient relapse surveillance is for);
verificationStatus refuted or entered-in-error removes the Condition altogether. For the other
kinds `ConditionFact.active` matters: clinicalStatus active / recurrence / relapse, or no
clinicalStatus and no abatement[x]. The diagnosis date is the earliest onset
(onsetDateTime, onsetPeriod.start, recordedDate) of any non-refuted myeloma Condition.
Other kinds (heart failure, neuropathy, VTE, ...) come from codes, and only when no code is
recognised from the Condition's text (never for myeloma: scope needs a code).
"""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from fhir_mappings.dates import parse_date, period_bounds
from fhir_mappings.terminology import SNOMED, concept_texts, icd_key, normalise_system, tables
from myeloma_model.records import ConditionFact

_T = tables()
_SNOMED = _T.condition_by_snomed
_ICD = _T.condition_by_icd10
_ICD_PREFIXES = _T.condition_icd10_prefixes
_ICD_SYSTEMS = _T.icd10_systems

ACTIVE_CLINICAL = frozenset({"active", "recurrence", "relapse"})
EXCLUDED_VERIFICATION = frozenset({"refuted", "entered-in-error"})


def _text_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    data = json.loads((Path(__file__).parent / "terminology" / "conditions.json").read_text(encoding="utf-8"))
    return tuple(
        (re.compile(p["pattern"], re.IGNORECASE), p["kind"]) for p in data.get("text_patterns", {}).get("patterns", [])
    )


_TEXT_PATTERNS = _text_patterns()


def status_code(concept: object) -> str | None:
    """The code of a clinicalStatus / verificationStatus CodeableConcept (first coding)."""
    if not isinstance(concept, dict):
        return None
    for c in concept.get("coding") or ():
        if isinstance(c, dict) and c.get("code"):
            return c["code"]
    return None


def onset_of(cond: dict) -> date | None:
    d = cond.get("onsetDateTime")
    if d is not None:
        return parse_date(d)
    start, _ = period_bounds(cond.get("onsetPeriod"))
    if start is not None:
        return start
    return parse_date(cond.get("recordedDate"))


def kinds_of(concept: dict) -> list[tuple[str, str | None]]:
    """(kind, light chain) pairs a Condition code names; text patterns only when no code is known."""
    out: list[tuple[str, str | None]] = []
    for c in concept.get("coding") or ():
        if not isinstance(c, dict) or not isinstance(c.get("code"), str):
            continue
        system = normalise_system(c.get("system"))
        code = c["code"]
        hit = None
        if system == SNOMED:
            hit = _SNOMED.get(code)
        elif system in _ICD_SYSTEMS:
            key = icd_key(code)
            hit = _ICD.get(key)
            if hit is None:
                for prefix, kind in _ICD_PREFIXES:
                    if key.startswith(prefix):
                        hit = (kind, None)
                        break
        if hit is not None and hit not in out:
            out.append(hit)
    if out:
        return out
    for text in concept_texts(concept):
        for pattern, kind in _TEXT_PATTERNS:
            if pattern.search(text):
                return [(kind, None)]
    return out


def condition_facts(cond: dict) -> tuple[list[ConditionFact], str | None]:
    """Facts from one Condition, and the reason it was set aside (None when used)."""
    verification = status_code(cond.get("verificationStatus"))
    if verification in EXCLUDED_VERIFICATION:
        return [], verification
    code = cond.get("code")
    if not isinstance(code, dict):
        return [], None
    kinds = kinds_of(code)
    if not kinds:
        return [], None
    clinical = status_code(cond.get("clinicalStatus"))
    if clinical is None:
        # No clinicalStatus: active unless it has abated (an abatement date means it resolved).
        active = not any(k.startswith("abatement") for k in cond)
    else:
        active = clinical in ACTIVE_CLINICAL
    onset = onset_of(cond)
    rid = cond.get("id")
    ref = f"Condition/{rid}" if rid else "Condition"
    return [ConditionFact(kind, onset, active, light, ref) for kind, light in kinds], None
