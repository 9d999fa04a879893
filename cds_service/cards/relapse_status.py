"""The relapse-status card: the assessment's IMWG relapse status, the values behind it, the
course (response to each line, the relapse a running line treats) and how old the results are.

Indicator: critical for clinical relapse, warning for biochemical relapse, info otherwise
(suspected, none, unknown). Cites IMWG 2016 and the review.
"""
from __future__ import annotations

from datetime import date

from cds_service.cards.common import IMWG_2016, REVIEW_2025, make_card, md_list
from myeloma_model.guidance.regimens import REGIMENS
from myeloma_model.thresholds import (
    CRAB_CALCIUM_MMOL_L,
    DAYS_PER_MONTH,
    PD_MARROW_PLASMA_CELL_RISE_POINTS,
    PD_RELATIVE_RISE,
    PD_URINE_ABSOLUTE_RISE_MG_24H,
)

INDICATOR = {"clinical": "critical", "biochemical": "warning"}

CRITERION_LABELS = {
    "serum-m-protein": f"serum M-protein rise (>= {PD_RELATIVE_RISE:.0%} above nadir and by the absolute amount)",
    "urine-m-protein": f"urine M-protein rise (>= {PD_RELATIVE_RISE:.0%} above nadir and by >= {PD_URINE_ABSOLUTE_RISE_MG_24H:g} mg/24h)",
    "dflc": "involved-uninvolved free light chain difference (dFLC) rise",
    "marrow-plasma-cells": f"bone-marrow plasma cells up by >= {PD_MARROW_PLASMA_CELL_RISE_POINTS:g} percentage points",
}
CRAB_LABELS = {
    "hypercalcaemia": "hypercalcaemia",
    "anaemia": "anaemia (haemoglobin fall)",
    "renal": "renal impairment (creatinine rise)",
    "bone-lesion": "new bone lesion, plasmacytoma or extramedullary disease",
}
MARKER_LABELS = {
    "serumMProtein": "Serum M-protein",
    "urineMProtein": "Urine M-protein",
    "kappaFlc": "Free kappa",
    "lambdaFlc": "Free lambda",
    "involvedFlc": "Involved free light chain",
    "dFlc": "dFLC (involved minus uninvolved)",
    "flcRatio": "Kappa/lambda ratio",
    "marrowPlasmaCells": "Marrow plasma cells",
}


RESPONSE_LABELS = {
    "CR": "complete response (CR)",
    "VGPR": "very good partial response (VGPR)",
    "PR": "partial response (PR)",
    "MR": "minimal response (MR)",
    "SD": "stable disease (SD)",
    "not-evaluable": "not evaluable (no measurable disease at the start of the line)",
}


def _parse(s) -> date | None:
    try:
        return date.fromisoformat(str(s)[:10]) if s else None
    except ValueError:
        return None


def months_ago(assessment: dict) -> int | None:
    """Whole months between the latest marker result and the as-of date."""
    latest = _parse((assessment.get("relapse") or {}).get("latestMarkerDate"))
    as_of = _parse(assessment.get("asOf"))
    if latest is None or as_of is None:
        return None
    return int((as_of - latest).days / DAYS_PER_MONTH)


def freshness_text(assessment: dict) -> str | None:
    """"based on results up to 2025-06-09, 17 months ago" when the data are aging or stale."""
    if assessment.get("dataFreshness") not in ("aging", "stale"):
        return None
    n = months_ago(assessment)
    latest = (assessment.get("relapse") or {}).get("latestMarkerDate")
    unit = "month" if n == 1 else "months"
    return f"based on results up to {latest}, {n} {unit} ago"


def regimen_name(drugs: list[str]) -> str:
    """The regimen code whose drugs are exactly the line's (e.g. DRd), else the drug names."""
    wanted = set(drugs)
    for code, r in REGIMENS.items():
        if set(r.drugs) == wanted:
            return code
    return ", ".join(drugs)


def treated_relapse(assessment: dict) -> dict | None:
    """The running line when it treats a relapse and has not progressed (s3a)."""
    lines = assessment.get("lines") or []
    if not lines:
        return None
    line = lines[-1]
    if line.get("end") is None and line.get("treats") and not line.get("progressed"):
        return line
    return None


