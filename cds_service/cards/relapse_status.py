"""The relapse verdict in words: status, the values and dates behind it (CRAB values with units
and both dates), the course (the relapse a running line treats, the response so far), how old
the results are, and the cards for the situations with no treatment decision yet (a suspected
rise or results too old to decide on; stable disease when the `CDS_STABLE_DISEASE_CARD`
setting asks for a card).

The relapse card proper (verdict + timing + strategy + options) is assembled in treatment.py
from `verdict_summary` and `verdict_lines`.
"""
from __future__ import annotations

from datetime import timedelta

from cds_service.cards.common import ADVISORY, IMWG_2016, make_card, md_list
from cds_service.cards.contract_words import gap_text
from cds_service.cards.investigations import order_set_suggestion
from cds_service.cards.words import clinical_text, day, drug_names, num, plural
from myeloma_model.contract import (
    Anaemia,
    Assessment,
    BoneLesion,
    Hypercalcaemia,
    LineCourse,
    Marker,
    Relapse,
    RenalRise,
)
from myeloma_model.freshness import age_in_months
from myeloma_model.guidance.regimens import REGIMENS
from myeloma_model.thresholds import (
    CRAB_CALCIUM_MMOL_L,
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


def marker_line(key: str, m: Marker) -> str:
    """"Serum M-protein 2 g/L at the nadir (13 Jun 2022) -> 7.3 g/L (9 Jun 2025)"."""
    label = MARKER_LABELS.get(key, key)
    chain = getattr(m, "chain", None)
    if chain:
        label += f" ({chain})"
    unit = m.unit or ""
    latest = f"{num(m.latest, unit)} ({day(m.latest_date)})"
    if m.nadir is None:
        return f"{label} {latest}"
    return f"{label} {num(m.nadir, unit)} at the nadir ({day(m.nadir_date)}) -> {latest}"


def marker_lines(relapse: Relapse, limit: int = 2) -> list[str]:
    """The marker the criterion fired on first, then the involved light chain."""
    markers = {k: v for k, v in relapse.markers.items() if k in MARKER_LABELS}
    order = [CRITERION_MARKER[c] for c in relapse.criteria if c in CRITERION_MARKER]
    order += [k for k in ("serumMProtein", "involvedFlc", "urineMProtein", "dFlc") if k not in order]
    return [marker_line(k, markers[k]) for k in order if k in markers][:limit]


def verdict_summary(assessment: Assessment) -> str:
    """"Biochemical relapse since 28 Apr 2025"."""
    relapse = assessment.relapse
    name = STATUS_NAME.get(relapse.status, "Relapse status unknown")
    return f"{name} since {day(relapse.date)}" if relapse.date else name


def verdict_lines(assessment: Assessment) -> list[str]:
    """Criteria with values and dates; CRAB features with their date; SPR."""
    relapse = assessment.relapse
    status = relapse.status
    lines = []
    criteria = [CRITERION_LABELS.get(c, "progression criterion met") for c in relapse.criteria]
    if relapse.date:
        lines.append(f"IMWG progression first met on {day(relapse.date)}: {'; '.join(criteria) or 'criterion met'}"
                     + (", confirmed on the next result." if status in ("clinical", "biochemical") else "."))
    lines += marker_lines(relapse)
    crab = relapse.crab_features
    if crab:
        since = f" since {day(relapse.crab_date)}" if relapse.crab_date else ""
        lines.append("Clinical features" + since + ": " + "; ".join(CRAB_LABELS.get(c, "clinical feature") for c in crab) + ".")
        lines += crab_values(relapse)
    elif status == "biochemical":
        lines.append("No new CRAB feature (calcium, renal function, haemoglobin, bone lesions).")
    if relapse.significant_paraprotein_relapse:
        lines.append("Significant paraprotein relapse criteria are met.")
    return lines


def crab_values(relapse: Relapse) -> list[str]:
    """The values behind a clinical relapse, each with its unit and date."""
    out = []
    for v in (relapse.crab_values or {}).values():
        if isinstance(v, Hypercalcaemia):
            out.append(f"Calcium {num(v.value, v.unit)} on {day(v.date)} (above {CRAB_CALCIUM_MMOL_L:g} mmol/L)")
        elif isinstance(v, Anaemia):
            out.append(f"Haemoglobin fell by {num(v.fall, v.unit)}, from {num(v.best)} to "
                       f"{num(v.value, v.unit)} on {day(v.date)}")
        elif isinstance(v, RenalRise):
            out.append(f"Creatinine rose by {num(v.rise, v.unit)}, from {num(v.baseline)} to "
                       f"{num(v.value, v.unit)} on {day(v.date)}")
        elif isinstance(v, BoneLesion):
            kind = {"plasmacytoma": "Plasmacytoma", "extramedullary-disease": "Extramedullary disease"}.get(
                v.kind, "New bone lesion")
            out.append(f"{kind} recorded on {day(v.date)}")
    return out


RESPONSE_NAME = {"CR": "complete response (CR)", "VGPR": "very good partial response (VGPR)",
                 "PR": "partial response (PR)", "MR": "minimal response (MR)", "SD": "stable disease (SD)",
                 "not-evaluable": "not yet evaluable"}


def months_old(assessment: Assessment) -> int | None:
    """Whole months between the latest marker result and the as-of date."""
    latest = assessment.relapse.latest_marker_date
    if latest is None or assessment.as_of is None:
        return None
    return age_in_months(latest, assessment.as_of)


def freshness_line(assessment: Assessment) -> str | None:
    """Section 10: aging or stale results are named with the date of the latest marker result."""
    if assessment.data_freshness not in ("aging", "stale"):
        return None
    n = months_old(assessment)
    latest = assessment.relapse.latest_marker_date
    if n is None or not latest:
        return None
    return f"Based on results up to {day(latest)}, {plural(n, 'month')} ago."


def regimen_name(drugs: tuple[str, ...] | list[str]) -> str:
    """The regimen whose drugs are exactly the line's ("DRd"), else the drug names."""
    wanted = set(drugs)
    for code, r in REGIMENS.items():
        if set(r.drugs) == wanted:
            return code
    return drug_names(drugs)


def treated_relapse(assessment: Assessment) -> LineCourse | None:
    """The running line when it treats a relapse and has not progressed."""
    if not assessment.lines:
        return None
    line = assessment.lines[-1]
    if line.end is None and line.treats and not line.progressed:
        return line
    return None


def on_treatment_summary(line: LineCourse) -> str:
    """"On treatment for the relapse of 28 Apr 2025: DRd since 12 May 2025, response so far PR"."""
    best = line.best_response
    so_far = "not yet evaluable" if best in (None, "not-evaluable") else best
    return (f"On treatment for the relapse of {day(line.treats)}: {regimen_name(line.drugs)} "
            f"since {day(line.start)}, response so far {so_far}")


def on_treatment_line(assessment: Assessment) -> str | None:
    """The running line that treats an earlier relapse: what it is and how it is going."""
    line = treated_relapse(assessment)
    if line is None:
        return None
    drugs = line.drugs
    name = regimen_name(drugs)
    given = f"{name} ({drug_names(drugs)})" if name in REGIMENS else name
    response = RESPONSE_NAME.get(line.best_response, "not yet evaluable")
    return (f"On treatment for the relapse of {day(line.treats)}: {given} since {day(line.start)}, "
            f"response so far {response}. No progression on this line so far; the status is judged on its own "
            "results, from its baseline.")


def course_lines(assessment: Assessment, limit: int = 3) -> list[str]:
    """The most recent lines, one each: treatment, dates, best response and how long it lasted."""
    out = []
    for ln in assessment.lines[-limit:]:
        name = regimen_name(ln.drugs) + (" with autologous transplant" if ln.transplant else "")
        if ln.end:
            period = f"{day(ln.start)} to {day(ln.end)}"
        else:
            period = f"from {day(ln.start)}" if ln.progressed else f"{day(ln.start)} to now"
        best = ln.best_response
        text = f"Line {ln.number}: {name}, {period}"
        if best and best != "not-evaluable":
            text += f"; best response {best}"
            if ln.duration_months is not None:
                text += f" lasting {plural(round(float(ln.duration_months), 1), 'month')}"
        elif best == "not-evaluable":
            text += "; response not evaluable"
        if ln.progression_date:
            text += f"; progressed {day(ln.progression_date)}"
        out.append(text + ".")
    return out


def data_note(assessment: Assessment, limit: int = 3) -> str | None:
    """The data the verdict could not use (free text from the mapping), shortened."""
    gaps = assessment.data_gaps
    if not gaps:
        return None
    return "**Not used from the record:**\n" + md_list(list(dict.fromkeys(clinical_text(gap_text(g)) for g in gaps)),
                                                     limit=limit)


def repeat_markers_suggestion(assessment: Assessment, config=None) -> dict:
    """One draft order set: SPEP and serum free light chains (kappa and lambda), to be done
    within the repeat interval."""
    as_of = assessment.as_of
    period = None
    if as_of:
        period = {"start": as_of.isoformat(),
                  "end": (as_of + timedelta(days=SUSPECTED_REPEAT_WITHIN_DAYS)).isoformat()}
    reason = "Confirm or exclude myeloma progression (IMWG: two consecutive results)"
    return order_set_suggestion(assessment.patient_id, ["spep", "sflc"], label="Repeat SPEP and free light chains (draft orders)",
                                reasons={"spep": reason, "sflc": reason}, occurrence=period, config=config)


def suspected_card(assessment: Assessment, *, config=None, stale: bool = False,
                   provisional: str | None = None) -> dict:
    """The one card for a rise seen on the latest result only, or for results too old to decide on
    (then the verdict they gave and the options worked out from it are named as provisional)."""
    relapse = assessment.relapse
    weeks = SUSPECTED_REPEAT_WITHIN_DAYS // 7
    latest = relapse.latest_marker_date
    parts: list[str | None] = []
    if stale:
        n = months_old(assessment)
        age = f"Results are {plural(n, 'month')} old ({day(latest)})" if n is not None else \
            f"Latest SPEP/FLC is from {day(latest)}"
        summary = f"{age}: repeat SPEP and FLC within {weeks} weeks before deciding"
        parts.append(f"**Repeat SPEP and FLC before deciding: the latest myeloma marker result is from {day(latest)}"
                     + (f", {plural(n, 'month')} ago" if n is not None else "")
                     + f".** Too old to decide on treatment: repeat SPEP and serum free light chains within {weeks} "
                     "weeks, then reassess.")
        if relapse.status in ("clinical", "biochemical", "suspected"):
            parts.append(f"On those results: {verdict_summary(assessment)} (IMWG).\n"
                         + md_list(verdict_lines(assessment)))
        else:
            parts.append(md_list(marker_lines(relapse)))
        parts.append(on_treatment_line(assessment))
    else:
        when = f" ({day(relapse.date)})" if relapse.date else ""
        summary = f"Possible progression on the latest result{when}: repeat SPEP and FLC within {weeks} weeks to confirm"
        parts.append(f"An IMWG progression criterion holds on the latest result only. IMWG needs two consecutive "
                     f"results: repeat SPEP and serum free light chains within {weeks} weeks (suggested interval; the "
                     "criteria set none), then reassess. No treatment advice until then.")
        parts.append(md_list(marker_lines(relapse) + [freshness_line(assessment)]))
    if provisional:
        parts.append(f"**Provisional**, until new results confirm the relapse: {provisional}.")
    parts += [data_note(assessment), "Source: IMWG consensus criteria (Kumar et al., Lancet Oncol 2016).", ADVISORY]
    return make_card(
        summary=summary, indicator="info", topic="relapse-status", source=IMWG_2016,
        detail="\n\n".join(p for p in parts if p),
        suggestions=[repeat_markers_suggestion(assessment, config)],
        override_reason_codes=("already-addressed", "clinical-judgement", "data-incomplete"), config=config,
    )


def with_age(summary: str, assessment: Assessment) -> str:
    """The summary led by the data age when the results are aging, if it still fits."""
    fresh = freshness_line(assessment)
    if not fresh:
        return summary
    aged = f"{fresh.rstrip('.')}: {summary}"
    return aged if len(aged) < 140 else summary


def stable_card(assessment: Assessment, *, config=None) -> dict:
    """Stable disease (only when the setting asks for it): the latest values, no advice."""
    relapse = assessment.relapse
    lines = marker_lines(relapse)
    status = relapse.status
    treating = treated_relapse(assessment)
    if treating:
        summary = on_treatment_summary(treating)
    elif status == "unknown":
        summary = "Relapse status cannot be judged: too few paraprotein or light-chain results"
    else:
        latest = relapse.latest_marker_date or next((m.latest_date for m in relapse.markers.values()), None)
        summary = "No myeloma progression by IMWG criteria" + (f" (latest result {day(latest)})" if latest else "")
    parts = [on_treatment_line(assessment), md_list(lines + [freshness_line(assessment)]),
             ("**Course:**\n" + md_list(course_lines(assessment))) if assessment.lines else None,
             data_note(assessment), "Source: IMWG consensus criteria (Kumar et al., Lancet Oncol 2016).", ADVISORY]
    return make_card(summary=with_age(summary, assessment), indicator="info", topic="relapse-status",
                     source=IMWG_2016, detail="\n\n".join(p for p in parts if p), config=config)


def prior_lines_text(n) -> str:
    return plural(int(n or 0), "prior line") + " of therapy"
