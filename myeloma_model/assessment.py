"""The assessment of docs/assessment-contract.md, composed from the rule families.

`evaluate(record, as_of)` builds the typed `Assessment` (myeloma_model/contract.py);
`assess(record, as_of)` is its JSON form (`contract.to_json`). Both see only data dated on or
before `as_of` (reproducible "as of"): relapse -> drugs/refractoriness -> risk -> fitness, then
`myeloma_model.guidance.advise` for timing, strategy, regimens, investigations and safety. Cost is linear in the number of
results: every series is sorted once and scanned a bounded number of times per line.

Non-contract field `details` (allowed: "fields may be added") carries what guidance and cards
need beyond the contract: the lines of therapy, dated progression events, whether the current
relapse happened on therapy, and the b2m value at the start of the current line. Each `drugs`
entry also carries `firstStart` and `lastDose` (YYYY-MM-DD).
"""
from __future__ import annotations

import bisect
from dataclasses import replace
from datetime import date

from myeloma_model import guidance
from myeloma_model.contract import (
    Assessment,
    DatedValue,
    Details,
    DrugEntry,
    LineCourse,
    ProgressionEvent,
    Relapse,
    Risk,
    TherapyLine,
    data_gap,
    to_json,
)
from myeloma_model.drug_classes import drug_class
from myeloma_model.fitness import fitness
from myeloma_model.freshness import data_freshness, latest_marker_date, stale_active_exposures
from myeloma_model.markers import MarkerBook
from myeloma_model.records import PatientRecord
from myeloma_model.refractoriness import drugs_summary, on_therapy, refractory_category, triple_class_exposed
from myeloma_model.relapse import PROGRESSION_STATUSES, analyse_relapse
from myeloma_model.response import line_courses
from myeloma_model.risk import b2m_at_line_start, b2m_trend, high_risk_cytogenetics, high_risk_relapse_features, staging
from myeloma_model.thresholds import STALE_ACTIVE_MEDICATION_DAYS


def as_of_view(record: PatientRecord, as_of: date) -> PatientRecord:
    """The record limited to data on or before `as_of` (labs sorted once if they were not)."""
    labs = {}
    for key, series in record.labs.items():
        dates = [r.when for r in series]
        if dates != sorted(dates):  # O(n) on sorted input; fhir_mappings already sorts
            series = sorted(series, key=lambda r: r.when)
        labs[key] = series[: bisect.bisect_right(series, as_of, key=lambda r: r.when)]
    return replace(
        record,
        labs=labs,
        exposures=[e for e in record.exposures if (e.start or e.end) is None or (e.start or e.end) <= as_of],
        conditions=[c for c in record.conditions if c.onset is None or c.onset <= as_of],
        cytogenetics=[c for c in record.cytogenetics if c.when is None or c.when <= as_of],
        ecog=[e for e in record.ecog if e.when <= as_of],
        transplants=[t for t in record.transplants if t.when <= as_of],
        investigations=[i for i in record.investigations if i.when is None or i.when <= as_of],
        immunofixation=[i for i in record.immunofixation if i.when <= as_of],
        data_gaps=list(record.data_gaps),
    )


def out_of_scope(record: PatientRecord, as_of: date) -> Assessment:
    """Every section empty or unknown: the hook returns no cards."""
    return Assessment(patient_id=record.patient_id, as_of=as_of, in_scope=False, relapse=Relapse(status="unknown"),
                      data_gaps=tuple(record.data_gaps))


def _course(view: PatientRecord, book: MarkerBook, rel, as_of: date,
            gaps: list) -> tuple[tuple[LineCourse, ...], date | None, str]:
    """(contract `lines`, latestMarkerDate, dataFreshness), appending their data gaps: the
    response rules' (s3a, codes `cr-not-confirmed-no-immunofixation`, `cr-without-marrow-assessment`
    with the line) and stale medication evidence (s10, `stale-active-medication`)."""
    lines, codes = line_courses(rel, book, view.immunofixation, as_of)
    for number, code in codes:
        gaps.append(data_gap(code, line=number))
    for drug, seen in stale_active_exposures(view.exposures, as_of):
        gaps.append(data_gap("stale-active-medication", drug=drug, lastSeen=seen, days=STALE_ACTIVE_MEDICATION_DAYS))
    latest = latest_marker_date(book)
    return tuple(lines), latest, data_freshness(latest, as_of)


