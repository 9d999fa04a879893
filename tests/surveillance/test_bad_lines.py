"""Bad NDJSON lines are reported (file and line number) and skipped: no crash, no lost patient."""
from __future__ import annotations

import csv
import json
import shutil

from cds_service.cli import main

from .conftest import AS_OF, N_PATIENTS


def _rows(out) -> dict[str, dict]:
    with (out / "worklist.csv").open(newline="") as fh:
        return {r["patientId"]: r for r in csv.DictReader(fh)}


def _insert(path, lines_by_number: dict[int, bytes]) -> None:
    """Insert raw lines so that they end up at the given 1-based line numbers."""
    lines = path.read_bytes().splitlines(keepends=True)
    for number in sorted(lines_by_number):
        lines.insert(number - 1, lines_by_number[number])
    path.write_bytes(b"".join(lines))


def test_bad_lines_reported_by_file_and_line_and_skipped(small_export, tmp_path):
    export = tmp_path / "export"
    shutil.copytree(small_export, export)
    obs = export / "Observation.ndjson"
    n_obs_lines = len(obs.read_bytes().splitlines())
    # A truncated Observation of a known patient deep in the file (a later partition: the
    # partition size below is small), plain garbage, invalid UTF-8, an array, a blank line.
    deep = n_obs_lines - 5
    _insert(obs, {
        3: b'{"resourceType":"Observation","id":"x1","subject":{"reference":"Patient/p000002"},"valueQ\n',
        10: b"this is not json\n",
        11: b'{"resourceType":"Observation","code":{"text":"\xff\xfe"}}\n',
        12: b"\n",
        deep: b'[1, 2, 3]\n',
    })
    # The Patient line of p000005 is broken: its other resources must still make a row.
    patient_file = export / "Patient.ndjson"
    plines = patient_file.read_bytes().splitlines(keepends=True)
    idx = next(i for i, line in enumerate(plines) if b'"id":"p000005"' in line)
    plines[idx] = plines[idx][:60] + b"\n"
    patient_file.write_bytes(b"".join(plines))

    out = tmp_path / "out"
    rc = main(["surveil", str(export), "--as-of", AS_OF.isoformat(), "--out", str(out),
               "--partition-size", "32KiB", "--quiet"])
    assert rc == 0

    summary = json.loads((out / "summary.json").read_text())
    bad = {(b["file"], b["line"]): b for b in summary["badLines"]}
    assert set(bad) == {("Observation.ndjson", 3), ("Observation.ndjson", 10), ("Observation.ndjson", 11),
                        ("Observation.ndjson", deep), ("Patient.ndjson", idx + 1)}
    assert bad[("Observation.ndjson", 3)]["patientId"] == "p000002"
    assert bad[("Observation.ndjson", 10)]["patientId"] is None
    assert "UTF-8" in bad[("Observation.ndjson", 11)]["reason"]
    assert "resourceType" in bad[("Observation.ndjson", deep)]["reason"]
    assert bad[("Patient.ndjson", idx + 1)]["patientId"] == "p000005"
    assert summary["unreadableLines"] == 5 and summary["unreadableLinesWithoutPatient"] == 3
    assert summary["files"]["Observation.ndjson"]["blank"] == 1

    rows = _rows(out)
    assert len(rows) == N_PATIENTS  # no patient lost
    assert rows["p000002"]["unreadableLines"] == "1"
    assert rows["p000005"]["unreadableLines"] == "1"
    assert rows["p000001"]["unreadableLines"] == "0"
    report = (out / "report.html").read_text()
    assert "3 export line(s) could not be read and could not be tied to a patient" in report
    assert "Observation.ndjson" in report


def test_a_patient_with_an_unreadable_line_carries_a_data_gap():
    """The row's assessment says its record is incomplete (never judged as if whole)."""
    from cds_service.surveillance.run import assess_group

    patient = json.dumps({"resourceType": "Patient", "id": "p1", "birthDate": "1950-01-01"})
    row = assess_group(("p1", [("r", "p1", patient), ("b", "p1", "not JSON")]), as_of=AS_OF, medications={})
    assert row["unreadableLines"] == "1"
    assert row["dataGaps"] == "1"
    orphan = json.dumps({"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p2"},
                         "code": {"text": "Hypertension"}})
    row = assess_group(("p2", [("r", "p2", orphan)]), as_of=AS_OF, medications={})
    assert row["patientId"] == "p2" and row["dataGaps"] == "1"  # no Patient resource in the export


def test_invalid_patient_ids_are_refused_not_written(tmp_path):
    """A reference whose id is not a FHIR id (could inject into CSV or a URL) is a bad line."""
    export = tmp_path / "export"
    export.mkdir()
    (export / "Patient.ndjson").write_text(
        json.dumps({"resourceType": "Patient", "id": "ok-1"}) + "\n"
        + json.dumps({"resourceType": "Patient", "id": "=HYPERLINK(\"x\")"}) + "\n")
    out = tmp_path / "out"
    assert main(["surveil", str(export), "--as-of", AS_OF.isoformat(), "--out", str(out), "--quiet"]) == 0
    assert list(_rows(out)) == ["ok-1"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["badLines"] == [{"file": "Patient.ndjson", "line": 2, "patientId": None,
                                    "reason": "the patient id is not a valid FHIR id"}]
