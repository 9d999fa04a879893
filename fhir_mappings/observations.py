"""Observation -> LabResult / EcogScore / CytogeneticFinding / InvestigationRecord.

The hot path of the mapping (a heavy patient has tens of thousands of Observations): plain
dict access, `(system, code)` dict lookups, no model validation, no per-result sorting.

Rules (docs/clinical-model.md#markers, #risk-and-fitness; issue 3):
- status final / amended / corrected only; everything else is ignored;
- time: effectiveDateTime, else effectivePeriod.start, else effectiveInstant, else issued;
  normalised to UTC (a result at 23:30 -05:00 belongs to the next UTC day); a partial date is
  the first day of its period;
- value[x]: valueQuantity (comparator kept), valueString ("<0.1 g/dL", "7.2 g/L"),
  valueInteger, valueRatio, valueCodeableConcept (ECOG answers, FISH detected / not detected);
- every value converted to the analyte's canonical unit; an unknown or missing unit is a data
  gap naming the Observation and the unit, never guessed;
- duplicates (same analyte, same time to the minute in UTC, same converted value and
  comparator) are counted once, whatever their source;
- components (an FLC panel sending kappa, lambda and ratio as components) are read as results.
"""
from __future__ import annotations

import re
from datetime import date

from fhir_mappings.cytogenetics import findings_in_text, names_abnormality, polarity
from fhir_mappings.dates import UTC_SEEN as _UTC_SEEN, effective_time, utc as _utc
from fhir_mappings.gaps import MALFORMED, DeferredGaps, GapLog, note_malformed
from fhir_mappings.terminology import SYSTEM_ALIASES, UCUM, coding_keys, ref_of, tables
from fhir_mappings.units import MAX_UNIT_CHARS, human_unit, to_canonical, ucum_of
from myeloma_model.records import CytogeneticFinding, EcogScore, ImmunofixationResult, InvestigationRecord, LabResult

USABLE_STATUSES = frozenset({"final", "amended", "corrected"})
# A paraprotein reported as "not detected" / "none" / a negative answer code is a measured
# zero (no monoclonal band), not a missing value: the nadir after a complete response.
ZERO_WHEN_NOT_DETECTED = frozenset({"serum_m_protein", "urine_m_protein"})

_T = tables()
_ANALYTE = _T.analyte_by_code
_ECOG = _T.ecog_codes
_ECOG_ANSWERS = _T.ecog_answers
_FISH = _T.fish_by_code
_FISH_POS = _T.fish_positive
_FISH_NEG = _T.fish_negative
_INVESTIGATION = _T.investigation_by_code
_IMMUNOFIXATION = _T.immunofixation_by_code
_SYSTEMS = SYSTEM_ALIASES
_EMPTY: dict = {}
_INF = float("inf")
_UCUM = UCUM


def _code_info() -> dict[tuple[object, object], tuple]:
    """One lookup per coding, keyed by the system as sent (every alias of a system spelled
    out, so no normalisation per coding): (system, code) -> (analyte, is ECOG, is FISH, FISH
    abnormality, investigation, immunofixation specimen)."""
    by_canonical = {
        k: (_ANALYTE.get(k), k in _ECOG, k in _FISH, _FISH.get(k), _INVESTIGATION.get(k), _IMMUNOFIXATION.get(k))
        for k in set(_ANALYTE) | set(_ECOG) | set(_FISH) | set(_INVESTIGATION) | set(_IMMUNOFIXATION)
    }
    sent_systems = {system for system, _ in by_canonical} | set(_SYSTEMS)
    out = {}
    for sent in sent_systems:
        canonical = _SYSTEMS.get(sent, sent)
        for (system, code), info in by_canonical.items():
            if system == canonical:
                out[(sent, code)] = info
    return out


_CODE_INFO = _code_info()


def _merged_info(codings: list) -> tuple | None:
    """Several codings: the first analyte, FISH abnormality, investigation and specimen any
    of them names; ECOG when any is."""
    analyte = investigation = fish = ife = None
    ecog = is_fish = False
    found = False
    for c in codings:
        info = _CODE_INFO.get((c.get("system"), c.get("code")))
        if info is None:
            continue
        found = True
        a, e, f, fa, inv, spec = info
        if analyte is None:
            analyte = a
        ecog = ecog or e
        if f and not is_fish:
            is_fish, fish = True, fa
        if investigation is None:
            investigation = inv
        if ife is None:
            ife = spec
    return (analyte, ecog, is_fish, fish, investigation, ife) if found else None


