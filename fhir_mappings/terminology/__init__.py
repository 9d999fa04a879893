"""Code tables as data (the JSON files beside this module) and the lookups built from them.

Every LOINC, SNOMED CT, ICD-10(-CM), RxNorm and ATC code the mapping reads lives in the JSON
files here, each marked `verified` / `candidate` / `unverified` against
docs/terminology.md#status. All of them are accepted on input. The lookups are dicts keyed by
`(system, code)` built once at import, so the per-resource hot path is a dict lookup.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
ORDERABLE_STATUSES = ("verified", "sourced")  # terminology statuses a drafted order may carry
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"

_DIR = Path(__file__).parent

# Systems senders use for the same code system; normalised to the canonical URI on input.
_SYSTEM_ALIASES = {
    "http://loinc.org/": LOINC,
    "urn:oid:2.16.840.1.113883.6.1": LOINC,
    "http://snomed.info/sct/": SNOMED,
    "urn:oid:2.16.840.1.113883.6.96": SNOMED,
    "urn:oid:2.16.840.1.113883.6.88": RXNORM,
    "http://www.nlm.nih.gov/research/umls/rxnorm/": RXNORM,
    "http://www.whocc.no/atc/": ATC,
    "urn:oid:2.16.840.1.113883.6.73": ATC,
    "urn:oid:2.16.840.1.113883.6.8": UCUM,
    "http://unitsofmeasure.org/": UCUM,
    "urn:oid:2.16.840.1.113883.6.90": ICD10CM,
}


SYSTEM_ALIASES = _SYSTEM_ALIASES


def coding_keys(concept: dict) -> list[tuple[str | None, str | None]]:
    """(normalised system, code) of each coding of a CodeableConcept: the lookup keys."""
    return [(normalise_system(c.get("system")), c.get("code")) for c in concept.get("coding") or () if isinstance(c, dict)]


def concept_texts(concept: dict) -> list[str]:
    """A CodeableConcept's text and its codings' displays: where names are recognised."""
    out = [concept.get("text")] + [c.get("display") for c in concept.get("coding") or () if isinstance(c, dict)]
    return [t for t in out if isinstance(t, str) and t]


def ref_of(res: dict) -> str | None:
    """"Type/id" of a resource (its type alone without an id): source ids and data-gap text."""
    rid = res.get("id")
    return f"{res.get('resourceType')}/{rid}" if rid else res.get("resourceType")


def normalise_system(system: object) -> str | None:
    """Canonical system URI; anything that is not a string (malformed FHIR) is no system."""
    if not isinstance(system, str):
        return None
    return _SYSTEM_ALIASES.get(system, system)


def _load(name: str) -> dict[str, Any]:
    with open(_DIR / name, encoding="utf-8") as fh:
        return json.load(fh)


@dataclass(frozen=True, slots=True)
class DrugInfo:
    key: str  # assessment-contract drug key, e.g. "belantamab-mafodotin"
    drug_class: str  # contract class, e.g. "BCMA-ADC"


@dataclass(frozen=True)
class Tables:
    """Precompiled lookups over the JSON tables."""

    analyte_by_code: dict[tuple[str, str], str]
    ecog_codes: frozenset[tuple[str, str]]
    ecog_answers: dict[tuple[str, str], int]
    fish_by_code: dict[tuple[str, str], str | None]
    fish_positive: frozenset[tuple[str, str]]
    fish_negative: frozenset[tuple[str, str]]
    investigation_by_code: dict[tuple[str, str], str]
    investigation_order: dict[str, tuple[dict[str, str], ...]]
    investigation_assessments: frozenset[str]
    investigation_text: dict[str, str]
    drug_by_code: dict[tuple[str, str], DrugInfo]
    drugs: dict[str, DrugInfo]
    drug_name_pattern: re.Pattern[str]
    drug_by_name: dict[str, DrugInfo | None]  # lower-case name -> drug (None: a known non-match)
    condition_by_snomed: dict[str, tuple[str, str | None]]
    condition_by_icd10: dict[str, tuple[str, str | None]]  # dotless upper-case code
    condition_icd10_prefixes: tuple[tuple[str, str], ...]  # (dotless prefix, kind), longest first
    icd10_systems: frozenset[str]
    unit_factors: dict[str, dict[str, float]]
    unit_optional: frozenset[str]
    unit_aliases: dict[str, str]
    immunofixation_by_code: dict[tuple[str, str], str]  # -> specimen ("serum")


def icd_key(code: str) -> str:
    """ICD-10(-CM) codes compared without dots or case: the table keys and every lookup."""
    return code.replace(".", "").strip().upper()


def _build() -> Tables:
    """The lookup tables from the JSON files, one step per file."""
    return Tables(**_observation_tables(), **_investigation_tables(), **_drug_tables(), **_condition_tables(),
                  **_unit_tables())


def _observation_tables() -> dict:
    """observations.json: analytes, ECOG, FISH and immunofixation codes."""
    obs = _load("observations.json")
    fish = obs["fish"]
    return {
        "analyte_by_code": {(e["system"], e["code"]): e["analyte"] for e in obs["analytes"]},
        "ecog_codes": frozenset((e["system"], e["code"]) for e in obs["ecog"]["codes"]),
        "ecog_answers": {(e["system"], e["code"]): int(e["score"]) for e in obs["ecog"]["answers"]},
        "fish_by_code": {(e["system"], e["code"]): e["abnormality"] for e in fish["codes"]},
        "fish_positive": frozenset((e["system"], e["code"]) for e in fish["positive_answers"]),
        "fish_negative": frozenset((e["system"], e["code"]) for e in fish["negative_answers"]),
        "immunofixation_by_code": {(e["system"], e["code"]): e["specimen"]
                                   for e in obs.get("immunofixation", {}).get("codes", [])},
    }


def _investigation_tables() -> dict:
    """investigations.json: code -> investigation, the coded tests an order drafts (only codes
    whose status is verified or sourced), the clinical assessments, the order text."""
    inv = _load("investigations.json")["investigations"]
    obs = _load("observations.json")
    investigation_by_code: dict[tuple[str, str], str] = {}
    investigation_order: dict[str, tuple[dict[str, str], ...]] = {}
    investigation_text: dict[str, str] = {}
    # A draft order carries only codes checked against a public source (verified / sourced).
    status_of = {(e["system"], e["code"]): e.get("status") for e in obs["analytes"]}
    for entry in inv.values():
        status_of.update({(c["system"], c["code"]): c.get("status") for c in entry["codes"]})
    for key, entry in inv.items():
        investigation_text[key] = entry["text"]
        for c in entry["codes"]:
            investigation_by_code.setdefault((c["system"], c["code"]), key)
        order = []
        for c in entry.get("order") or ():
            if status_of.get((c["system"], c["code"])) not in ORDERABLE_STATUSES:
                raise ValueError(f"investigations.json: {key} orders {c['system']}|{c['code']}, "
                                 f"which is not {' or '.join(ORDERABLE_STATUSES)}")
            order.append({"system": c["system"], "code": c["code"], "display": c["display"]})
        investigation_order[key] = tuple(order)
    return {"investigation_by_code": investigation_by_code, "investigation_order": investigation_order,
            "investigation_assessments": frozenset(k for k, e in inv.items() if e.get("kind") == "assessment"),
            "investigation_text": investigation_text}


def _drug_tables() -> dict:
    """drugs.json: drugs by RxNorm/ATC code and by name, and the one name pattern."""
    drug_data = _load("drugs.json")["drugs"]
    drugs: dict[str, DrugInfo] = {}
    drug_by_code: dict[tuple[str, str], DrugInfo] = {}
    drug_by_name: dict[str, DrugInfo | None] = {}
    for key, entry in drug_data.items():
        info = DrugInfo(key, entry["class"])
        drugs[key] = info
        for c in entry["rxnorm"]:
            drug_by_code[(RXNORM, c["code"])] = info
        for c in entry["atc"]:
            drug_by_code[(ATC, c["code"])] = info
        for name in entry["names"] + entry["brands"]:
            drug_by_name[name.lower()] = info
        for name in entry.get("not_names", []):
            drug_by_name[name.lower()] = None
    return {"drugs": drugs, "drug_by_code": drug_by_code, "drug_by_name": drug_by_name,
            "drug_name_pattern": _drug_name_pattern(drug_by_name)}


def _drug_name_pattern(drug_by_name: dict) -> re.Pattern:
    # Longest names first so "melphalan flufenamide" wins over "melphalan" and
    # "darzalex faspro" over "darzalex"; \b gives whole-word matches ("ide-cel" included).
    names = sorted(drug_by_name, key=len, reverse=True)
    return re.compile(
        r"(?<![\w-])(" + "|".join(re.escape(n).replace(r"\ ", r"[\s-]+") for n in names) + r")(?![\w])",
        re.IGNORECASE,
    )


def _condition_tables() -> dict:
    """conditions.json: SNOMED CT and ICD-10 codes (exact and prefixes, longest first)."""
    cond = _load("conditions.json")
    prefixes = sorted(
        ((icd_key(e["prefix"]), e["kind"]) for e in cond["icd10_prefixes"]),
        key=lambda p: len(p[0]),
        reverse=True,
    )
    return {
        "condition_by_snomed": {e["code"]: (e["kind"], e.get("light_chain")) for e in cond["snomed"]},
        "condition_by_icd10": {icd_key(e["code"]): (e["kind"], e.get("light_chain")) for e in cond["icd10_codes"]},
        "condition_icd10_prefixes": tuple(prefixes),
        "icd10_systems": frozenset(cond["icd10_systems"]),
    }


def _unit_tables() -> dict:
    """units.json: conversion factors, unit-optional analytes, human aliases."""
    units = _load("units.json")
    return {
        "unit_factors": {k: {u: float(f) for u, f in v.items()} for k, v in units["factors"].items()},
        "unit_optional": frozenset(units["unit_optional"]),
        "unit_aliases": dict(units["human_aliases"]),
    }


@lru_cache(maxsize=1)
def tables() -> Tables:
    """The precompiled tables (built once per process)."""
    return _build()


# --- Public helpers used by other layers ---------------------------------------------------


def prefetch_observation_codes() -> list[str]:
    """`system|code` tokens for the Observation prefetch / search (`code=` parameter).

    Markers, renal, blood, risk (b2m, albumin, LDH), ECOG, FISH, IgG and marrow codes:
    everything the relapse model reads. Stable order (as in the data files), no duplicates.
    """
    return list(_prefetch_tokens())


@lru_cache(maxsize=1)
def _prefetch_tokens() -> tuple[str, ...]:
    obs = _load("observations.json")
    seen: dict[str, None] = {}
    for e in obs["analytes"] + obs["ecog"]["codes"] + obs["fish"]["codes"]:
        seen[f"{e['system']}|{e['code']}"] = None
    return tuple(seen)


def investigation_observation_codes() -> list[str]:
    """`system|code` tokens of the codes that evidence Table 1 investigations (blood group,
    coagulation, serologies, ...; LOINC, and the few SNOMED codes some senders put on an
    Observation), for an Observation search that wants them too."""
    t = tables()
    return [f"{s}|{c}" for (s, c) in t.investigation_by_code]


def investigation_order_codings(code: str) -> list[dict]:
    """The FHIR Codings of the draft ServiceRequests for a Table 1 investigation: one per
    coded test (a panel as the tests it contains); [] when the service drafts no order for it
    (a clinical assessment, or no verified code)."""
    return [dict(c) for c in tables().investigation_order.get(code, ())]


def investigation_is_assessment(code: str) -> bool:
    """ECOG and the neuropathy examination: clinical assessments for the visit, never orders."""
    return code in tables().investigation_assessments


def investigation_coding(code: str) -> dict | None:
    """The first Coding of `investigation_order_codings` (None when there is none)."""
    codings = investigation_order_codings(code)
    return codings[0] if codings else None


def investigation_text(code: str) -> str | None:
    """Human wording of a Table 1 investigation code (ServiceRequest.code.text)."""
    return tables().investigation_text.get(code)


def drug_class(drug: str) -> str | None:
    """Contract class of a drug key ("lenalidomide" -> "IMiD")."""
    info = tables().drugs.get(drug)
    return info.drug_class if info else None


def drug_keys() -> list[str]:
    """Every drug key the terminology knows (docs/assessment-contract.md#drugs names)."""
    return list(tables().drugs)


@lru_cache(maxsize=None)
def drug_ingredient_coding(key: str) -> dict | None:
    """The verified RxNorm ingredient (IN) Coding of a contract drug key, for a draft
    MedicationRequest a card suggests; None when no verified ingredient code is known."""
    entry = _load("drugs.json")["drugs"].get(key) or {}
    for c in entry.get("rxnorm", []):
        if c.get("tty") == "IN" and c.get("status") == "verified":
            return {"system": RXNORM, "code": c["code"], "display": key.replace("-", " ")}
    return None
