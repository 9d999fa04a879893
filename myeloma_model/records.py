"""Domain records: what fhir_mappings/ produces and the clinical model consumes.

Plain frozen dataclasses (NamedTuples for the records made once per lab result) with canonical
units (docs/clinical-model.md#units) so the model never sees FHIR, HTTP or unit strings. Everything here is pure Python.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal, NamedTuple

# Canonical analyte keys -> canonical unit (docs/clinical-model.md#units).
# fhir_mappings converts every value into these units before building a LabResult.
ANALYTE_UNITS: dict[str, str] = {
    "serum_m_protein": "g/L",
    "urine_m_protein": "mg/24h",
    "kappa_flc": "mg/L",
    "lambda_flc": "mg/L",
    "flc_ratio": "1",
    "b2m": "mg/L",
    "albumin": "g/L",
    "ldh": "U/L",
    "calcium": "mmol/L",
    "creatinine": "umol/L",
    "egfr": "mL/min/1.73m2",
    "haemoglobin": "g/L",
    "igg": "g/L",
    "platelets": "10*9/L",
    "marrow_plasma_cells": "%",
    "circulating_plasma_cells": "%",
}

Comparator = Literal["<", "<=", ">", ">="]


class LabResult(NamedTuple):
    """One usable numeric result, already in the analyte's canonical unit.

    A NamedTuple rather than a frozen dataclass, as the one-per-result records here are: just
    as immutable, and built four times faster (about 0.25 against 1 us), which a patient with
    thousands of results pays on every hook call (benchmarks/hook_stages.py)."""

    analyte: str
    value: float
    when: date
    comparator: Comparator | None = None  # "<0.1 g/dL" -> value 1.0, comparator "<"
    ref_high: float | None = None  # upper reference limit, canonical unit (LDH)
    source_id: str | None = None  # "Observation/123", for card detail and de-duplication


@dataclass(frozen=True, slots=True)
class DrugExposure:
    """One exposure period of one anti-myeloma drug (or steroid).

    `drug` is the contract's drug key (docs/assessment-contract.md#drugs: "lenalidomide",
    "belantamab-mafodotin", ...). `end` None means the period is open: with `active` True it
    runs to the as-of date; with `active` False the end is unknown and only `start` is known.
    """

    drug: str
    start: date | None
    end: date | None
    active: bool
    source: Literal["MedicationStatement", "MedicationRequest", "MedicationAdministration", "Procedure"]
    source_id: str | None = None
    # Latest evidence that the drug is (still) taken: effective start, dateAsserted, authoredOn or
    # last administration (docs/clinical-model.md s10: an `active` exposure on old evidence is a gap).
    evidence: date | None = None


# Condition kinds fhir_mappings recognises (terminology as data lives in fhir_mappings/).
ConditionKind = Literal[
    "multiple-myeloma",
    "heart-failure",  # heart failure, cardiomyopathy, severe cardiac disease
    "peripheral-neuropathy",
    "venous-thromboembolism",
    "bone-lesion",
    "plasmacytoma",
    "extramedullary-disease",
    "infection",
    "renal-impairment",
]


@dataclass(frozen=True, slots=True)
class ConditionFact:
    kind: ConditionKind
    onset: date | None  # onsetDateTime / recordedDate; None when unknown
    active: bool = True
    light_chain: Literal["kappa", "lambda"] | None = None  # isotype when the code says so
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class CytogeneticFinding:
    """A FISH / karyotype result. `present` False rules the abnormality out."""

    abnormality: Literal["del17p", "t(4;14)", "t(14;16)", "gain1q", "del1p"]
    present: bool
    when: date | None
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class ImmunofixationResult:
    """A serum (or urine) immunofixation: `negative` True when no monoclonal protein was seen."""

    specimen: Literal["serum", "urine"]
    negative: bool
    when: date
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class EcogScore:
    score: int  # 0..5
    when: date
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class Transplant:
    """Autologous (or allogeneic) stem-cell transplant: belongs to the line in progress."""

    when: date
    kind: Literal["autologous", "allogeneic", "unknown"] = "autologous"
    source_id: str | None = None


# Table 1 investigation codes (docs/assessment-contract.md#missing-investigations).
InvestigationCode = Literal[
    "ecog", "fbc", "spep", "sflc", "renal-profile", "b2m-albumin", "coagulation", "blood-group",
    "urine-24h-protein", "marrow-biopsy-fish", "pet-ct", "hbv-hcv-hiv", "cmv-ebv",
    "echocardiogram", "neuropathy-assessment", "igg",
]


class InvestigationRecord(NamedTuple):
    """Evidence that a Table 1 investigation was done on a date (any result); a NamedTuple
    for the reason LabResult is one (built once per lab result)."""

    code: InvestigationCode
    when: date | None
    source_id: str | None = None


@dataclass(slots=True)
class PatientRecord:
    """Everything the clinical model needs about one patient, in domain terms.

    `labs` maps analyte key -> results sorted by `when` ascending (fhir_mappings sorts once).
    `data_gaps` collects human-readable notes about data that could not be used (unknown
    unit, unreadable value, unknown code), which the assessment reports verbatim.
    """

    patient_id: str
    birth_date: date | None = None
    diagnosis_date: date | None = None  # onset of the earliest myeloma Condition
    in_scope: bool = False  # an active myeloma Condition exists
    light_chain: Literal["kappa", "lambda"] | None = None
    labs: dict[str, list[LabResult]] = field(default_factory=dict)
    exposures: list[DrugExposure] = field(default_factory=list)
    conditions: list[ConditionFact] = field(default_factory=list)
    cytogenetics: list[CytogeneticFinding] = field(default_factory=list)
    ecog: list[EcogScore] = field(default_factory=list)
    transplants: list[Transplant] = field(default_factory=list)
    investigations: list[InvestigationRecord] = field(default_factory=list)
    immunofixation: list[ImmunofixationResult] = field(default_factory=list)  # sorted by `when`
    data_gaps: list[str] = field(default_factory=list)

    def series(self, analyte: str) -> list[LabResult]:
        return self.labs.get(analyte, [])