def course_text(line: dict) -> str:
    """"on treatment for the relapse of <date>: <regimen> since <date>, response so far <category>"."""
    best = line.get("bestResponse")
    so_far = "not evaluable" if best == "not-evaluable" else best
    return (f"on treatment for the relapse of {line['treats']}: {regimen_name(line.get('drugs') or [])} "
            f"since {line['start']}, response so far {so_far}")


def _summary(relapse: dict, assessment: dict | None = None) -> str:
    assessment = assessment or {}
    status = relapse.get("status", "unknown")
    since = f" since {relapse['date']}" if relapse.get("date") else ""
    treated = treated_relapse(assessment)
    if treated is not None and status in ("none", "unknown"):
        text = course_text(treated)
        return text[0].upper() + text[1:]
    if status == "clinical":
        crab = ", ".join(CRAB_LABELS.get(c, c).split(" (")[0] for c in relapse.get("crabFeatures", []))
        crab_since = f" (CRAB from {relapse['crabDate']})" if relapse.get("crabDate") else ""
        return f"Clinical relapse of myeloma (IMWG){since}: progression with {crab or 'clinical features'}{crab_since}"
    if status == "biochemical":
        spr = "; significant paraprotein relapse" if relapse.get("significantParaproteinRelapse") else ""
        return f"Biochemical relapse of myeloma (IMWG progression confirmed){since}{spr}"
    if status == "suspected":
        return "Possible myeloma progression on the latest result: repeat the marker to confirm"
    if status == "none":
        return "No myeloma progression by IMWG criteria on the available markers"
    return "Relapse status unknown: too few paraprotein or light-chain results to judge"


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def crab_values(relapse: dict) -> list[str]:
    """The CRAB values behind a clinical relapse, each with its unit and date."""
    out = []
    for code, v in (relapse.get("crabValues") or {}).items():
        if code == "hypercalcaemia":
            out.append(f"Calcium {_fmt(v.get('value'))} {v.get('unit')} on {v.get('date')} (> {CRAB_CALCIUM_MMOL_L:g} mmol/L)")
        elif code == "anaemia":
            out.append(f"Haemoglobin fell by {_fmt(v.get('fall'))} {v.get('unit')}, from {_fmt(v.get('best'))} to "
                       f"{_fmt(v.get('value'))} {v.get('unit')} on {v.get('date')}")
        elif code == "renal":
            out.append(f"Creatinine rose by {_fmt(v.get('rise'))} {v.get('unit')}, from {_fmt(v.get('baseline'))} to "
                       f"{_fmt(v.get('value'))} {v.get('unit')} on {v.get('date')}")
        elif code == "bone-lesion":
            kind = {"bone-lesion": "New bone lesion", "plasmacytoma": "Plasmacytoma",
                    "extramedullary-disease": "Extramedullary disease"}.get(v.get("kind"), "New lesion")
            out.append(f"{kind} recorded on {v.get('date')}")
    return out


def lines_table(lines: list[dict]) -> str:
    """One row per line: drugs, dates, best response, its date and duration, progression."""
    if not lines:
        return ""
    rows = ["| Line | Treatment | From – to | Best response | Duration | Progression |", "|---|---|---|---|---|---|"]
    for ln in lines:
        best = ln.get("bestResponse") or "–"
        if ln.get("bestResponseDate"):
            best += f" ({ln['bestResponseDate']})"
        months = f"{ln['durationMonths']:g} months" if ln.get("durationMonths") is not None else "–"
        prog = ln.get("progressionDate") or ("running" if ln.get("end") is None else "none")
        treats = f"; treats the relapse of {ln['treats']}" if ln.get("treats") else ""
        rows.append(f"| {ln.get('number')} | {regimen_name(ln.get('drugs') or [])}{' + ASCT' if ln.get('transplant') else ''}"
                    f"{treats} | {ln.get('start')} – {ln.get('end') or 'now'} | {best} | {months} | {prog} |")
    return "\n".join(rows)


def _marker_table(markers: dict) -> str:
    rows = ["| Marker | Nadir | Latest | Unit |", "|---|---|---|---|"]
    for key, m in markers.items():
        if not isinstance(m, dict):
            continue
        nadir = f"{_fmt(m.get('nadir'))} ({m['nadirDate']})" if m.get("nadirDate") else _fmt(m.get("nadir"))
        latest = f"{_fmt(m.get('latest'))} ({m['latestDate']})" if m.get("latestDate") else _fmt(m.get("latest"))
        label = MARKER_LABELS.get(key, key)
        if m.get("chain"):
            label += f" ({m['chain']})"
        rows.append(f"| {label} | {nadir} | {latest} | {m.get('unit', '')} |")
    return "\n".join(rows) if len(rows) > 2 else ""


