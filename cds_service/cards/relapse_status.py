"""The relapse verdict in words: status, the values and dates behind it, and the cards for the
situations with no treatment decision yet (a suspected rise; stable disease when the
`CDS_STABLE_DISEASE_CARD` setting asks for a card).

The relapse card proper (verdict + timing + strategy + options) is assembled in treatment.py
from `verdict_summary` and `verdict_lines`.
"""
from __future__ import annotations

from datetime import timedelta

from cds_service.cards.common import ADVISORY, IMWG_2016, make_card, md_list
from cds_service.cards.investigations import order_set_suggestion
from cds_service.cards.words import clinical_text, day, drug_names, num, parse, plural
from myeloma_model.thresholds import (
    CRAB_HAEMOGLOBIN_FALL_G_L,
    PD_MARROW_PLASMA_CELL_RISE_POINTS,
    PD_RELATIVE_RISE,
    PD_URINE_ABSOLUTE_RISE_MG_24H,
    SUSPECTED_REPEAT_WITHIN_DAYS,
)

STATUS_NAME = {"clinical": "Clinical relapse", "biochemical": "Biochemical relapse",
               "suspected": "Possible progression", "none": "No progression", "unknown": "Relapse status unknown"}
CRITERION_LABELS = {
    "serum-m-protein": f"serum M-protein rise (>= {PD_RELATIVE_RISE:.0%} above the nadir and by the absolute amount)",
    "urine-m-protein": f"urine M-protein rise (>= {PD_RELATIVE_RISE:.0%} above the nadir and by "
                       f">= {PD_URINE_ABSOLUTE_RISE_MG_24H:g} mg/24h)",
    "dflc": "rise of the difference between involved and uninvolved free light chains (dFLC)",
    "marrow-plasma-cells": f"bone-marrow plasma cells up by >= {PD_MARROW_PLASMA_CELL_RISE_POINTS:g} percentage points",
}
CRAB_LABELS = {
    "hypercalcaemia": "hypercalcaemia",
    "anaemia": f"anaemia (haemoglobin fall of {CRAB_HAEMOGLOBIN_FALL_G_L:g} g/L or more)",
    "renal": "renal impairment (creatinine rise)",
    "bone-lesion": "new bone lesion, plasmacytoma or extramedullary disease",
}
MARKER_LABELS = {
    "serumMProtein": "Serum M-protein",
    "urineMProtein": "Urine M-protein",
    "involvedFlc": "Involved free light chain",
    "dFlc": "dFLC (involved minus uninvolved)",
    "marrowPlasmaCells": "Marrow plasma cells",
}
# The marker each criterion is read on: the verdict shows it first.
CRITERION_MARKER = {"serum-m-protein": "serumMProtein", "urine-m-protein": "urineMProtein",
                    "dflc": "dFlc", "marrow-plasma-cells": "marrowPlasmaCells"}


def _relapse(assessment: dict) -> dict:
    return assessment.get("relapse") or {}


def marker_line(key: str, m: dict) -> str:
    """"Serum M-protein 2 g/L at the nadir (13 Jun 2022) -> 7.3 g/L (9 Jun 2025)"."""
    label = MARKER_LABELS.get(key, key)
    if m.get("chain"):
        label += f" ({m['chain']})"
    unit = m.get("unit", "")
    latest = f"{num(m.get('latest'), unit)} ({day(m.get('latestDate'))})"
    if m.get("nadir") is None:
        return f"{label} {latest}"
    return f"{label} {num(m.get('nadir'), unit)} at the nadir ({day(m.get('nadirDate'))}) -> {latest}"


def marker_lines(relapse: dict, limit: int = 2) -> list[str]:
    """The marker the criterion fired on first, then the involved light chain."""
    markers = {k: v for k, v in (relapse.get("markers") or {}).items() if isinstance(v, dict) and k in MARKER_LABELS}
    order = [CRITERION_MARKER[c] for c in relapse.get("criteria") or [] if c in CRITERION_MARKER]
    order += [k for k in ("serumMProtein", "involvedFlc", "urineMProtein", "dFlc") if k not in order]
    return [marker_line(k, markers[k]) for k in order if k in markers][:limit]


def verdict_summary(assessment: dict) -> str:
    """"Biochemical relapse since 28 Apr 2025"."""
    relapse = _relapse(assessment)
    name = STATUS_NAME.get(relapse.get("status"), "Relapse status unknown")
    return f"{name} since {day(relapse['date'])}" if relapse.get("date") else name


def verdict_lines(assessment: dict) -> list[str]:
    """Criteria with values and dates; CRAB features with their date; SPR."""
    relapse = _relapse(assessment)
    status = relapse.get("status")
    lines = []
    criteria = [CRITERION_LABELS.get(c, "progression criterion met") for c in relapse.get("criteria") or []]
    if relapse.get("date"):
        lines.append(f"IMWG progression first met on {day(relapse['date'])}: {'; '.join(criteria) or 'criterion met'}"
                     + (", confirmed on the next result." if status in ("clinical", "biochemical") else "."))
    lines += marker_lines(relapse)
    crab = relapse.get("crabFeatures") or []
    if crab:
        since = f" since {day(relapse['crabDate'])}" if relapse.get("crabDate") else ""
        lines.append("Clinical features" + since + ": " + "; ".join(CRAB_LABELS.get(c, "clinical feature") for c in crab) + ".")
    elif status == "biochemical":
        lines.append("No new CRAB feature (calcium, renal function, haemoglobin, bone lesions).")
    if relapse.get("significantParaproteinRelapse"):
        lines.append("Significant paraprotein relapse criteria are met.")
    fresh = freshness_line(assessment)
    if fresh:
        lines.append(fresh)
    return lines


