"""Section 5: lines of therapy from drug exposures."""
from __future__ import annotations

from datetime import timedelta

import pytest

from myeloma_model import assess
from myeloma_model.lines import build_lines, courses
from myeloma_model.thresholds import LINE_GROUPING_DAYS, TRANSPLANT_MELPHALAN_WINDOW_DAYS
from tests.model.builders import day, drug, labs, record, regimen, transplant

AS_OF = day(3000)


def lines_of(rec, progression=None):
    return build_lines(rec.exposures, rec.transplants, AS_OF, lambda start: progression(start) if progression else None)


def test_drugs_started_within_30_days_form_one_line():
    r = record()
    drug(r, "bortezomib", 0, 100)
    drug(r, "lenalidomide", LINE_GROUPING_DAYS, 100)
    lines = lines_of(r)
    assert len(lines) == 1 and lines[0].drugs == ["bortezomib", "lenalidomide"]


def test_new_non_steroid_drug_more_than_30_days_later_starts_a_new_line():
    r = record()
    drug(r, "bortezomib", 0, 100)
    drug(r, "lenalidomide", LINE_GROUPING_DAYS + 1, 100)
    lines = lines_of(r)
    assert [ln.drugs for ln in lines] == [["bortezomib"], ["lenalidomide"]]
    assert lines[0].end == day(LINE_GROUPING_DAYS)


def test_maintenance_with_a_drug_of_the_line_and_transplant_stay_in_the_line():
    r = record()
    regimen(r, ["lenalidomide", "bortezomib", "dexamethasone"], 0, 120)
    transplant(r, 180)
    drug(r, "melphalan", 180 - TRANSPLANT_MELPHALAN_WINDOW_DAYS, 180 - TRANSPLANT_MELPHALAN_WINDOW_DAYS)
    drug(r, "lenalidomide", 270, 270 + 730)
    lines = lines_of(r)
    assert len(lines) == 1
    assert lines[0].transplant and "melphalan" in lines[0].drugs


def test_melphalan_far_from_a_transplant_is_an_ordinary_drug():
    r = record()
    regimen(r, ["lenalidomide", "bortezomib"], 0, 120)
    transplant(r, 180)
    drug(r, "melphalan", 180 - TRANSPLANT_MELPHALAN_WINDOW_DAYS - 1, 150)
    assert len(lines_of(r)) == 2


def test_a_steroid_never_opens_a_line():
    r = record()
    drug(r, "lenalidomide", 0, 100)
    drug(r, "dexamethasone", 200, 230)
    lines = lines_of(r)
    assert len(lines) == 1 and "dexamethasone" in lines[0].drugs


def test_a_drug_started_after_a_progression_starts_a_new_line_even_within_30_days():
    r = record()
    drug(r, "lenalidomide", 0, 300)
    drug(r, "lenalidomide", 200, 400)  # overlapping refill: same course
    drug(r, "daratumumab", 20, 300)
    assert len(lines_of(r, lambda s: day(10) if s == day(0) else None)) == 2
    assert len(lines_of(r)) == 1


def test_restarting_a_drug_of_the_line_after_a_progression_is_a_new_line():
    r = record()
    drug(r, "lenalidomide", 0, 100)
    drug(r, "lenalidomide", 400, 500)
    assert len(lines_of(r)) == 1
    assert len(lines_of(r, lambda s: day(300) if s == day(0) else None)) == 2


def test_refills_closer_than_30_days_are_one_course():
    r = record()
    for m in range(12):
        drug(r, "lenalidomide", 28 * m, None, source="MedicationRequest")
    cs = courses(r.exposures, AS_OF)
    assert len(cs) == 1 and cs[0].end == day(28 * 11)


def test_prior_lines_counts_lines_and_progression_splits_use_the_markers():
    r = record()
    regimen(r, ["bortezomib", "lenalidomide", "dexamethasone"], 0, 120)
    drug(r, "lenalidomide", 200, 900)
    labs(r, "serum_m_protein", (-5, 30), (150, 2), (800, 9), (860, 12))
    regimen(r, ["daratumumab", "carfilzomib", "dexamethasone"], 905, None, active=True)
    a = assess(r, day(1000))
    assert a["priorLines"] == 2
    assert [ln["drugs"] for ln in a["details"]["lines"]] == [
        ["bortezomib", "lenalidomide", "dexamethasone"], ["carfilzomib", "daratumumab", "dexamethasone"]]


def test_line_start_shifts_for_undated_end():
    r = record()
    drug(r, "lenalidomide", 0, None, active=True)
    cs = courses(r.exposures, AS_OF)
    assert cs[0].end == AS_OF and cs[0].active
    assert cs[0].end - cs[0].start == timedelta(days=3000)


@pytest.mark.parametrize("after,same_line", [(180, True), (181, False)])
def test_consolidation_within_180_days_after_the_autograft_stays_in_the_line(after, same_line):
    # v2 s5: a new drug started without progression within 180 days after the line's
    # autologous transplant belongs to that line (consolidation / maintenance).
    r = record()
    regimen(r, ["bortezomib", "lenalidomide", "dexamethasone"], 0, 100)
    transplant(r, 120)
    drug(r, "daratumumab", 120 + after, 120 + after + 60)
    a = assess(r, day(120 + after + 90))
    assert (len(a["lines"]) == 1) is same_line
    assert a["lines"][0]["transplant"] is True