def assess(record: PatientRecord, as_of: date) -> dict:
    """The assessment object of docs/assessment-contract.md (JSON-ready) for one patient, its
    sentence fields as codes (`contract.CODE_WORDS`); the service's JSON is worded at its edge."""
    return to_json(evaluate(record, as_of))


def evaluate(record: PatientRecord, as_of: date) -> Assessment:
    """The typed assessment (myeloma_model/contract.py) for one patient as of a date.

    Steps, in this order (each may add data gaps, in the order the contract lists them): the
    relapse analysis, the drugs, the risk inputs, the course of each line, then the guidance."""
    if not record.in_scope:
        return out_of_scope(record, as_of)
    view = as_of_view(record, as_of)
    gaps = view.data_gaps

    book = MarkerBook(view)
    rel = analyse_relapse(view, as_of, book)
    cur = rel.current
    line = rel.current_line
    line_start = line.start if line else None

    drugs = _drugs(view, rel, as_of, gaps)
    relapsing = cur.status in PROGRESSION_STATUSES or cur.status == "suspected"
    on_tx = on_therapy(view.exposures, cur.date, as_of) if relapsing and cur.date else None
    cyto = high_risk_cytogenetics(view)
    iss, riss = staging(view, gaps)
    trend = b2m_trend(book, line_start)
    b2m_base = b2m_at_line_start(book, line_start)
    lines, latest_marker, freshness = _course(view, book, rel, as_of, gaps)

    assessment = Assessment(
        patient_id=record.patient_id,
        as_of=as_of,
        in_scope=True,
        relapse=_relapse_section(rel, latest_marker),
        lines=lines,
        data_freshness=freshness,
        drugs=drugs,
        prior_lines=len(rel.lines),
        refractory_category=refractory_category(drugs),
        triple_class_exposed=triple_class_exposed(drugs),
        risk=Risk(
            high_risk_cytogenetics=tuple(cyto),
            iss=iss,
            riss=riss,
            b2m_trend=trend,
            high_risk_relapse_features=tuple(high_risk_relapse_features(
                view, line_start=line_start, relapsing=relapsing, relapse_on_therapy=bool(on_tx),
                first_progression=rel.first_progression, cytogenetics=cyto, trend=trend,
            )),
        ),
        fitness=fitness(view, as_of),
        data_gaps=tuple(gaps),
        details=_details_section(rel, on_tx, b2m_base),
    )
    advice = guidance.advise(assessment, view, as_of)
    return replace(assessment, timing=advice.timing, strategy=advice.strategy, regimens=advice.regimens,
                   not_offered=advice.not_offered, missing_investigations=advice.missing_investigations,
                   safety=advice.safety, guidance=advice.guidance)


def _drugs(view, rel, as_of: date, gaps: list) -> dict[str, DrugEntry]:
    """Per-drug exposure summary; drugs the model cannot class or date are data gaps."""
    progressions = [e.date for e in rel.events]
    drugs = drugs_summary(view.exposures, progressions, as_of, rel.current.date)
    for e in view.exposures:
        if drug_class(e.drug) is None:
            gaps.append(data_gap("drug-not-classed", drug=e.drug))
    for name, info in drugs.items():
        if info.months_on_drug is None:
            gaps.append(data_gap("exposure-undated", drug=name))
    return drugs


def _relapse_section(rel, latest_marker: date | None) -> Relapse:
    """The contract's `relapse` object from the current relapse status."""
    cur = rel.current
    return Relapse(
        status=cur.status,
        significant_paraprotein_relapse=cur.spr,
        date=cur.date,
        crab_date=cur.crab_date,
        latest_marker_date=latest_marker,
        criteria=tuple(cur.criteria),
        crab_features=tuple(cur.crab),
        markers=rel.markers,
        crab_values=dict(cur.crab_evidence),
    )


def _details_section(rel, on_tx, b2m_base) -> Details:
    """The non-contract `details`: lines, progression events, and the values behind the risk."""
    line = rel.current_line
    return Details(
        lines=tuple(TherapyLine(ln.number, ln.start, ln.end, tuple(ln.drugs), ln.transplant) for ln in rel.lines),
        current_line=line.number if line else None,
        progression_events=tuple(ProgressionEvent(e.date, e.status, e.line) for e in rel.events),
        first_progression=rel.first_progression,
        on_therapy_at_relapse=on_tx,
        b2m_at_line_start=DatedValue(b2m_base.value, b2m_base.when) if b2m_base else None,
    )
