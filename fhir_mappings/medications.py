"""MedicationStatement / MedicationRequest / MedicationAdministration -> DrugExposure.

Drug recognition (docs/assessment-contract.md#drugs): a RxNorm code (ingredient or a product code the
tables know), an ATC code, or the generic / brand name as a whole word in `text` or
`coding.display` (case-insensitive), from medicationCodeableConcept or from the Medication a
medicationReference points to (contained "#id" or a Medication in the same bundle). Several
drugs in one medication (a combination product) give one exposure each. Unknown codes are
never guessed: an unrecognised antineoplastic ATC code is reported as a data gap, any other
unknown medication is simply not anti-myeloma.

Status semantics (R4):
- MedicationStatement: active, completed, stopped, on-hold, intended count; not-taken,
  entered-in-error and unknown do not. Period = effectivePeriod or effectiveDateTime (an
  active statement with only effectiveDateTime is open from that date), else dateAsserted.
- MedicationRequest: active, completed, stopped, on-hold count (cancelled = never started,
  entered-in-error, draft, unknown do not); intent plan / order (or its sub-kinds), not
  proposal / option. Period = dosageInstruction[].timing.repeat.boundsPeriod, else
  dispenseRequest.validityPeriod, else authoredOn as the start; without an explicit end, the
  supply (expectedSupplyDuration x (1 + numberOfRepeatsAllowed)) bounds it.
- MedicationAdministration: completed, in-progress, on-hold, stopped count (the drug was
  given); not-done, entered-in-error, unknown do not. Date = effectiveDateTime or
  effectivePeriod.

Administration merge rule: administrations of one drug whose dates are no more than
LINE_GROUPING_DAYS (30) apart join one exposure period [first, last administration]; the
latest period is open and active when its last dose is no more than that gap before the
as-of date (the patient is between two doses of a running course). Why:
cycle gaps of every myeloma schedule are <= 28 days (weekly, 2-weekly, 3-weekly and 4-weekly
dosing), so one treatment course becomes one period whose end is the true last dose, which
the refractoriness window (60 days after the last dose) needs; a pause longer than a cycle
starts a new period, matching the model's own course rule (myeloma_model/lines.py), so the
model sees the same courses whether it is given every dose or the merged periods.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

from fhir_mappings.dates import parse_date, period_bounds
from fhir_mappings.gaps import GapLog
from fhir_mappings.terminology import ATC, DrugInfo, concept_texts, normalise_system, ref_of, tables
from myeloma_model.records import DrugExposure
from myeloma_model.thresholds import LINE_GROUPING_DAYS

_T = tables()
_BY_CODE = _T.drug_by_code
_BY_NAME = _T.drug_by_name
_NAME_PATTERN = _T.drug_name_pattern
# ATC groups of antineoplastic / immunomodulating drugs: an unknown code here is reported.
_ANTINEOPLASTIC_ATC = re.compile(r"^(L01|L04AX)")

STATEMENT_STATUSES = {"active": True, "completed": False, "stopped": False, "on-hold": False, "intended": False}
REQUEST_STATUSES = {"active": True, "completed": False, "stopped": False, "on-hold": False}
REQUEST_INTENTS = frozenset({"plan", "order", "original-order", "reflex-order", "filler-order", "instance-order"})
ADMINISTRATION_STATUSES = frozenset({"completed", "in-progress", "on-hold", "stopped"})

MAX_SUPPLY_DAYS = 3650
_DURATION_DAYS = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7, "mo": 30, "month": 30,
                  "months": 30, "a": 365, "year": 365, "h": 1 / 24, "hour": 1 / 24, "min": 1 / 1440}


class MedicationReader:
    """Collects exposures; administrations are merged per drug in `finish()`."""

    def __init__(self, gaps: GapLog, medications: dict[str, dict]) -> None:
        self.gaps = gaps
        self.medications = medications  # "Medication/id" and bare id -> Medication resource
        self.exposures: list[DrugExposure] = []
        self._administrations: dict[str, list[tuple[date, date | None, bool, str | None]]] = {}
        self._cache: dict[str, tuple[DrugInfo, ...]] = {}
        # Requests without an end from boundsPeriod: (index in exposures, request reference);
        # their period runs to the last administration that references them (s5 v2).
        self._open_requests: list[tuple[int, str]] = []
        self._last_given: dict[str, date] = {}  # "MedicationRequest/id" -> last administration

    # -- recognition -------------------------------------------------------------------------
    def drugs_of(self, resource: dict) -> tuple[DrugInfo, ...]:
        """The anti-myeloma drugs a medication resource names (empty when none)."""
        concept = resource.get("medicationCodeableConcept")
        if concept is None:
            ref = resource.get("medicationReference")
            if isinstance(ref, dict):
                med = self._resolve(resource, ref.get("reference"))
                if med is not None:
                    concept = med.get("code")
                    if concept is None and med.get("ingredient"):
                        return self._ingredients(resource, med)
                elif ref.get("display"):
                    concept = {"text": ref["display"]}
        if not isinstance(concept, dict):
            return ()
        return self._recognise(resource, concept)

    def _ingredients(self, resource: dict, med: dict) -> tuple[DrugInfo, ...]:
        out: dict[str, DrugInfo] = {}
        for ing in med.get("ingredient") or ():
            item = ing.get("itemCodeableConcept") if isinstance(ing, dict) else None
            if isinstance(item, dict):
                for info in self._recognise(resource, item):
                    out[info.key] = info
        return tuple(out.values())

    def _recognise(self, resource: dict, concept: dict) -> tuple[DrugInfo, ...]:
        codings = [c for c in (concept.get("coding") or ()) if isinstance(c, dict)]
        cache_key = repr((concept.get("text"), [(c.get("system"), c.get("code"), c.get("display")) for c in codings]))
        hit = self._cache.get(cache_key)
        if hit is not None:
            return hit
        found: dict[str, DrugInfo] = {}
        unknown_atc = None
        for c in codings:
            system = normalise_system(c.get("system"))
            info = _BY_CODE.get((system, c.get("code")))
            if info is not None:
                found[info.key] = info
            elif system == ATC and isinstance(c.get("code"), str) and _ANTINEOPLASTIC_ATC.match(c["code"]):
                unknown_atc = c["code"]
        for text in concept_texts(concept):
            for m in _NAME_PATTERN.finditer(text):
                info = _BY_NAME.get(re.sub(r"[\s-]+", " ", m.group(1).lower()))
                if info is None:
                    info = _BY_NAME.get(m.group(1).lower())
                if info is not None:
                    found[info.key] = info
        if not found and unknown_atc:
            self.gaps.add(
                f"atc:{unknown_atc}",
                f"{ref_of(resource)}: antineoplastic drug with ATC {unknown_atc} is not a drug the service knows; not counted",
            )
        result = tuple(found.values())
        self._cache[cache_key] = result
        return result

    def _resolve(self, resource: dict, reference: object) -> dict | None:
        if not isinstance(reference, str):
            return None
        if reference.startswith("#"):
            for c in resource.get("contained") or ():
                if isinstance(c, dict) and c.get("id") == reference[1:] and c.get("resourceType") == "Medication":
                    return c
            return None
        med = self.medications.get(reference)
        if med is None and "/Medication/" in reference:
            med = self.medications.get("Medication/" + reference.rsplit("/Medication/", 1)[1].split("/_history")[0])
        return med

    # -- resources ---------------------------------------------------------------------------
    def add_statement(self, res: dict) -> None:
        active = STATEMENT_STATUSES.get(res.get("status"))
        if active is None:
            return
        drugs = self.drugs_of(res)
        if not drugs:
            return
        start, end = _effective(res)
        if active and "effectiveDateTime" in res:
            end = None  # "taking it as of this date": open, runs to the as-of date
        if start is None and end is None:
            start = parse_date(res.get("dateAsserted"))
            if start is None:
                self._no_date(res, drugs)
                return
        evidence = _latest(start, parse_date(res.get("dateAsserted")))
        for d in drugs:
            self.exposures.append(DrugExposure(d.key, start, end, active, "MedicationStatement", ref_of(res),
                                               evidence))

    def add_request(self, res: dict) -> None:
        active = REQUEST_STATUSES.get(res.get("status"))
        if active is None:
            return
        intent = res.get("intent")
        if intent is not None and intent not in REQUEST_INTENTS:
            return
        drugs = self.drugs_of(res)
        if not drugs:
            return
        start, end = _request_period(res)
        if start is None and end is None:
            self._no_date(res, drugs)
            return
        evidence = _latest(start, parse_date(res.get("authoredOn")))
        bounded = _bounds_end(res) is not None
        for d in drugs:
            if not bounded and res.get("id"):
                self._open_requests.append((len(self.exposures), f"MedicationRequest/{res['id']}"))
            self.exposures.append(DrugExposure(d.key, start, end, active, "MedicationRequest", ref_of(res), evidence))

    def add_administration(self, res: dict) -> None:
        status = res.get("status")
        if status not in ADMINISTRATION_STATUSES:
            return
        drugs = self.drugs_of(res)
        if not drugs:
            return
        start, end = _effective(res)
        if start is None:
            start = end
        if start is None:
            self._no_date(res, drugs)
            return
        ongoing = status == "in-progress" and end is None
        req = (res.get("request") or {}).get("reference") if isinstance(res.get("request"), dict) else None
        if isinstance(req, str):
            key = "MedicationRequest/" + req.rsplit("MedicationRequest/", 1)[-1].split("/_history")[0]
            given = end or start
            if key not in self._last_given or given > self._last_given[key]:
                self._last_given[key] = given
        for d in drugs:
            self._administrations.setdefault(d.key, []).append((start, end, ongoing, ref_of(res)))

    def _no_date(self, res: dict, drugs) -> None:
        names = ", ".join(d.key for d in drugs)
        self.gaps.add(f"med-no-date:{res.get('resourceType')}", f"{ref_of(res)}: {names} has no date; not counted")

    def finish(self, as_of: date) -> list[DrugExposure]:
        """Exposures, with each drug's administrations merged into periods (module docstring).

        Administrations dated after `as_of` are not known "today" and are left out. A course
        whose last dose is no more than one cycle gap before `as_of` is still running: open
        and active (it runs to the as-of date), as a patient between two doses is on the drug.
        """
        for i, ref in self._open_requests:
            last = self._last_given.get(ref)
            e = self.exposures[i]
            if last is not None and last <= as_of and e.start is not None and last >= e.start:
                self.exposures[i] = DrugExposure(e.drug, e.start, last, False, e.source, e.source_id,
                                                 _latest(e.evidence, last))
        gap = timedelta(days=LINE_GROUPING_DAYS)
        for drug, doses in self._administrations.items():
            doses = sorted((d for d in doses if d[0] <= as_of), key=lambda d: d[0])
            if not doses:
                continue
            periods: list[list] = []
            for s, e, ongoing, ref in doses:
                last = e or s
                if periods and s <= periods[-1][1] + gap:
                    cur = periods[-1]
                    cur[1], cur[2] = max(cur[1], last), ongoing
                else:
                    periods.append([s, last, ongoing, ref])
            if as_of - periods[-1][1] <= gap:
                periods[-1][2] = True
            for start, last, ongoing, ref in periods:
                self.exposures.append(_administered(drug, start, last, ongoing, ref))
        return self.exposures


def _administered(drug: str, start: date, last: date, ongoing: bool, ref: str | None) -> DrugExposure:
    # An infusion still running: the period is open and active (runs to the as-of date).
    return DrugExposure(drug, start, None if ongoing else last, ongoing, "MedicationAdministration", ref, last)


def _latest(*days: date | None) -> date | None:
    return max((d for d in days if d is not None), default=None)


def _effective(res: dict) -> tuple[date | None, date | None]:
    d = res.get("effectiveDateTime")
    if d is not None:
        day = parse_date(d)
        return day, day
    return period_bounds(res.get("effectivePeriod"))


def _bounds_end(res: dict) -> date | None:
    """The latest boundsPeriod end of a request's dosage instructions (None: none given)."""
    ends = []
    for dosage in res.get("dosageInstruction") or ():
        if isinstance(dosage, dict):
            ends.append(period_bounds(((dosage.get("timing") or {}).get("repeat") or {}).get("boundsPeriod"))[1])
    return max((e for e in ends if e is not None), default=None)


