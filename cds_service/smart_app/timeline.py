"""The relapse timeline's data: what the SMART app draws, computed by the service's own model.

The browser reads the patient's records with its SMART token and posts them here as a Bundle;
this module maps them once (fhir_mappings), assesses them (myeloma_model.evaluate, in its JSON form) and returns:
- `series`: serum M-protein, involved FLC and dFLC per day, in canonical units;
- `crab`: calcium, creatinine, haemoglobin (shown on hover);
- `therapy`: drug courses grouped into numbered lines (myeloma_model.lines via the relapse analysis);
- `events`: the nadir and the relapse (with the criterion that fired, in words built from
  thresholds.py) and transplants;
- `responses`: the response to each line (best response, its date, how long it lasted, the
  relapse the line treats) as bands from the response date to its end;
- `dataAge`: the latest marker result, its age and freshness, and the sentence to show;
- `assessment`: the assessment object of docs/assessment-contract.md, unchanged.
Nothing here decides anything clinical: nadir, relapse date and criteria come from the model.
"""
from __future__ import annotations

from datetime import date

from myeloma_model.drug_classes import drug_class
from myeloma_model.freshness import age_in_months
from myeloma_model.markers import daily_points, flc_points, involved_chain
from myeloma_model.records import ANALYTE_UNITS, PatientRecord
from myeloma_model.thresholds import (
    PD_DFLC_ABSOLUTE_RISE_MG_L,
    PD_MARROW_PLASMA_CELL_RISE_POINTS,
    PD_RELATIVE_RISE,
    PD_SERUM_ABSOLUTE_RISE_G_L,
    PD_SERUM_ABSOLUTE_RISE_HIGH_NADIR_G_L,
    PD_SERUM_HIGH_NADIR_G_L,
    PD_URINE_ABSOLUTE_RISE_MG_24H,
)

_PCT = f"{PD_RELATIVE_RISE:.0%}"

# The progression criterion (assessment `relapse.criteria` value) in words, from thresholds.py.
CRITERION_TEXT = {
    "serum-m-protein": f"serum M-protein ≥ {_PCT} and ≥ {PD_SERUM_ABSOLUTE_RISE_G_L:g} g/L above nadir",
    "urine-m-protein": f"urine M-protein ≥ {_PCT} and ≥ {PD_URINE_ABSOLUTE_RISE_MG_24H:g} mg/24h above nadir",
    "dflc": f"dFLC ≥ {_PCT} and > {PD_DFLC_ABSOLUTE_RISE_MG_L:g} mg/L above nadir",
    "marrow-plasma-cells": f"marrow plasma cells up ≥ {PD_MARROW_PLASMA_CELL_RISE_POINTS:g} percentage points",
}
# Serum criterion when the nadir was high (docs/clinical-model.md#progression-criteria).
SERUM_HIGH_NADIR_TEXT = (
    f"serum M-protein ≥ {PD_SERUM_ABSOLUTE_RISE_HIGH_NADIR_G_L:g} g/L above a nadir "
    f"≥ {PD_SERUM_HIGH_NADIR_G_L:g} g/L"
)
# Which charted series a criterion is read on (relapse.markers uses the same names).
CRITERION_SERIES = {"serum-m-protein": "serumMProtein", "dflc": "dFlc", "urine-m-protein": "urineMProtein"}

CRAB_SERIES = (("calcium", "Calcium"), ("creatinine", "Creatinine"), ("haemoglobin", "Haemoglobin"))


def _point(when: date, value: float, comparator: str | None) -> dict:
    return {"date": when.isoformat(), "value": round(value, 3), "comparator": comparator}


