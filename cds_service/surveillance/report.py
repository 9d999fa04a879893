"""The HTML report for the service lead: counts, then the worklist by urgency, then what could
not be read. Every value is HTML-escaped (patient ids and file names come from the export);
each patient links to the relapse timeline app (SMART launch URL with `iss`, `patient` and
`asOf`). Self-contained: no script, no external style sheet.
"""
from __future__ import annotations

from collections import Counter
from html import escape
from urllib.parse import urlencode

from cds_service.surveillance.worklist import NOT_ACTIONABLE, URGENCY

URGENCY_LABELS = {
    "clinical-relapse": "Clinical relapse",
    "biochemical-relapse": "Biochemical relapse",
    "suspected-relapse": "Suspected relapse",
    "stale-data": "Stale data",
    "triple-class-exposed": "Triple-class exposed",
}
STATUS_LABELS = {
    "clinical": "Clinical relapse", "biochemical": "Biochemical relapse", "suspected": "Suspected relapse",
    "none": "No relapse", "unknown": "Unknown",
}
TIMING_LABELS = {"treat-now": "Treat now", "confirm": "Confirm first", "none": "No change"}
STRATEGY_LABELS = {
    "retreat-same-class": "Retreat with the same drug class", "switch-class": "Switch drug class",
    "novel-mechanism": "Drug with a new mechanism", "none": "",
}
REFRACTORY_LABELS = {
    "none": "Not refractory", "single": "Single-drug", "double": "Double", "triple-class": "Triple-class",
    "penta": "Penta",
}
FRESHNESS_LABELS = {"fresh": "Recent", "aging": "Ageing", "stale": "Stale", "none": "No marker results", "": "Not stated"}
MAX_BAD_LINES_SHOWN = 500

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1a1a1a}
table{border-collapse:collapse;margin:0.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:0.25rem 0.5rem;text-align:left;vertical-align:top}
th{background:#f0f0f0}
.warn{background:#fff3cd;border:1px solid #e0b000;padding:0.5rem 0.75rem;margin:0.5rem 0}
.num{text-align:right}
"""


def _e(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def timeline_link(app_url: str | None, fhir_base: str | None, patient_id: str, as_of: str) -> str | None:
    if not app_url or not fhir_base:
        return None
    sep = "&" if "?" in app_url else "?"
    return app_url + sep + urlencode({"iss": fhir_base, "patient": patient_id, "asOf": as_of})


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(rows_cells) + "</tr>" for rows_cells in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _td(value, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{_e(value)}</td>"


def render_report(result, *, as_of: str, source: str, app_url: str | None, fhir_base: str | None,
                  server_errors: int = 0) -> str:
    """The service lead's HTML page: warnings first, then counts, the worklist, what was read."""
    rows = result.rows
    in_scope = [r for r in rows if r["inScope"] == "true"]
    failed = [r for r in rows if r["error"]]
    actionable = [r for r in rows if 0 <= r["rank"] < NOT_ACTIONABLE]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Relapse surveillance as of {_e(as_of)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Relapse surveillance as of {_e(as_of)}</h1>",
        f"<p>Source: {_e(source)}. {len(rows)} patients assessed, {len(in_scope)} with myeloma, "
        f"<strong>{len(actionable)} to review</strong>.</p>",
        "<p>This list advises; it orders nothing. Each patient's assessment is the one the chart's "
        "decision support shows, as of the date above.</p>",
        *_warnings(result, failed, server_errors, links=bool(app_url and fhir_base)),
        *_counts(in_scope, actionable),
        "<h2>Worklist</h2>",
        _worklist(failed + actionable, as_of=as_of, app_url=app_url, fhir_base=fhir_base),
        *_files_read(result),
        f"<p>Run: {_e(result.scheduler)}, {result.partitions} partitions, "
        f"{result.elapsed_s:.1f} s.</p></body></html>",
    ]
    return "\n".join(parts)


def _warnings(result, failed: list[dict], server_errors: int, *, links: bool) -> list[str]:
    """What may make the list incomplete, said before the list."""
    out = []
    unattributed = [b for b in result.bad_lines if b.patient_id is None]
    if unattributed:
        out.append(f'<p class="warn"><strong>{len(unattributed)} export line(s) could not be read and could '
                   "not be tied to a patient</strong>: any patient's record may be incomplete. See "
                   '"Unreadable lines" below.</p>')
    attributed = len(result.bad_lines) - len(unattributed)
    if attributed:
        out.append(f'<p class="warn">{attributed} unreadable line(s) belong to known patients; their rows say '
                   "how many, and their assessments carry a data gap (record incomplete).</p>")
    if failed:
        out.append(f'<p class="warn"><strong>{len(failed)} patient(s) could not be assessed</strong>; they are '
                   "listed first.</p>")
    if server_errors:
        out.append(f'<p class="warn">The FHIR server reported {server_errors} error(s) while exporting; some '
                   "records may be missing from the export.</p>")
    if not links:
        out.append("<p>Timeline links need the app's launch URL (--app-url or CDS_APP_URL) and the FHIR "
                   "server the app reads (--fhir-base, or a URL SOURCE).</p>")
    return out


def _counts(in_scope: list[dict], actionable: list[dict]) -> list[str]:
    """Patients by relapse status, and those to review by urgency."""
    status_counts = Counter(r["status"] for r in in_scope)
    urgency_counts = Counter(r["urgency"] for r in actionable)
    tce = sum(1 for r in in_scope if r["tripleClassExposed"] == "true")
    return [
        "<h2>Patients with myeloma by relapse status</h2>",
        _table(["Relapse status", "Patients"], [
            [_td(STATUS_LABELS.get(s, s)), _td(status_counts.get(s, 0), "num")]
            for s in ("clinical", "biochemical", "suspected", "none", "unknown")
            if s in status_counts or s != "unknown"]),
        "<h2>To review, by urgency</h2>",
        _table(["Reason", "Patients"], [
            [_td(URGENCY_LABELS[u]), _td(urgency_counts.get(u, 0), "num")] for u in URGENCY]),
        f"<p>Each patient is counted once, under the first reason that applies. "
        f"Triple-class exposed in all, whatever the relapse status: {tce}.</p>",
    ]


def _worklist(rows: list[dict], *, as_of: str, app_url: str | None, fhir_base: str | None) -> str:
    """One row per patient to review (those that could not be assessed first)."""
    table_rows = []
    for r in rows:
        link = timeline_link(app_url, fhir_base, r["patientId"], as_of)
        patient = (f'<a href="{_e(link)}">{_e(r["patientId"])}</a>' if link else _e(r["patientId"]))
        notes = []
        if r["error"]:
            notes.append(r["error"])
        if r["unreadableLines"] not in ("", "0"):
            notes.append(f"{r['unreadableLines']} unreadable line(s): record incomplete")
        if r["dataGaps"] not in ("", "0"):
            notes.append(f"{r['dataGaps']} data gap(s)")
        table_rows.append([
            _td(URGENCY_LABELS.get(r["urgency"], "Not assessed")), f"<td>{patient}</td>",
            _td(STATUS_LABELS.get(r["status"], r["status"])), _td(TIMING_LABELS.get(r["timing"], r["timing"])),
            _td(STRATEGY_LABELS.get(r["strategy"], r["strategy"])),
            _td(REFRACTORY_LABELS.get(r["refractoryCategory"], r["refractoryCategory"])),
            _td({"true": "Yes", "false": "No"}.get(r["tripleClassExposed"], "")),
            _td(FRESHNESS_LABELS.get(r["dataFreshness"], r["dataFreshness"])), _td(r["relapseDate"]),
            _td("; ".join(notes)),
        ])
    return _table(["Reason", "Patient", "Relapse status", "Timing", "Strategy", "Refractory",
                   "Triple-class exposed", "Data freshness", "Relapse date", "Notes"], table_rows)


def _files_read(result) -> list[str]:
    """The lines that could not be read, and every file with its counts."""
    out = ["<h2>Unreadable lines</h2>"]
    if result.bad_lines:
        shown = result.bad_lines[:MAX_BAD_LINES_SHOWN]
        out.append(_table(["File", "Line", "Problem", "Patient"], [
            [_td(b.file), _td(b.line, "num"), _td(b.reason), _td(b.patient_id or "unknown")] for b in shown]))
        if len(result.bad_lines) > len(shown):
            out.append(f"<p>… and {len(result.bad_lines) - len(shown)} more (see summary.json).</p>")
    else:
        out.append("<p>None: every line of the export was read.</p>")
    out.append("<h2>Files read</h2>")
    out.append(_table(["File", "Lines", "Unreadable", "Not patient data"], [
        [_td(name), _td(c["lines"], "num"), _td(c["bad"], "num"), _td(c["notPatientData"], "num")]
        for name, c in sorted(result.files.items())]))
    return out


def describe_row(row: dict) -> str:
    """One sentence for a worklist Task: why the patient is on the list and what is advised."""
    parts = [URGENCY_LABELS.get(row["urgency"], "Review")]
    if row["relapseDate"]:
        parts[0] += f" (first met {row['relapseDate']})"
    timing = TIMING_LABELS.get(row["timing"])
    if timing and row["timing"] != "none":
        parts.append(timing.lower())
    strategy = STRATEGY_LABELS.get(row["strategy"])
    if strategy:
        parts.append(strategy.lower())
    if row["refractoryCategory"] not in ("", "none"):
        parts.append(f"refractory: {REFRACTORY_LABELS.get(row['refractoryCategory'], row['refractoryCategory']).lower()}")
    if row["dataFreshness"] == "stale":
        parts.append("latest marker results are old: repeat them before deciding")
    if row["unreadableLines"] not in ("", "0"):
        parts.append("record incomplete (unreadable export lines)")
    return "; ".join(parts) + ". Open the relapse timeline to review."