def _request_period(res: dict) -> tuple[date | None, date | None]:
    start = end = None
    for dosage in res.get("dosageInstruction") or ():
        if not isinstance(dosage, dict):
            continue
        repeat = (dosage.get("timing") or {}).get("repeat") or {}
        s, e = period_bounds(repeat.get("boundsPeriod"))
        if s is not None and (start is None or s < start):
            start = s
        if e is not None and (end is None or e > end):
            end = e
    dispense = res.get("dispenseRequest") or {}
    if start is None and end is None:
        start, end = period_bounds(dispense.get("validityPeriod"))
    authored = parse_date(res.get("authoredOn"))
    if start is None:
        start = authored
    if end is None and start is not None:
        supply = _supply_days(dispense)
        if supply:
            end = start + timedelta(days=supply - 1)
    return start, end


def _supply_days(dispense: dict) -> int | None:
    """Days covered by the dispensed supply: expectedSupplyDuration x (1 + repeats)."""
    dur = dispense.get("expectedSupplyDuration")
    if not isinstance(dur, dict) or not isinstance(dur.get("value"), (int, float)):
        return None
    per = _DURATION_DAYS.get(dur.get("code") or dur.get("unit") or "")
    if per is None:
        return None
    repeats = dispense.get("numberOfRepeatsAllowed")
    fills = 1 + (repeats if isinstance(repeats, int) and repeats > 0 else 0)
    days = dur["value"] * per * fills
    # A supply beyond ten years is not a supply (a unit mix-up): no end rather than a wrong one.
    if not 0 < days <= MAX_SUPPLY_DAYS:
        return None
    return int(round(days))
