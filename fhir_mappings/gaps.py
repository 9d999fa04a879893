"""Data-gap notes: what could not be used and why, for the assessment's `dataGaps`.

Each note names the resource (e.g. "Observation/123") and the problem. A heavy patient with
thousands of results in an unknown unit would drown the list, so each kind of problem keeps
its first few notes and then one summary line with the count of the rest.
"""
from __future__ import annotations

MAX_NOTES_PER_KIND = 5
# A note quotes what the client sent (an id, a unit, a drug name); a longer note is cut here, so
# a hostile 100 kB string never reaches the assessment, the cards or their text rules.
MAX_NOTE_CHARS = 300


class GapLog:
    __slots__ = ("notes", "_counts", "_kinds")

    def __init__(self) -> None:
        self.notes: list[str] = []
        self._counts: dict[str, int] = {}
        self._kinds: dict[str, str] = {}

    def add(self, kind: str, message: str) -> None:
        if len(message) > MAX_NOTE_CHARS:
            message = message[:MAX_NOTE_CHARS - 1] + "…"
        n = self._counts.get(kind, 0) + 1
        self._counts[kind] = n
        if n <= MAX_NOTES_PER_KIND:
            if message not in self.notes:
                self.notes.append(message)
            self._kinds.setdefault(kind, message)

    def result(self) -> list[str]:
        out = list(self.notes)
        for kind, n in self._counts.items():
            if n > MAX_NOTES_PER_KIND:
                out.append(f"... and {n - MAX_NOTES_PER_KIND} more like: {self._kinds[kind]}")
        return out


# Structurally broken resources (a string where an object belongs, ...) raise one of these
# deep in the readers; the resource is then reported and skipped, never a 500.
MALFORMED = (AttributeError, TypeError, ValueError, KeyError, IndexError, OverflowError)


def note_malformed(gaps, res: dict) -> None:
    """The data gap for a resource a reader could not read (see MALFORMED)."""
    rid = res.get("id")
    ref = f"{res.get('resourceType')}/{rid}" if isinstance(rid, str) else str(res.get("resourceType"))
    gaps.add(f"malformed:{res.get('resourceType')}", f"{ref} is malformed (not valid FHIR R4); not used")


class DeferredGaps:
    """Gap notes kept in order and added to the record's GapLog later (`replay`): the
    Observations read while the prefetch step sorts them (resource_set.py) report their gaps
    where the record builder would have, after the Patient's. Bounded like a GapLog: past the
    first MAX_NOTES_PER_KIND notes of a kind, which a GapLog would only count, only a count is
    kept, so `replay` gives exactly what adding every note would have given."""

    __slots__ = ("calls", "_counts")

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self._counts: dict[str, int] = {}

    def add(self, kind: str, message: str) -> None:
        n = self._counts.get(kind, 0) + 1
        self._counts[kind] = n
        if n <= MAX_NOTES_PER_KIND:
            self.calls.append((kind, message))

    def replay(self, into: GapLog) -> None:
        for kind, message in self.calls:
            into.add(kind, message)
        for kind, n in self._counts.items():
            if n > MAX_NOTES_PER_KIND:  # the later ones: counted only, as GapLog.add would
                into._counts[kind] += n - MAX_NOTES_PER_KIND