def marker_series(record: PatientRecord) -> list[dict]:
    """Serum M-protein, involved FLC and dFLC, one point per day (markers.daily_points)."""
    out = []
    serum = daily_points(record.series("serum_m_protein"))
    if serum:
        out.append({
            "key": "serumMProtein", "label": "Serum M-protein", "unit": ANALYTE_UNITS["serum_m_protein"],
            "axis": "mprotein", "points": [_point(p.when, p.value, p.comparator) for p in serum],
        })
    chain = involved_chain(record)
    flc = flc_points(record, chain)
    if flc:
        other = "lambda" if chain == "kappa" else "kappa"
        out.append({
            "key": "involvedFlc", "label": f"Involved FLC ({chain})", "unit": ANALYTE_UNITS[f"{chain}_flc"],
            "axis": "flc", "chain": chain,
            "points": [_point(f.when, f.involved.value, f.involved.comparator) for f in flc],
        })
        dflc = [f for f in flc if f.dflc is not None]
        if dflc:
            out.append({
                "key": "dFlc", "label": f"dFLC ({chain} − {other})", "unit": ANALYTE_UNITS[f"{chain}_flc"],
                "axis": "flc", "points": [_point(f.when, f.dflc.value, None) for f in dflc],
            })
    return out


def crab_series(record: PatientRecord) -> list[dict]:
    return [
        {"key": key, "label": label, "unit": ANALYTE_UNITS[key],
         "points": [_point(r.when, r.value, r.comparator) for r in record.series(key)]}
        for key, label in CRAB_SERIES
        if record.series(key)
    ]


def therapy_rows(lines) -> list[dict]:
    """One swimlane row per (line, drug), its courses as periods, in line then start order."""
    rows: list[dict] = []
    for line in lines:
        by_drug: dict[str, dict] = {}
        for c in sorted(line.courses, key=lambda c: (c.start, c.drug)):
            row = by_drug.get(c.drug)
            if row is None:
                row = by_drug[c.drug] = {"drug": c.drug, "class": drug_class(c.drug), "line": line.number,
                                         "periods": []}
                rows.append(row)
            row["periods"].append({
                "start": c.start.isoformat(),
                "end": None if c.active else c.end.isoformat(),
                "active": c.active,
            })
    return rows


def _value_on(series: list[dict], key: str | None, day: str | None) -> float | None:
    for s in series:
        if s["key"] == key:
            for p in s["points"]:
                if p["date"] == day:
                    return p["value"]
    return None


def events(assessment: dict, series: list[dict], record: PatientRecord) -> list[dict]:
    """Nadir and relapse from the assessment (never recomputed), plus transplants."""
    relapse = assessment.get("relapse") or {}
    markers = relapse.get("markers") or {}
    charted = {s["key"]: s for s in series}
    criteria = relapse.get("criteria") or []
    nadir_keys = [CRITERION_SERIES[c] for c in criteria if CRITERION_SERIES.get(c) in charted]
    if not nadir_keys:
        nadir_keys = [k for k in ("serumMProtein", "involvedFlc", "dFlc") if k in charted and k in markers][:1]
    out: list[dict] = []
    for key in nadir_keys:
        m = markers.get(key) or {}
        if m.get("nadirDate") is None:
            continue
        label = charted[key]["label"]
        out.append({
            "kind": "nadir", "series": key, "date": m["nadirDate"], "value": m.get("nadir"),
            "unit": m.get("unit"), "short": f"Nadir {m.get('nadir'):g} {m.get('unit')}",
            "label": f"Nadir {m['nadirDate']}: {label} {m.get('nadir'):g} {m.get('unit')}",
        })
    if relapse.get("date"):
        day = relapse["date"]
        key = next((CRITERION_SERIES[c] for c in criteria if CRITERION_SERIES.get(c) in charted), None)
        value = _value_on(series, key, day)
        serum_nadir = (markers.get("serumMProtein") or {}).get("nadir")
        texts = [
            SERUM_HIGH_NADIR_TEXT if c == "serum-m-protein" and serum_nadir is not None
            and serum_nadir >= PD_SERUM_HIGH_NADIR_G_L else CRITERION_TEXT.get(c, c)
            for c in criteria
        ]
        status = relapse.get("status", "")
        shown = f": {charted[key]['label']} {value:g} {charted[key]['unit']}" if key and value is not None else ""
        out.append({
            "kind": "relapse", "series": key, "date": day, "value": value, "criteria": criteria,
            "criteriaText": texts, "status": status,
            "short": f"Relapse ({status})" + (f" {value:g} {charted[key]['unit']}" if key and value is not None else ""),
            "label": f"Relapse ({status}) {day}{shown}; criterion: {'; '.join(texts)}",
        })
    for t in record.transplants:
        out.append({"kind": "transplant", "series": None, "date": t.when.isoformat(), "value": None,
                    "short": "ASCT" if t.kind == "autologous" else "SCT",
                    "label": f"{'Autologous' if t.kind == 'autologous' else 'Stem-cell'} transplant {t.when.isoformat()}"})
    out.sort(key=lambda e: e["date"])
    return out


