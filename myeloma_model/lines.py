"""Lines of therapy from drug exposures (docs/clinical-model.md#lines-of-therapy).

- Exposures of one drug separated by <= 30 days are one course (monthly refills of
  lenalidomide are one course, not many starts).
- Courses of anti-myeloma drugs started within 30 days of the line's start form one line.
- A later course of a drug already in the line (maintenance) stays in the line.
- Melphalan started within 30 days of an autologous transplant (high-dose melphalan) belongs
  to the line in progress; so does the transplant itself.
- A new line starts when a non-steroid drug course starts after a progression (a criterion
  holding on any measurement since the line's start), or when a drug new to the line starts
  more than 30 days after the line began, except consolidation and maintenance: a drug new to
  the line started within 180 days after the line's autologous transplant, with no progression
  in between, stays in the line (IMWG counts induction, transplant, consolidation and
  maintenance as one line).
- Courses end at the last dose (time on a drug counts to it); the 28-day extension of a drug
  known only from administrations applies to whether it was "on" at a date
  (`refractoriness.running_on`, for activeAtRelapse), not to the course.
- Corticosteroids never open a line; they are attached to the line in progress when they
  start (or to the first line when they precede it by <= 30 days).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable

from myeloma_model.drug_classes import is_steroid
from myeloma_model.records import DrugExposure, Transplant
from myeloma_model.thresholds import (
    CONSOLIDATION_AFTER_TRANSPLANT_DAYS,
    LINE_GROUPING_DAYS,
    TRANSPLANT_MELPHALAN_WINDOW_DAYS,
)


@dataclass(frozen=True, slots=True)
class Course:
    """Contiguous exposure of one drug: [start, end] with end already resolved (as-of if active)."""

    drug: str
    start: date
    end: date
    active: bool


@dataclass(slots=True)
class Line:
    number: int
    start: date
    drugs: list[str] = field(default_factory=list)  # in order of first start, steroids included
    courses: list[Course] = field(default_factory=list)
    transplant: bool = False
    end: date | None = None  # the day before the next line starts; None for the current line


def exposure_end(e: DrugExposure, as_of: date) -> date | None:
    """Last day of an exposure: its end; as-of when open and active; its start when open and
    not active (only the start is known). Clipped to as-of."""
    if e.end is not None:
        end = e.end
    elif e.active:
        end = as_of
    else:
        end = e.start
    if end is None:
        return None
    return min(end, as_of)


def courses(exposures: list[DrugExposure], as_of: date) -> list[Course]:
    """Merge each drug's exposures into courses (gaps <= 30 days join), sorted by start."""
    by_drug: dict[str, list[tuple[date, date, bool]]] = {}
    for e in exposures:
        start = e.start or e.end
        if start is None or start > as_of:
            continue
        end = exposure_end(e, as_of) or start
        by_drug.setdefault(e.drug, []).append((start, max(start, end), e.active and e.end is None))
    out: list[Course] = []
    gap = timedelta(days=LINE_GROUPING_DAYS)
    for drug, periods in by_drug.items():
        periods.sort()
        cur_s, cur_e, cur_a = periods[0]
        for s, e, a in periods[1:]:
            if s <= cur_e + gap:
                cur_e, cur_a = max(cur_e, e), cur_a or a
            else:
                out.append(Course(drug, cur_s, cur_e, cur_a))
                cur_s, cur_e, cur_a = s, e, a
        out.append(Course(drug, cur_s, cur_e, cur_a))
    out.sort(key=lambda c: (c.start, c.drug))
    return out


def _near_transplant(d: date, transplants: list[Transplant]) -> bool:
    window = timedelta(days=TRANSPLANT_MELPHALAN_WINDOW_DAYS)
    return any(t.kind != "allogeneic" and abs(t.when - d) <= window for t in transplants)


def _consolidation(line: Line, start: date, transplants: list[Transplant]) -> bool:
    """`start` falls within 180 days after an autologous transplant of `line` (on or after
    the line's start); the caller has already ruled out a progression before `start`."""
    window = timedelta(days=CONSOLIDATION_AFTER_TRANSPLANT_DAYS)
    return any(
        t.kind != "allogeneic" and line.start <= t.when <= start and start - t.when <= window
        for t in transplants
    )


def build_lines(
    exposures: list[DrugExposure],
    transplants: list[Transplant],
    as_of: date,
    first_progression_since: Callable[[date], date | None],
) -> list[Line]:
    """Group drug courses into numbered lines of therapy (see module docstring).

    `first_progression_since(start)` returns the first measurement on or after `start` on which
    a progression criterion held (nadir since `start`), or None; it is called once per line.
    """
    all_courses = courses(exposures, as_of)
    lines: list[Line] = []
    progression: date | None = None
    grouping = timedelta(days=LINE_GROUPING_DAYS)

    def open_line(c: Course) -> None:
        nonlocal progression
        if lines:
            lines[-1].end = c.start - timedelta(days=1)
        lines.append(Line(len(lines) + 1, c.start, [c.drug], [c]))
        progression = first_progression_since(c.start)

    def attach(line: Line, c: Course) -> None:
        line.courses.append(c)
        if c.drug not in line.drugs:
            line.drugs.append(c.drug)

    steroids: list[Course] = []
    for c in all_courses:
        if is_steroid(c.drug):
            steroids.append(c)
            continue
        if not lines:
            open_line(c)
            continue
        line = lines[-1]
        if c.drug == "melphalan" and _near_transplant(c.start, transplants):
            attach(line, c)
        elif progression is not None and c.start > progression:
            open_line(c)
        elif c.drug in line.drugs or c.start - line.start <= grouping or _consolidation(line, c.start, transplants):
            attach(line, c)
        else:
            open_line(c)
    for s in steroids:
        target = None
        for line in lines:
            if line.start - grouping <= s.start:
                target = line
        if target is not None:
            attach(target, s)
    for t in transplants:
        for line in reversed(lines):
            if line.start <= t.when and t.kind != "allogeneic":
                line.transplant = True
                break
    return lines