_FACTORS: dict[tuple[str, str], tuple[float | None, str | None]] = {}
_FACTORS_MAX = 4096


def _factor(analyte: str, unit: str) -> tuple[float | None, str | None]:
    """units.to_canonical's answer for a stated UCUM unit as (factor, problem), remembered
    per (analyte, unit) in _FACTORS: a patient's thousands of results use a handful of units.
    Bounded: emptied when full; a unit too long to be UCUM is answered but not remembered."""
    known = to_canonical(analyte, 1.0, unit)
    if len(unit) <= MAX_UNIT_CHARS:
        if len(_FACTORS) >= _FACTORS_MAX:
            _FACTORS.clear()
        _FACTORS[(analyte, unit)] = known
    return known

_COMPARATORS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "≤": "<=", "≥": ">="}
# "<0.1 g/dL", "7.2 g/L", "> 1000 mg/L", "12" (unit-less). Decimal commas are not accepted:
# "1,000" and "7,2" are ambiguous, so such strings are reported instead of guessed.
_VALUE_STRING = re.compile(r"^\s*(<=|>=|<|>|≤|≥)?\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*(.*?)\s*$")
# Cytogenetic words worth reading in an Observation whose code the tables do not know.
_CYTO_HINT = re.compile(r"fish|cytogenet|karyotyp|17p|1q|t\(\s*\d|del\(", re.IGNORECASE)


