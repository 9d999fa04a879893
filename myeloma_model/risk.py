"""Risk: high-risk cytogenetics, ISS / R-ISS, the beta-2 microglobulin trend and the high-risk
relapse features (docs/clinical-model.md#high-risk-relapse-features, #risk-and-fitness).

Missing inputs never default to normal: a stage that depends on a value we do not have is
`unknown`.
"""
from __future__ import annotations

from datetime import date, timedelta

from myeloma_model.contract import data_gap
from myeloma_model.markers import MarkerBook, as_book, at_least, surely_above, surely_below, value_at
from myeloma_model.records import LabResult, PatientRecord
from myeloma_model.thresholds import (
    DAYS_PER_MONTH,
    EARLY_FIRST_RELAPSE_MONTHS,
    HEAVY_MARROW_INFILTRATION_PCT,
    ISS_ALBUMIN_MIN_G_L,
    ISS_B2M_HIGH_MG_L,
    ISS_B2M_LOW_MG_L,
    LDH_DEFAULT_UPPER_U_L,
    RISING_B2M_RELATIVE,
    STAGING_WINDOW_DAYS,
)

HIGH_RISK_ABNORMALITIES = ("del17p", "t(4;14)", "t(14;16)", "gain1q", "del1p")
RISS_ABNORMALITIES = ("del17p", "t(4;14)", "t(14;16)")


# --- cytogenetics -------------------------------------------------------------------------------

def cytogenetic_status(record: PatientRecord) -> dict[str, bool]:
    """Abnormality -> present (True) / ruled out (False); absent key = never tested.

    The latest dated finding wins; a positive and a negative on the same day count as
    positive (an abnormality may be subclonal); undated findings rank first."""
    best: dict[str, tuple] = {}
    for f in record.cytogenetics:
        key = (f.when or date.min, f.present)
        if f.abnormality not in best or key > best[f.abnormality]:
            best[f.abnormality] = key
    return {a: k[1] for a, k in best.items()}


def high_risk_cytogenetics(record: PatientRecord) -> list[str]:
    """del17p, t(4;14), t(14;16), gain1q, del1p found present, in that order."""
    status = cytogenetic_status(record)
    return [a for a in HIGH_RISK_ABNORMALITIES if status.get(a)]


# --- staging --------------------------------------------------------------------------------------

def staging_result(record: PatientRecord, analyte: str, gaps: list) -> LabResult | None:
    """Earliest result within 90 days of the diagnosis date, else the latest (with a data gap)."""
    series = record.series(analyte)
    if not series:
        gaps.append(data_gap("staging-no-result", analyte=analyte))
        return None
    dx = record.diagnosis_date
    if dx is not None:
        window = timedelta(days=STAGING_WINDOW_DAYS)
        for r in series:
            if abs(r.when - dx) <= window:
                return r
    gaps.append(data_gap("staging-outside-window", analyte=analyte, windowDays=STAGING_WINDOW_DAYS,
                         used=series[-1].when))
    return series[-1]


def iss_stage(b2m: LabResult | None, albumin: LabResult | None) -> str:
    """I: b2m < 3.5 mg/L and albumin >= 35 g/L; III: b2m >= 5.5 mg/L; II otherwise."""
    if at_least(b2m, ISS_B2M_HIGH_MG_L):
        return "III"
    if surely_below(b2m, ISS_B2M_LOW_MG_L):
        if at_least(albumin, ISS_ALBUMIN_MIN_G_L):
            return "I"
        if surely_below(albumin, ISS_ALBUMIN_MIN_G_L):
            return "II"
        return "unknown"
    if surely_below(b2m, ISS_B2M_HIGH_MG_L):
        return "II"
    return "unknown"


