"""Small builders for PatientRecords in model tests (dates as day offsets from a fixed start)."""
from __future__ import annotations

from datetime import date, timedelta

from myeloma_model.records import (
    ConditionFact,
    CytogeneticFinding,
    DrugExposure,
    EcogScore,
    LabResult,
    PatientRecord,
    Transplant,
)

T0 = date(2020, 1, 1)


def day(n: int) -> date:
    """T0 + n days."""
    return T0 + timedelta(days=n)


def record(**kw) -> PatientRecord:
    kw.setdefault("patient_id", "test-patient")
    kw.setdefault("in_scope", True)
    kw.setdefault("diagnosis_date", T0)
    return PatientRecord(**kw)


def labs(rec: PatientRecord, analyte: str, *points, **kw) -> PatientRecord:
    """points: (day offset, value) or (day offset, value, comparator)."""
    series = rec.labs.setdefault(analyte, [])
    for p in points:
        comparator = p[2] if len(p) > 2 else None
        series.append(LabResult(analyte, float(p[1]), day(p[0]), comparator=comparator, **kw))
    series.sort(key=lambda r: r.when)
    return rec


def drug(rec: PatientRecord, name: str, start: int | None, end: int | None = None, active: bool = False,
         source: str = "MedicationStatement") -> PatientRecord:
    rec.exposures.append(DrugExposure(name, day(start) if start is not None else None,
                                      day(end) if end is not None else None, active, source))
    return rec


def regimen(rec: PatientRecord, names: list[str], start: int, end: int | None = None, active: bool = False) -> PatientRecord:
    for n in names:
        drug(rec, n, start, end, active)
    return rec


def condition(rec: PatientRecord, kind: str, onset: int | None, active: bool = True, **kw) -> PatientRecord:
    rec.conditions.append(ConditionFact(kind, day(onset) if onset is not None else None, active, **kw))
    return rec


def fish(rec: PatientRecord, abnormality: str, present: bool, when: int | None = 0) -> PatientRecord:
    rec.cytogenetics.append(CytogeneticFinding(abnormality, present, day(when) if when is not None else None))
    return rec


def ecog(rec: PatientRecord, score: int, when: int = 0) -> PatientRecord:
    rec.ecog.append(EcogScore(score, day(when)))
    return rec


def transplant(rec: PatientRecord, when: int) -> PatientRecord:
    rec.transplants.append(Transplant(day(when)))
    return rec