class ObservationReader:
    """Accumulates results from Observations; `finish()` sorts each series once."""

    __slots__ = ("labs", "ecog", "cytogenetics", "investigations", "immunofixation", "gaps", "_seen")

    def __init__(self, gaps: GapLog | DeferredGaps) -> None:
        self.labs: dict[str, list[LabResult]] = {}
        self.ecog: list[EcogScore] = []
        self.cytogenetics: list[CytogeneticFinding] = []
        self.investigations: list[InvestigationRecord] = []
        self.immunofixation: list[ImmunofixationResult] = []
        self.gaps = gaps
        self._seen: set[tuple] = set()

    # -- entry point ---------------------------------------------------------------------
    def add(self, obs: dict) -> None:
        status = obs.get("status")
        if status not in USABLE_STATUSES:
            if status is None:
                self.gaps.add("no-status", f"{ref_of(obs)} has no status; not used")
            return
        code = obs.get("code") or _EMPTY
        codings = code.get("coding")
        info = None
        if codings:
            if len(codings) == 1:  # the usual case: one coding, one lookup
                c = codings[0]
                info = _CODE_INFO.get((c.get("system"), c.get("code")))
            else:
                info = _merged_info(codings)
        when = minute = None
        if info is not None:  # every entry of _CODE_INFO names something the model reads
            t = self._read_known(obs, info)
            if t is None:
                return
            when, minute = t
        else:
            # An Observation the tables do not know: its name may still be a cytogenetic test.
            text = code.get("text")
            if text and _CYTO_HINT.search(text):
                self._fish(obs, None, _when(obs)[0])
        components = obs.get("component")
        if components:
            if when is None:
                when, minute = _when(obs)
            self._components(obs, components, when, minute)

    def _read_known(self, obs: dict, info: tuple) -> tuple[date, str] | None:
        """An Observation whose code the tables know: its date (None and a gap without one),
        the investigation it evidences, then its result."""
        analyte, ecog, is_fish, fish, investigation, ife = info
        d = obs.get("effectiveDateTime")
        t = (_UTC_SEEN.get(d) or _utc(d)) if type(d) is str else effective_time(obs)
        if t is None:
            self.gaps.add("no-date", f"{ref_of(obs)} has no effective date; not used")
            return None
        when, minute = t
        source = ref_of(obs)
        # Evidence that a Table 1 test was done on a date: once per (test, date), as labs
        # are de-duplicated; most lab results are also such evidence.
        if investigation is not None:
            key = ("inv", investigation, when)
            if key not in self._seen:
                self._seen.add(key)
                self.investigations.append(InvestigationRecord(investigation, when, source))
        if ife is not None:
            self._immunofixation(obs, ife, when)
        if analyte is not None:
            # The usual result inline (a plain UCUM Quantity in a unit already seen, no
            # reference range to read); any other value goes through _lab, which reads and
            # reports every form.
            q = obs.get("valueQuantity")
            if type(q) is dict and q.get("comparator") is None and q.get("system") == _UCUM and analyte != "ldh":
                v = q.get("value")
                unit = q.get("code")
                if (type(v) is float or type(v) is int) and unit is not None and 0.0 <= v < _INF:
                    factor = (_FACTORS.get((analyte, unit)) or _factor(analyte, unit))[0]
                    if factor is not None:
                        self._append(analyte, round(v * factor, 6), when, minute, source)
                        return t
            self._lab(obs, analyte, when, minute=minute)
        elif ecog:
            self._ecog(obs, when)
        elif is_fish:
            self._fish(obs, fish, when)
        return t

    # -- numeric results -------------------------------------------------------------------
    def _lab(self, obs: dict, analyte: str, when: date, value_holder: dict | None = None,
             minute: str | None = None) -> None:
        holder = obs if value_holder is None else value_holder
        parsed = _numeric_value(holder)
        if parsed is None and analyte in ZERO_WHEN_NOT_DETECTED and _says_not_detected(holder):
            parsed = (0.0, None, None)
            unit_free = True
        else:
            unit_free = False
        if parsed is None:
            if "dataAbsentReason" not in holder and _has_value(holder):
                self.gaps.add(
                    f"unreadable:{analyte}", f"{ref_of(obs)}: value of {analyte} could not be read; not used"
                )
            return
        value, comparator, unit = parsed
        if not (0.0 <= value < _INF):  # NaN, infinite or negative: no analyte here can be
            self.gaps.add(f"unreadable:{analyte}", f"{ref_of(obs)}: value of {analyte} is not plausible; not used")
            return
        canonical, problem = (0.0, None) if unit_free else to_canonical(analyte, value, unit)
        if problem is not None:
            self.gaps.add(f"unit:{analyte}:{unit}", f"{ref_of(obs)}: {analyte} {problem}; value not used")
            return
        # Round off binary noise of the conversion (1.1 g/dL -> 11.000000000000002 g/L) so the
        # same result sent in two units is one result and values print as labs wrote them.
        self._keep(obs, holder, analyte, when, minute, round(canonical, 6), comparator)

    def _keep(self, obs: dict, holder: dict, analyte: str, when: date, minute: str | None,
              canonical: float, comparator: str | None) -> None:
        """A readable result in the canonical unit: kept once per (analyte, minute, value)."""
        ref_high = _ref_high(holder, analyte) if analyte == "ldh" else None
        self._append(analyte, canonical, when, minute, ref_of(obs), comparator, ref_high)

    def _append(self, analyte: str, canonical: float, when: date, minute: str | None, source: str | None,
                comparator: str | None = None, ref_high: float | None = None) -> None:
        """Add the result to its series unless the same (analyte, minute, value) is there."""
        dedup = (analyte, minute or when, canonical, comparator)
        if dedup in self._seen:
            return
        self._seen.add(dedup)
        series = self.labs.get(analyte)
        if series is None:
            series = self.labs[analyte] = []
        series.append(LabResult(analyte, canonical, when, comparator, ref_high, source))

    def _components(self, obs: dict, components: list, when: date | None, minute: str | None = None) -> None:
        """Panel components: numeric analytes (an FLC panel) and FISH probes (a FISH panel)."""
        for comp in components:
            if not isinstance(comp, dict):
                continue
            for key in coding_keys(comp.get("code") or _EMPTY):
                analyte = _ANALYTE.get(key)
                is_fish = key in _FISH
                if analyte is None and not is_fish:
                    continue
                if when is None:
                    self.gaps.add("no-date", f"{ref_of(obs)} has no effective date; not used")
                    return
                if analyte is not None:
                    self._lab(obs, analyte, when, value_holder=comp, minute=minute)
                else:
                    # read the probe like an Observation of its own, cited by the panel's id
                    probe = dict(comp, resourceType=obs.get("resourceType"), id=obs.get("id"))
                    self._fish(probe, _FISH[key], when)
                break

    # -- immunofixation -------------------------------------------------------------------------
    def _immunofixation(self, obs: dict, specimen: str, when: date) -> None:
        """Negative or positive; a value that says neither is a data gap (never guessed)."""
        negative = _coded_polarity(obs)
        if negative is None:
            for text in _value_texts(obs):
                p = polarity(text)
                if p is not None:
                    negative = p
                    break
        if negative is None:
            if _has_value(obs):
                self.gaps.add("ife", f"{ref_of(obs)}: immunofixation result could not be read as negative or positive; not used")
            return
        negative = not negative  # polarity True means "detected / positive"
        dedup = ("ife", specimen, when, negative)
        if dedup not in self._seen:
            self._seen.add(dedup)
            self.immunofixation.append(ImmunofixationResult(specimen, negative, when, ref_of(obs)))

    # -- ECOG --------------------------------------------------------------------------------
    def _ecog(self, obs: dict, when: date) -> None:
        score = _ecog_score(obs)
        if score is None:
            self.gaps.add("ecog", f"{ref_of(obs)}: ECOG value could not be read (expected 0-5); not used")
            return
        dedup = ("ecog", when, score)
        if dedup in self._seen:
            return
        self._seen.add(dedup)
        self.ecog.append(EcogScore(score, when, ref_of(obs)))

    # -- FISH / cytogenetics ------------------------------------------------------------------
    def _fish(self, obs: dict, abnormality: str | None, when: date | None) -> None:
        coded = _coded_polarity(obs)
        value_texts = _value_texts(obs)
        if coded is None:
            # A bare result ("negative", "Detected in 18% of nuclei") is the value; a narrative
            # naming abnormalities is read clause by clause below instead.
            for text in value_texts:
                if not names_abnormality(text):
                    coded = polarity(text)
                    if coded is not None:
                        break
        found: dict[str, bool] = {}
        # Findings written in the value / interpretation / notes: a name alone counts as present.
        for text in value_texts:
            for name, present in findings_in_text(text, coded, assume_present=True):
                found[name] = found.get(name, False) or present  # keep positives
        # code.text names what was tested ("del(17p) FISH"): it needs a value to say how it came out.
        code_text = (obs.get("code") or {}).get("text")
        if not found and isinstance(code_text, str):
            for name, present in findings_in_text(code_text, coded, assume_present=False):
                found[name] = found.get(name, False) or present
        if abnormality is not None and abnormality not in found:
            if coded is None:
                self.gaps.add(
                    f"fish:{abnormality}", f"{ref_of(obs)}: FISH result for {abnormality} could not be read; not used"
                )
            else:
                found[abnormality] = coded
        for name, present in found.items():
            dedup = ("fish", name, present, when)
            if dedup in self._seen:
                continue
            self._seen.add(dedup)
            self.cytogenetics.append(CytogeneticFinding(name, present, when, ref_of(obs)))

    def finish(self) -> None:
        """Sort every series once (by date; stable for equal dates)."""
        key = _by_when
        for series in self.labs.values():
            series.sort(key=key)
        self.ecog.sort(key=key)
        self.immunofixation.sort(key=key)