def ldh_high(ldh: LabResult | None) -> bool | None:
    """Above the Observation's upper reference limit, else above 250 U/L; None when unknown."""
    if ldh is None:
        return None
    limit = ldh.ref_high if ldh.ref_high is not None else LDH_DEFAULT_UPPER_U_L
    if surely_above(ldh, limit):
        return True
    if ldh.comparator not in (">", ">=") and ldh.value <= limit:
        return False
    return None


def riss_stage(iss: str, cyto: dict[str, bool], high_ldh: bool | None) -> str:
    """R-ISS from ISS, del(17p)/t(4;14)/t(14;16) and LDH (section 6, missing never normal)."""
    if iss == "II":
        return "II"
    if iss not in ("I", "III"):
        return "unknown"
    any_abn = any(cyto.get(a) for a in RISS_ABNORMALITIES)
    none_abn = all(cyto.get(a) is False for a in RISS_ABNORMALITIES)
    if iss == "I":
        if any_abn or high_ldh is True:
            return "II"
        return "I" if none_abn and high_ldh is False else "unknown"
    if any_abn or high_ldh is True:
        return "III"
    return "II" if none_abn and high_ldh is False else "unknown"


def staging(record: PatientRecord, gaps: list) -> tuple[str, str]:
    """(iss, riss) using the staging window; notes go to `gaps`."""
    b2m = staging_result(record, "b2m", gaps)
    alb = staging_result(record, "albumin", gaps)
    iss = iss_stage(b2m, alb)
    ldh = staging_result(record, "ldh", gaps) if iss in ("I", "III") else None
    return iss, riss_stage(iss, cytogenetic_status(record), ldh_high(ldh))


# --- beta-2 microglobulin trend and high-risk relapse features ------------------------------------

def b2m_at_line_start(source: PatientRecord | MarkerBook, line_start: date | None):
    """The b2m measurement standing for the start of the current line (earliest if no line)."""
    return value_at(as_book(source).points("b2m"), line_start)


def b2m_trend(source: PatientRecord | MarkerBook, line_start: date | None) -> str:
    """rising: latest >= 25 % above its value at the start of the current line; stable: a later
    measurement that is not; unknown otherwise."""
    points = as_book(source).points("b2m")
    base = value_at(points, line_start)
    if base is None or base.high is None or points[-1].when <= base.when:
        return "unknown"
    latest = points[-1]
    if latest.low is not None and latest.low >= base.high * (1 + RISING_B2M_RELATIVE) - 1e-9:
        return "rising"
    if latest.high is not None:
        return "stable"
    return "unknown"


def high_risk_relapse_features(
    record: PatientRecord,
    *,
    line_start: date | None,
    relapsing: bool,
    relapse_on_therapy: bool,
    first_progression: date | None,
    cytogenetics: list[str],
    trend: str,
) -> list[str]:
    """Section 4's features that make surveillance unsafe, in contract order."""
    out = []
    cpc = [r for r in record.series("circulating_plasma_cells") if line_start is None or r.when >= line_start]
    if cpc and surely_above(cpc[-1], 0.0):
        out.append("circulating-plasma-cells")
    if any(c.kind in ("extramedullary-disease", "plasmacytoma") and c.active
           and (c.onset is None or line_start is None or c.onset >= line_start) for c in record.conditions):
        out.append("extramedullary")
    marrow = [r for r in record.series("marrow_plasma_cells") if line_start is None or r.when >= line_start]
    if marrow and at_least(marrow[-1], HEAVY_MARROW_INFILTRATION_PCT):
        out.append("heavy-marrow-infiltration")
    if cytogenetics:
        out.append("high-risk-cytogenetics")
    if relapsing and relapse_on_therapy:
        out.append("relapse-on-therapy")
    if (first_progression is not None and record.diagnosis_date is not None
            and (first_progression - record.diagnosis_date).days / DAYS_PER_MONTH < EARLY_FIRST_RELAPSE_MONTHS):
        out.append("early-first-relapse")
    if trend == "rising":
        out.append("rising-b2m")
    return out