RESPONSE_NAME = {"CR": "complete response (CR)", "VGPR": "very good partial response (VGPR)",
                 "PR": "partial response (PR)", "MR": "minimal response (MR)", "SD": "stable disease (SD)",
                 "not-evaluable": "not yet evaluable"}


def freshness_line(assessment: dict) -> str | None:
    """Section 10: an aging record is named with the date of its latest marker result."""
    latest = parse((assessment.get("relapse") or {}).get("latestMarkerDate"))
    as_of = parse(assessment.get("asOf"))
    if assessment.get("dataFreshness") != "aging" or not latest or not as_of:
        return None
    n = round((as_of - latest).days / 30.44)
    return f"Based on results up to {day(latest)} ({plural(n, 'month')} ago)."


def on_treatment_line(assessment: dict) -> str | None:
    """A running line that treats an earlier relapse: what it is and how it is going."""
    lines = assessment.get("lines") or []
    running = lines[-1] if lines and isinstance(lines[-1], dict) and not lines[-1].get("end") else None
    if not running or not running.get("treats"):
        return None
    response = RESPONSE_NAME.get(running.get("bestResponse"), "not yet evaluable")
    return (f"On treatment for the relapse of {day(running['treats'])}: {drug_names(running.get('drugs') or [])} "
            f"since {day(running.get('start'))}, response so far {response}.")


def data_note(assessment: dict, limit: int = 3) -> str | None:
    """The data the verdict could not use (free text from the mapping), shortened."""
    gaps = assessment.get("dataGaps") or []
    if not gaps:
        return None
    return "**Not used from the record:**\n" + md_list(list(dict.fromkeys(clinical_text(g) for g in gaps)), limit=limit)


def repeat_markers_suggestion(assessment: dict, config=None) -> dict:
    """One draft order set: SPEP and serum free light chains (kappa and lambda), to be done
    within the repeat interval."""
    as_of = parse(assessment.get("asOf"))
    period = None
    if as_of:
        period = {"start": as_of.isoformat(),
                  "end": (as_of + timedelta(days=SUSPECTED_REPEAT_WITHIN_DAYS)).isoformat()}
    reason = "Confirm or exclude myeloma progression (IMWG: two consecutive results)"
    return order_set_suggestion(assessment, ["spep", "sflc"], label="Repeat SPEP and free light chains (draft orders)",
                                reasons={"spep": reason, "sflc": reason}, occurrence=period, config=config)


def suspected_card(assessment: dict, *, config=None, stale: bool = False, provisional: list[str] | None = None) -> dict:
    """The one card for a rise seen on the latest result only (or for data too old to judge)."""
    relapse = _relapse(assessment)
    weeks = SUSPECTED_REPEAT_WITHIN_DAYS // 7
    latest = relapse.get("latestMarkerDate")
    if stale:
        summary = f"Latest SPEP/FLC is from {day(latest)}: repeat SPEP and FLC within {weeks} weeks before deciding"
        lead = (f"The latest myeloma marker result is from {day(latest)}: too old to decide on treatment. "
                f"Repeat SPEP and serum free light chains within {weeks} weeks.")
    else:
        when = f" ({day(relapse['date'])})" if relapse.get("date") else ""
        summary = f"Possible progression on the latest result{when}: repeat SPEP and FLC within {weeks} weeks to confirm"
        lead = (f"An IMWG progression criterion holds on the latest result only. IMWG needs two consecutive results: "
                f"repeat SPEP and serum free light chains within {weeks} weeks (suggested interval; the criteria "
                "set none), then reassess. No treatment advice until then.")
    parts = [lead, md_list(marker_lines(relapse))]
    if provisional:
        parts.append("Provisional options if progression is confirmed: " + ", ".join(provisional) + ".")
    parts += [data_note(assessment), "Source: IMWG consensus criteria (Kumar et al., Lancet Oncol 2016).", ADVISORY]
    return make_card(
        summary=summary, indicator="info", topic="relapse-status", source=IMWG_2016,
        detail="\n\n".join(p for p in parts if p),
        suggestions=[repeat_markers_suggestion(assessment, config)],
        override_reason_codes=("already-addressed", "clinical-judgement", "data-incomplete"), config=config,
    )


def stable_card(assessment: dict, *, config=None) -> dict:
    """Stable disease (only when the setting asks for it): the latest values, no advice."""
    relapse = _relapse(assessment)
    lines = marker_lines(relapse)
    status = relapse.get("status")
    treating = on_treatment_line(assessment)
    if treating:
        summary = treating.split(":")[0] + ": no progression so far"
    elif status == "unknown":
        summary = "Relapse status cannot be judged: too few paraprotein or light-chain results"
    else:
        latest = relapse.get("latestMarkerDate") or next(
            (m.get("latestDate") for m in (relapse.get("markers") or {}).values() if isinstance(m, dict)), None)
        summary = "No myeloma progression by IMWG criteria" + (f" (latest result {day(latest)})" if latest else "")
    parts = [on_treatment_line(assessment), md_list(lines + [freshness_line(assessment)]), data_note(assessment),
             "Source: IMWG consensus criteria (Kumar et al., Lancet Oncol 2016).", ADVISORY]
    return make_card(summary=summary, indicator="info", topic="relapse-status", source=IMWG_2016,
                     detail="\n\n".join(p for p in parts if p), config=config)


def prior_lines_text(n) -> str:
    return plural(int(n or 0), "prior line") + " of therapy"