RESPONSE_TEXT = {"CR": "complete response", "VGPR": "very good partial response", "PR": "partial response",
                 "MR": "minimal response", "SD": "stable disease", "not-evaluable": "not evaluable"}


def response_bands(assessment: dict, as_of: date) -> list[dict]:
    """One band per line: from its best response's date to the line's progression, else its end,
    else the as-of date (the assessment's `lines`, never recomputed)."""
    out = []
    for ln in assessment.get("lines") or []:
        best = ln.get("bestResponse")
        start = ln.get("bestResponseDate")
        end = ln.get("progressionDate") or ln.get("end") or as_of.isoformat()
        months = ln.get("durationMonths")
        short = f"L{ln['number']} {best}" + (f" · {months:g} mo" if months is not None else "")
        label = (f"Line {ln['number']} ({ln['start']} – {ln.get('end') or 'now'}): best response "
                 f"{RESPONSE_TEXT.get(best, best)}"
                 + (f" from {start}, lasting {months:g} months" if start and months is not None else "")
                 + (f"; progression {ln['progressionDate']}" if ln.get("progressionDate") else "")
                 + (f"; treats the relapse of {ln['treats']}" if ln.get("treats") else ""))
        out.append({"line": ln["number"], "bestResponse": best, "start": start, "end": end if start else None,
                    "durationMonths": months, "progressed": ln.get("progressed"), "treats": ln.get("treats"),
                    "lineStart": ln.get("start"), "lineEnd": ln.get("end"), "short": short, "label": label})
    return out


def data_age(assessment: dict, as_of: date) -> dict:
    """How old the latest marker result is (docs/clinical-model.md s10), with the sentence to show."""
    latest = (assessment.get("relapse") or {}).get("latestMarkerDate")
    freshness = assessment.get("dataFreshness") or "none"
    if not latest:
        return {"latestMarkerDate": None, "freshness": freshness, "days": None, "months": None,
                "text": "No paraprotein or light-chain result on record"}
    days = (as_of - date.fromisoformat(latest)).days
    months = age_in_months(date.fromisoformat(latest), as_of)
    ago = f"{days} day{'' if days == 1 else 's'}" if months < 1 else f"{months} month{'' if months == 1 else 's'}"
    text = f"Based on results up to {latest}, {ago} ago"
    if freshness == "stale":
        text += ": repeat SPEP and FLC before deciding; treatment advice is provisional"
    return {"latestMarkerDate": latest, "freshness": freshness, "days": days, "months": months, "text": text}


def patient_summary(resources: list[dict]) -> dict:
    """Name, birth date and gender for the header (the clinician must see whose chart it is)."""
    p = next((r for r in resources if r.get("resourceType") == "Patient"), {})
    name = ""
    for n in p.get("name") or []:
        if isinstance(n, dict):
            name = n.get("text") or " ".join([*(n.get("given") or []), n.get("family") or ""]).strip()
            if name:
                break
    return {"id": p.get("id"), "name": name or None, "birthDate": p.get("birthDate"), "gender": p.get("gender")}


def build_timeline(resources: list[dict], record: PatientRecord, assessment: dict, lines, as_of: date) -> dict:
    series = marker_series(record)
    return {
        "asOf": as_of.isoformat(),
        "patient": patient_summary(resources),
        "series": series,
        "crab": crab_series(record),
        "therapy": therapy_rows(lines),
        "events": events(assessment, series, record),
        "responses": response_bands(assessment, as_of),
        "dataAge": data_age(assessment, as_of),
        "assessment": assessment,
        "dataGaps": list(assessment.get("dataGaps") or []),
    }