def read_observation(reader: ObservationReader, obs: dict) -> None:
    """`reader.add`, a malformed Observation reported as a data gap instead of raising."""
    try:
        reader.add(obs)
    except MALFORMED:
        note_malformed(reader.gaps, obs)


def _by_when(r) -> date:
    return r.when


def _when(obs: dict) -> tuple[date | None, str | None]:
    t = effective_time(obs)
    return t if t is not None else (None, None)




def _has_value(holder: dict) -> bool:
    return any(k.startswith("value") for k in holder)


def _numeric_value(holder: dict) -> tuple[float, str | None, str | None] | None:
    """(value, comparator, UCUM unit or None) from value[x], or None when not numeric."""
    q = holder.get("valueQuantity")
    if q is not None:
        if not isinstance(q, dict):
            return None
        v = q.get("value")
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            if isinstance(v, str):
                try:
                    v = float(v)
                except ValueError:
                    return None
            else:
                return None
        comparator = q.get("comparator")
        if comparator is not None:
            comparator = _COMPARATORS.get(comparator)
            if comparator is None:
                return None  # "ad" (sufficient to achieve this total) and other unknowns
        return float(v), comparator, ucum_of(q)
    s = holder.get("valueString")
    if s is not None:
        if not isinstance(s, str):
            return None
        m = _VALUE_STRING.match(s)
        if m is None:
            return None
        comp, num, unit = m.groups()
        try:
            value = float(num)
        except ValueError:
            return None
        if unit and unit[0] in ",":  # "7,2 g/L": a decimal comma is ambiguous
            return None
        return value, _COMPARATORS.get(comp) if comp else None, human_unit(unit) if unit else None
    v = holder.get("valueInteger")
    if v is not None and not isinstance(v, bool) and isinstance(v, int):
        return float(v), None, None
    r = holder.get("valueRatio")
    if isinstance(r, dict):
        num = (r.get("numerator") or {}).get("value")
        den = (r.get("denominator") or {}).get("value")
        if isinstance(num, (int, float)) and isinstance(den, (int, float)) and den:
            return num / den, None, None
    return None


