"""CRAB / clinical features of progression (docs/clinical-model.md#crab-features), new since the nadir
or the start of the current line.

`since` is the reference day (the nadir of the progressing marker, else the line's start):
features recorded before it belong to the previous disease phase (e.g. hypercalcaemia at
diagnosis) and never make a later relapse "clinical". A feature counts if it was present on
any measurement from `since` on (a treated hypercalcaemia is still a clinical feature).
Censored values follow markers.py: only a surely-abnormal value counts.
"""
from __future__ import annotations

from datetime import date

from myeloma_model.contract import Anaemia, BoneLesion, CrabEvidence, Hypercalcaemia, RenalRise
from myeloma_model.markers import EPS, MarkerBook, as_book, between, surely_above, value_at
from myeloma_model.records import PatientRecord
from myeloma_model.thresholds import CRAB_CALCIUM_MMOL_L, CRAB_CREATININE_RISE_UMOL_L, CRAB_HAEMOGLOBIN_FALL_G_L

LESION_KINDS = ("bone-lesion", "plasmacytoma", "extramedullary-disease")


def _in(d: date, since: date | None, end: date | None) -> bool:
    return (since is None or d >= since) and (end is None or d < end)


def hypercalcaemia(source: PatientRecord | MarkerBook, since: date | None, end: date | None = None) -> bool:
    """Calcium strictly > 2.75 mmol/L (11 mg/dL)."""
    return any(surely_above(p, CRAB_CALCIUM_MMOL_L) for p in between(as_book(source).points("calcium"), since, end))


def anaemia(source: PatientRecord | MarkerBook, since: date | None, end: date | None = None) -> bool:
    """Haemoglobin falls by >= 20 g/L from its best value since the nadir (running best)."""
    best: float | None = None
    for p in between(as_book(source).points("haemoglobin"), since, end):
        if best is not None and p.high is not None and best - p.high >= CRAB_HAEMOGLOBIN_FALL_G_L - EPS:
            return True
        if p.low is not None and (best is None or p.low > best):
            best = p.low
    return False


def renal(source: PatientRecord | MarkerBook, line_start: date | None, since: date | None, end: date | None = None) -> bool:
    """Creatinine rises by >= 177 umol/L (2 mg/dL) from its value at the start of the current
    line (earliest value when no line is known)."""
    points = as_book(source).points("creatinine")
    base = value_at(points, line_start)
    if base is None or base.high is None:
        return False
    return any(
        p.when > base.when and p.low is not None and p.low - base.high >= CRAB_CREATININE_RISE_UMOL_L - EPS
        for p in between(points, since, end)
    )


def new_bone_lesion(source: PatientRecord | MarkerBook, since: date | None, end: date | None = None) -> bool:
    """A bone lesion, plasmacytoma or extramedullary disease recorded since `since` (a Condition
    without an onset date cannot be shown to be new and is not counted)."""
    return any(
        c.kind in LESION_KINDS and c.active and c.onset is not None and _in(c.onset, since, end)
        for c in as_book(source).record.conditions
    )


def crab_evidence(source: PatientRecord | MarkerBook, line_start: date | None, since: date | None,
                  end: date | None = None) -> dict[str, CrabEvidence]:
    """For each CRAB feature present in [since, end), the first day it held and the values
    behind it (canonical units), for `relapse.crabDate` and the clinical relapse card
    (contract.Hypercalcaemia, Anaemia, RenalRise, BoneLesion). Same rules as the boolean tests
    above."""
    book = as_book(source)
    out: dict[str, CrabEvidence] = {}
    for p in between(book.points("calcium"), since, end):
        if surely_above(p, CRAB_CALCIUM_MMOL_L):
            out["hypercalcaemia"] = Hypercalcaemia(p.when, p.value)
            break
    best = None
    for p in between(book.points("haemoglobin"), since, end):
        if best is not None and p.high is not None and best.low - p.high >= CRAB_HAEMOGLOBIN_FALL_G_L - EPS:
            out["anaemia"] = Anaemia(p.when, best.value, p.value, round(best.low - p.high, 3))
            break
        if p.low is not None and (best is None or p.low > best.low):
            best = p
    points = book.points("creatinine")
    base = value_at(points, line_start)
    if base is not None and base.high is not None:
        for p in between(points, since, end):
            if p.when > base.when and p.low is not None and p.low - base.high >= CRAB_CREATININE_RISE_UMOL_L - EPS:
                out["renal"] = RenalRise(p.when, base.value, p.value, round(p.low - base.high, 3))
                break
    lesions = sorted((c for c in book.record.conditions
                      if c.kind in LESION_KINDS and c.active and c.onset is not None and _in(c.onset, since, end)),
                     key=lambda c: c.onset)
    if lesions:
        out["bone-lesion"] = BoneLesion(lesions[0].onset, lesions[0].kind)
    return out


def crab_features(source: PatientRecord | MarkerBook, line_start: date | None, since: date | None,
                  end: date | None = None) -> list[str]:
    """Contract codes of the CRAB features present in [since, end), in contract order."""
    book = as_book(source)
    out = []
    if hypercalcaemia(book, since, end):
        out.append("hypercalcaemia")
    if anaemia(book, since, end):
        out.append("anaemia")
    if renal(book, line_start, since, end):
        out.append("renal")
    if new_bone_lesion(book, since, end):
        out.append("bone-lesion")
    return out
