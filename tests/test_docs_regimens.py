"""The regimen tables of docs/clinical-model.md are the regimen data (myeloma_model/guidance/regimens.py).

A pharmacist reviews the regimens in the docs; the cards quote the data. These tests parse the
docs tables and compare them with the data, so neither can drift from the other:
- "Regimens and the evidence the review gives": one row per piece of evidence, in the data's
  order (code, trial as the review names it or "the review, no trial named", figures exactly as
  in the data or "no figures given (...)");
- "7.1 Eligibility": prior lines, triple-class exposure and lenalidomide exposure per regimen;
- "Notes every option of a kind carries": which regimens carry each note;
- "Toxicity of T-cell redirecting therapy": trials and figures.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from myeloma_model.guidance.regimens import REGIMEN_CODES, REGIMENS, T_CELL_TOXICITY, regimen_notes

CLINICAL_MODEL = Path(__file__).resolve().parents[1] / "docs" / "clinical-model.md"
NO_TRIAL = "the review, no trial named"
NO_FIGURES = "no figures given"


def section(anchor: str) -> str:
    """The text from `<a id="anchor">` to the next anchor that opens a heading."""
    text = CLINICAL_MODEL.read_text(encoding="utf-8")
    start = text.index(f'<a id="{anchor}"></a>')
    nxt = re.search(r'^<a id="[\w-]+"></a>\s*\n#', text[start + 1:], flags=re.M)
    return text[start:start + 1 + nxt.start()] if nxt else text[start:]


def table_rows(text: str) -> list[list[str]]:
    """Cells of the body rows of the first markdown table in `text` (header and rule dropped)."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert len(rows) > 2, "no table found"
    return [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows[2:]]


def doc_evidence() -> list[tuple[str, str | None, str | None]]:
    out = []
    for code, trial, figures in table_rows(section("regimens")):
        out.append((code, None if trial == NO_TRIAL else trial,
                    None if figures.startswith(NO_FIGURES) else figures))
    return out


def data_evidence() -> list[tuple[str, str | None, str | None]]:
    return [(code, e.trial, e.figures) for code, r in REGIMENS.items() for e in r.evidence]


def test_the_evidence_table_lists_every_regimen_code_and_only_those():
    assert {code for code, _, _ in doc_evidence()} == set(REGIMEN_CODES) == set(REGIMENS)


def test_the_evidence_table_is_the_regimen_data_row_for_row():
    """Codes, trials and figures, in order: a figure moved to another trial fails here."""
    assert doc_evidence() == data_evidence()


@pytest.mark.parametrize("code", REGIMEN_CODES)
def test_each_regimen_has_its_own_trials_and_figures_in_the_docs(code):
    doc = [(t, f) for c, t, f in doc_evidence() if c == code]
    assert doc == [(e.trial, e.figures) for e in REGIMENS[code].evidence]


def test_trials_the_review_does_not_name_in_its_text_are_not_in_the_table():
    """The review names MagnetisMM-3 only among its references and MM-003, LINKER-MM1 and
    MonumenTAL-1 nowhere; its 76% ORR of Rd is POLLUX's comparator arm, not MM-009/MM-010."""
    trials = {t for _, t, _ in doc_evidence() if t}
    assert not trials & {"MagnetisMM-3", "MM-003", "LINKER-MM1", "MonumenTAL-1"}
    rd = [(t, f) for c, t, f in doc_evidence() if c == "Rd"]
    assert ("POLLUX", "ORR 76% (Rd, the comparator arm)") in rd
    assert all(f is None for t, f in rd if t and "MM-009" in t)


def _lines(cell: str) -> tuple[int | None, int | None]:
    if not cell:
        return None, None
    if m := re.fullmatch(r">= (\d+)", cell):
        return int(m.group(1)), None
    m = re.fullmatch(r"(\d+)-(\d+)", cell)
    assert m, f"unreadable prior-lines cell {cell!r}"
    return int(m.group(1)), int(m.group(2))


def test_the_eligibility_table_is_the_eligibility_data():
    rows = {row[0]: row for row in table_rows(section("eligibility"))}
    with_conditions = {code for code, r in REGIMENS.items()
                       if (r.eligibility.min_prior_lines, r.eligibility.max_prior_lines,
                           r.eligibility.triple_class_exposed, r.eligibility.lenalidomide_exposed)
                       != (None, None, False, False)}
    assert set(rows) == with_conditions
    for code, (_, lines, tce, len_exposed, _words) in rows.items():
        el = REGIMENS[code].eligibility
        assert _lines(lines) == (el.min_prior_lines, el.max_prior_lines), code
        assert (tce == "yes") == el.triple_class_exposed, code
        assert (len_exposed == "yes") == el.lenalidomide_exposed, code


def test_the_notes_table_names_the_regimens_that_carry_each_note():
    rows = {note.strip("`"): carried for note, carried, _ in table_rows(section("regimen-notes"))}
    carriers = {note: [c for c in REGIMEN_CODES if note in regimen_notes(REGIMENS[c])] for note in rows}
    assert set(rows) == {n for r in REGIMENS.values() for n in regimen_notes(r)}
    assert carriers["approval-withdrawn"] == ["BVd", "BPd"] and rows["approval-withdrawn"] == "BVd, BPd"
    assert carriers["thromboprophylaxis"] == [c for c in REGIMEN_CODES if REGIMENS[c].has_class("IMiD")]
    assert carriers["t-cell-toxicity"] == [c for c in REGIMEN_CODES if REGIMENS[c].t_cell_redirecting]


def test_the_toxicity_table_is_the_toxicity_data():
    doc = [(None if t == NO_TRIAL else t, f) for t, f in table_rows(section("t-cell-toxicity"))]
    assert doc == [(e.trial, e.figures) for e in T_CELL_TOXICITY]