_NOT_DETECTED_TEXT = re.compile(
    r"^\s*(no\s+(monoclonal\s+|m[- ]?)?(protein|band|spike|paraprotein|component)s?\s+(is\s+)?(detected|seen|identified|present)"
    r"|none(\s+detected|\s+seen)?|not\s+detected|undetectable|negative|absent|no\s+m[- ]?spike)\s*\.?\s*$",
    re.IGNORECASE,
)


def _says_not_detected(holder: dict) -> bool:
    """A qualitative "no paraprotein" result: a negative answer code or plain words to that effect."""
    concept = holder.get("valueCodeableConcept")
    if isinstance(concept, dict):
        if any(k in _FISH_NEG for k in coding_keys(concept)):
            return True
        text = concept.get("text")
        if isinstance(text, str) and _NOT_DETECTED_TEXT.match(text):
            return True
    s = holder.get("valueString")
    return isinstance(s, str) and _NOT_DETECTED_TEXT.match(s) is not None


def _ref_high(holder: dict, analyte: str) -> float | None:
    ranges = holder.get("referenceRange")
    if not ranges or not isinstance(ranges, list) or not isinstance(ranges[0], dict):
        return None
    high = ranges[0].get("high")
    if not isinstance(high, dict) or not isinstance(high.get("value"), (int, float)):
        return None
    value, problem = to_canonical(analyte, float(high["value"]), ucum_of(high))
    return value if problem is None else None


def _ecog_score(obs: dict) -> int | None:
    candidates: list[float] = []
    v = obs.get("valueInteger")
    if isinstance(v, int) and not isinstance(v, bool):
        candidates.append(v)
    q = obs.get("valueQuantity")
    if isinstance(q, dict) and isinstance(q.get("value"), (int, float)) and q.get("comparator") is None:
        candidates.append(q["value"])
    for concept in [obs.get("valueCodeableConcept")] + list(obs.get("interpretation") or []):
        if isinstance(concept, dict):
            for key in coding_keys(concept):
                if key in _ECOG_ANSWERS:
                    candidates.append(_ECOG_ANSWERS[key])
    s = obs.get("valueString")
    if isinstance(s, str) and s.strip().isdigit():
        candidates.append(int(s.strip()))
    for c in candidates:
        if float(c).is_integer() and 0 <= c <= 5:
            return int(c)
    return None


def _coded_polarity(obs: dict) -> bool | None:
    concept = obs.get("valueCodeableConcept")
    if isinstance(concept, dict):
        for key in coding_keys(concept):
            if key in _FISH_POS:
                return True
            if key in _FISH_NEG:
                return False
        for c in concept.get("coding") or ():
            if isinstance(c, dict) and c.get("display"):
                p = polarity(c["display"])
                if p is not None:
                    return p
        if concept.get("text"):
            p = polarity(concept["text"])
            if p is not None:
                return p
    b = obs.get("valueBoolean")
    if isinstance(b, bool):
        return b
    return None


def _value_texts(obs: dict) -> list[str]:
    """Free text where labs write cytogenetic results (not the test name)."""
    out = []
    s = obs.get("valueString")
    if isinstance(s, str):
        out.append(s)
    concept = obs.get("valueCodeableConcept")
    if isinstance(concept, dict) and isinstance(concept.get("text"), str):
        out.append(concept["text"])
    for interp in obs.get("interpretation") or ():
        if isinstance(interp, dict) and isinstance(interp.get("text"), str):
            out.append(interp["text"])
    for note in obs.get("note") or ():
        if isinstance(note, dict) and isinstance(note.get("text"), str):
            out.append(note["text"])
    return out