def _detail(assessment: dict) -> str:
    relapse = assessment.get("relapse") or {}
    status = relapse.get("status", "unknown")
    parts = []
    fresh = freshness_text(assessment)
    if fresh:
        parts.append(f"**Data age: {fresh[0].upper() + fresh[1:]}.**")
    if assessment.get("dataFreshness") == "stale":
        parts.append(f"**Repeat SPEP and FLC before deciding: the latest result is {months_ago(assessment)} months old.**"
                     + _provisional(assessment))
    treated = treated_relapse(assessment)
    if treated is not None:
        text = course_text(treated)
        parts.append(f"**{text[0].upper() + text[1:]}.** No progression on this line so far; the status below "
                     "is judged on its own results, from its baseline.")
    parts.append(f"**Relapse status: {status}**" + (f" (first criterion met {relapse['date']})" if relapse.get("date") else ""))
    if status == "clinical":
        dates = f"Progression criterion first met {relapse.get('date') or 'unknown'}; CRAB feature first present {relapse.get('crabDate') or 'unknown'}."
        parts.append(dates)
        values = crab_values(relapse)
        if values:
            parts.append("**CRAB values:**\n" + md_list(values))
    criteria = relapse.get("criteria") or []
    if criteria:
        parts.append("**Progression criteria met:**\n" + md_list([CRITERION_LABELS.get(c, c) for c in criteria]))
    crab = relapse.get("crabFeatures") or []
    if crab:
        parts.append("**CRAB / clinical features:**\n" + md_list([CRAB_LABELS.get(c, c) for c in crab]))
    if relapse.get("significantParaproteinRelapse"):
        parts.append("Significant paraprotein relapse criteria are met.")
    table = _marker_table(relapse.get("markers") or {})
    if table:
        parts.append(table)
    course = lines_table(assessment.get("lines") or [])
    if course:
        parts.append("**Response to each line** (IMWG 2016; confirmed on two consecutive results):\n\n" + course)
    if status == "suspected":
        parts.append("A progression criterion holds on the latest result only; IMWG requires two consecutive results.")
    gaps = assessment.get("dataGaps") or []
    if gaps:
        parts.append("**Data not used:**\n" + md_list(gaps, limit=8))
    parts.append(f"Sources: IMWG consensus response criteria (Kumar et al., Lancet Oncol 2016); {REVIEW_2025}.")
    parts.append("_Advisory only: confirm against the patient's full record._")
    return "\n\n".join(parts)


def _provisional(assessment: dict) -> str:
    """The strategy and first regimens worked out on stale data, named as provisional."""
    strategy = assessment.get("strategy")
    regimens = [r["code"] for r in (assessment.get("regimens") or [])[:3]]
    if not strategy or strategy == "none":
        return ""
    label = {"retreat-same-class": "retreat within the same class", "switch-class": "switch drug class",
             "novel-mechanism": "a new mechanism"}.get(strategy, strategy)
    listed = f" ({', '.join(regimens)})" if regimens else ""
    return f" Provisional, until new results confirm the relapse: {label}{listed}."


def full_summary(assessment: dict) -> str:
    """The status summary, with the data age in it when the results are aging or stale."""
    relapse = assessment.get("relapse") or {}
    summary = _summary(relapse, assessment)
    fresh = freshness_text(assessment)
    if fresh:
        if assessment.get("dataFreshness") == "stale":
            return f"Results are {months_ago(assessment)} months old ({relapse.get('latestMarkerDate')}): {summary[0].lower() + summary[1:]}"
        return f"{fresh[0].upper() + fresh[1:]}: {summary}"
    return summary


def render(assessment: dict, *, config=None) -> list[dict]:
    relapse = assessment.get("relapse") or {}
    return [
        make_card(
            summary=full_summary(assessment),
            indicator=INDICATOR.get(relapse.get("status"), "info"),
            topic="relapse-status",
            source_label=IMWG_2016["label"],
            source_url=IMWG_2016["url"],
            detail=_detail(assessment),
        )
    ]
