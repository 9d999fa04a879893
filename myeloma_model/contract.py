"""The assessment as typed values (docs/assessment-contract.md), and its one JSON serialiser.

The model and its guidance work on these frozen dataclasses, with dates as `datetime.date`;
`to_json` turns an `Assessment` into the JSON contract at the edge (dates as "YYYY-MM-DD",
field names in camelCase, in the contract's order). `from_json` reads the JSON form back, for
callers that hold the dict (tests that build assessments by hand, the order hook).

Field names are the contract's in snake_case (`patient_id` is `patientId`); a field whose JSON
name is not its camelCase (`drug_class` is `class`) says so in its metadata. Fields marked
`OMIT_NONE` are left out of the JSON when None (additions the contract only has sometimes);
fields marked `NOT_JSON` are the model's own (e.g. a strategy's assumptions, which the guidance
gathers into one list) and have no JSON form. `Reason` is a code with values.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date
from typing import Any, Protocol

OMIT_NONE = {"omit_none": True}
NOT_JSON = {"json": None}  # a field the model uses that the JSON form does not carry


@dataclass(frozen=True, slots=True)
class DataGap:
    """A data gap the model found, as a code with values (e.g. `drug-not-classed` {drug}); the
    JSON's `dataGaps` holds it as a sentence, which `to_json` asks its `words` for. The mapping's
    and the service's own gaps stay plain strings."""

    code: str
    values: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        return next((v for k, v in self.values if k == key), default)


def data_gap(code: str, **values: Any) -> DataGap:
    return DataGap(code, tuple(values.items()))


@dataclass(frozen=True, slots=True)
class Marker:
    """One `relapse.markers` entry: latest value on record and nadir since the line's start."""

    latest: float
    nadir: float | None
    unit: str
    latest_date: date
    nadir_date: date | None
    latest_comparator: str | None = field(default=None, metadata=OMIT_NONE)
    nadir_comparator: str | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True, slots=True)
class InvolvedMarker(Marker):
    """`relapse.markers.involvedFlc`: a marker that also names the involved chain (or None)."""

    chain: str | None = None


@dataclass(frozen=True, slots=True)
class Hypercalcaemia:
    """The first calcium result above the CRAB bar (`relapse.crabValues.hypercalcaemia`)."""

    date: date
    value: float
    unit: str = "mmol/L"


@dataclass(frozen=True, slots=True)
class Anaemia:
    """The haemoglobin fall that met the CRAB bar, from the best value before it."""

    date: date
    best: float
    value: float
    fall: float
    unit: str = "g/L"


@dataclass(frozen=True, slots=True)
class RenalRise:
    """The creatinine rise above the line's baseline that met the CRAB bar."""

    date: date
    baseline: float
    value: float
    rise: float
    unit: str = "umol/L"


@dataclass(frozen=True, slots=True)
class BoneLesion:
    """The first new bone lesion, plasmacytoma or extramedullary disease on record."""

    date: date
    kind: str


CrabEvidence = Hypercalcaemia | Anaemia | RenalRise | BoneLesion
CRAB_EVIDENCE: dict[str, type] = {"hypercalcaemia": Hypercalcaemia, "anaemia": Anaemia, "renal": RenalRise,
                                  "bone-lesion": BoneLesion}


@dataclass(frozen=True, slots=True)
class Relapse:
    status: str
    significant_paraprotein_relapse: bool = False
    date: date | None = None
    crab_date: date | None = None
    latest_marker_date: date | None = None
    criteria: tuple[str, ...] = ()
    crab_features: tuple[str, ...] = ()
    markers: dict[str, Marker] = field(default_factory=dict)
    # feature -> the evidence behind it, its first date and values (addition)
    crab_values: dict[str, CrabEvidence] | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True, slots=True)
class DrugEntry:
    """One `drugs` entry, plus the first start and last dose (additions guidance reads)."""

    drug_class: str | None = field(metadata={"json": "class"})
    exposed: bool = True
    active: bool = False
    refractory: bool = False
    months_on_drug: float | None = None
    months_since_last_dose: float | None = None
    retreatment_signal: bool = False
    active_at_relapse: bool | None = None
    first_start: date | None = None
    last_dose: date | None = None


@dataclass(frozen=True, slots=True)
class TherapyLine:
    """A line of therapy as `details.lines` lists it."""

    number: int
    start: date
    end: date | None
    drugs: tuple[str, ...]
    transplant: bool


@dataclass(frozen=True, slots=True)
class LineCourse:
    """One contract `lines` entry: the line and how it went."""

    number: int
    start: date | None = None
    end: date | None = None
    drugs: tuple[str, ...] = ()
    transplant: bool = False
    best_response: str | None = None
    best_response_date: date | None = None
    duration_months: float | None = None
    progressed: bool = False
    progression_date: date | None = None
    treats: date | None = None


@dataclass(frozen=True, slots=True)
class Risk:
    high_risk_cytogenetics: tuple[str, ...] = ()
    iss: str = "unknown"
    riss: str = "unknown"
    b2m_trend: str = "unknown"
    high_risk_relapse_features: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Fitness:
    age: int | None = None
    ecog: int | None = None
    frailty: str = "unknown"
    cautions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RetreatmentKept:
    """A refractory drug a regimen keeps because its retreatment signal holds: its times, and
    each threshold it crossed (None: not crossed), so the wording can cite them."""

    drug: str
    months_on_drug: float | None
    months_since_last_dose: float | None
    on_drug_threshold: float | None  # RETREAT_MONTHS_ON_DRUG when months_on_drug exceeds it
    since_dose_threshold: float | None  # RETREAT_MONTHS_SINCE_LAST_DOSE when exceeded


@dataclass(frozen=True, slots=True)
class RegimenWarning:
    """Why a regimen carries the contract's `warning`, as codes and values: drugs kept on the
    retreatment signal, warning-level cautions, reduced intensity for a frail patient. The JSON
    form is a sentence: `to_json` asks its `words` for it (the card layer's wording)."""

    retreatment: tuple[RetreatmentKept, ...] = ()
    cautions: tuple[str, ...] = ()
    reduced_intensity: bool = False


@dataclass(frozen=True, slots=True)
class SameClassRefractory:
    """A regimen drug of a class the disease is refractory to, and those refractory drugs."""

    drug: str
    refractory_to: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TrialFigures:
    trial: str | None
    figures: str | None


@dataclass(frozen=True, slots=True)
class RegimenOption:
    """One ranked `regimens` entry: the contract's fields, then what the cards show.

    `warning` is typed (`RegimenWarning`, None when nothing to warn); a `str` only in an
    assessment read back with `from_json`, where it is the sentence already worded."""

    code: str
    drugs: tuple[str, ...]
    cautions: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    warning: RegimenWarning | str | None = None
    name: str = ""
    group: str = ""
    strategy_group: bool = True
    intensity: str = ""
    caution_level: int = 0
    retreatment_signal_drugs: tuple[str, ...] = ()
    same_class_refractory: tuple[SameClassRefractory, ...] = ()
    reduced_intensity: bool = False
    notes: tuple[str, ...] = ()
    evidence_detail: tuple[TrialFigures, ...] = ()
    toxicity: tuple[TrialFigures, ...] = ()


@dataclass(frozen=True, slots=True)
class NotOffered:
    code: str
    reason: str
    drugs: tuple[str, ...] = ()  # the refractory drugs behind `refractory` (addition)


# ---- the guidance: reasons, assumptions and details the cards show (an addition) ----------------

@dataclass(frozen=True, slots=True)
class Reason:
    """A reason as a code with values; its JSON is `{"code": ..., **values}` (value names as the
    JSON has them, e.g. `monthsOnDrug`)."""

    code: str
    values: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        return next((v for k, v in self.values if k == key), default)


def reason(code: str, **values: Any) -> Reason:
    return Reason(code, tuple(values.items()))


@dataclass(frozen=True, slots=True)
class TimingAdvice:
    """Section 4: the contract's `timing` (`value`), the status's own value (`status_value`, kept
    when stale data turn it into `confirm`), and what `guidance.timing` shows."""

    reasons: tuple[str, ...] = ()
    high_risk_relapse_features: tuple[str, ...] = ()
    surveillance: str | None = None  # "alternative" | "unsafe" | None
    stale: bool = False
    value: str = field(default="none", metadata=NOT_JSON)
    status_value: str = field(default="none", metadata=NOT_JSON)


@dataclass(frozen=True, slots=True)
class Durability:
    """Section 3a: the response to the index drug on the most recent line that held it."""

    value: str  # "durable" | "not-durable" | "unknown"
    line: int | None = None
    best_response: str | None = None
    duration_months: float | None = None


@dataclass(frozen=True, slots=True)
class StrategyAdvice:
    """Section 7: the contract's `strategy` (`value`) and `guidance.strategy` (its reasons)."""

    reasons: tuple[Reason, ...] = ()
    value: str = field(default="none", metadata=NOT_JSON)
    assumptions: tuple[str, ...] = field(default=(), metadata=NOT_JSON)
    durability: Durability | None = field(default=None, metadata=NOT_JSON)


@dataclass(frozen=True, slots=True)
class Intensity:
    reduced: bool = False


@dataclass(frozen=True, slots=True)
class MissingInvestigation:
    """A Table 1 test missing or stale before the offered drugs (section 8)."""

    code: str
    status: str  # "missing" | "stale"
    last_done: date | None = None
    max_age_days: int | None = None  # None: ever
    assessment: bool = False  # a clinical assessment for the visit, never an order
    for_drugs: tuple[str, ...] = ()
    for_regimens: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TestStatus:
    """Every Table 1 test's state (`guidance.investigationStatus`), for the order hooks."""

    __test__ = False  # not a pytest test class
    status: str  # "current" | "missing" | "stale"
    last_done: date | None = None


@dataclass(frozen=True, slots=True)
class IggResult:
    value: float
    unit: str
    date: date


@dataclass(frozen=True, slots=True)
class IvigIndicated:
    """Section 9: IVIG on T-cell redirecting therapy with low IgG or recurrent infections."""

    code: str
    drugs: tuple[str, ...] = ()
    igg: IggResult | None = None  # the low result, None when only infections recur
    infections: int = 0
    infections_since: date | None = None
    assumptions: tuple[str, ...] = field(default=(), metadata=NOT_JSON)


@dataclass(frozen=True, slots=True)
class BloodGroupBeforeTransfusion:
    """Section 9: on an anti-CD38 antibody with no blood group on record."""

    code: str
    drugs: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = field(default=(), metadata=NOT_JSON)


SafetyFinding = IvigIndicated | BloodGroupBeforeTransfusion


@dataclass(frozen=True, slots=True)
class Guidance:
    """The non-contract `guidance` object: what the cards show, as codes and values."""

    timing: TimingAdvice
    provisional: bool
    strategy: StrategyAdvice
    intensity: Intensity
    durability: Durability | None
    investigations: tuple[MissingInvestigation, ...]
    investigation_status: dict[str, TestStatus]
    safety: tuple[SafetyFinding, ...]
    assumptions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Advice:
    """What guidance adds to the assessment: the contract's guidance fields and `guidance`."""

    timing: str = "none"
    strategy: str = "none"
    regimens: tuple[RegimenOption, ...] = ()
    not_offered: tuple[NotOffered, ...] = ()
    missing_investigations: tuple[str, ...] = ()
    safety: tuple[str, ...] = ()
    guidance: Guidance | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True, slots=True)
class ProgressionEvent:
    date: date
    status: str
    line: int | None


@dataclass(frozen=True, slots=True)
class DatedValue:
    value: float
    date: date


@dataclass(frozen=True, slots=True)
class Details:
    """The non-contract `details`: lines, progression events, the values behind the risk."""

    lines: tuple[TherapyLine, ...] = ()
    current_line: int | None = None
    progression_events: tuple[ProgressionEvent, ...] = ()
    first_progression: date | None = None
    on_therapy_at_relapse: bool | None = None
    b2m_at_line_start: DatedValue | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    """The assessment of one patient as of a date (docs/assessment-contract.md)."""

    patient_id: str | None
    as_of: date
    in_scope: bool
    relapse: Relapse
    lines: tuple[LineCourse, ...] = ()
    data_freshness: str = "none"
    drugs: dict[str, DrugEntry] = field(default_factory=dict)
    prior_lines: int = 0
    refractory_category: str = "none"
    triple_class_exposed: bool = False
    risk: Risk = field(default_factory=Risk)
    fitness: Fitness = field(default_factory=Fitness)
    timing: str = "none"
    strategy: str = "none"
    regimens: tuple[RegimenOption, ...] = ()
    not_offered: tuple[NotOffered, ...] = ()
    missing_investigations: tuple[str, ...] = ()
    safety: tuple[str, ...] = ()
    data_gaps: tuple[str | DataGap, ...] = ()  # the mapping's strings, the model's DataGaps
    details: Details | None = field(default=None, metadata=OMIT_NONE)
    # reasons, assumptions and details the cards show, as codes and values (addition)
    guidance: Guidance | None = field(default=None, metadata=OMIT_NONE)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _json_names(cls: type) -> tuple[tuple[str, str, bool], ...]:
    """(attribute, JSON name, omit when None) of each field of a contract class, in order."""
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(
            (f.name, f.metadata.get("json", _camel(f.name)), bool(f.metadata.get("omit_none")))
            for f in fields(cls) if f.metadata.get("json", "") is not None)
    return names


_NAMES: dict[type, tuple[tuple[str, str, bool], ...]] = {}


class Words(Protocol):
    """The wording of the contract's sentence fields (the card layer provides it)."""

    def regimen_warning(self, warning: RegimenWarning) -> str: ...

    def data_gap(self, gap: DataGap) -> str: ...


class CodeWords:
    """The sentence fields as their codes, for callers without the card layer (model tests,
    benchmarks): contract-typed strings, not the service's sentences."""

    def regimen_warning(self, warning: RegimenWarning) -> str:
        parts = [f"retreatment-signal {k.drug}" for k in warning.retreatment]
        parts += [f"caution {c}" for c in warning.cautions]
        if warning.reduced_intensity:
            parts.append("reduced-intensity")
        return "; ".join(parts)

    def data_gap(self, gap: DataGap) -> str:
        return " ".join([gap.code] + [f"{k}={to_json(v)}" for k, v in gap.values])


CODE_WORDS = CodeWords()


def to_json(value: Any, words: Words = CODE_WORDS) -> Any:
    """The JSON contract form of an `Assessment` (or of any part of it): plain dicts, lists,
    strings, numbers, booleans and None, with dates as "YYYY-MM-DD". `words` writes the
    sentence fields (`regimens[].warning`); the service passes the card layer's."""
    if isinstance(value, RegimenWarning):
        return words.regimen_warning(value)
    if isinstance(value, DataGap):
        return words.data_gap(value)
    if isinstance(value, Reason):
        return {"code": value.code, **{k: to_json(v, words) for k, v in value.values}}
    if is_dataclass(value):
        out = {}
        for attr, key, omit_none in _json_names(type(value)):
            v = getattr(value, attr)
            if v is None and omit_none:
                continue
            out[key] = to_json(v, words)
        return out
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: to_json(v, words) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v, words) for v in value]
    return value


# ---- reading the JSON form back --------------------------------------------------------------

def parse_date(s: Any) -> date | None:
    """A contract date string ("YYYY-MM-DD...") as a date; None when absent or unreadable."""
    if isinstance(s, date):
        return s
    if not s:
        return None
    try:
        return date.fromisoformat(str(s)[:10])
    except ValueError:
        return None


def _flat(cls: type, d: dict, dates: tuple[str, ...] = (), **nested: Any) -> Any:
    """A contract class from its JSON object: known keys only, dates parsed, lists as tuples."""
    kwargs = {}
    for attr, key, _ in _json_names(cls):
        if attr in nested:
            kwargs[attr] = nested[attr]
        elif key in d:
            v = d[key]
            if attr in dates:
                v = parse_date(v)
            elif isinstance(v, list):
                v = tuple(v)
            kwargs[attr] = v
    return cls(**kwargs)


def marker_from_json(d: dict) -> Marker:
    return _flat(InvolvedMarker if "chain" in d else Marker, d, ("latest_date", "nadir_date"))


def drug_from_json(d: dict) -> DrugEntry:
    return _flat(DrugEntry, d, ("first_start", "last_dose"))


def line_from_json(d: dict) -> LineCourse:
    return _flat(LineCourse, d, ("start", "end", "best_response_date", "progression_date", "treats"))


def regimen_from_json(d: dict) -> RegimenOption:
    """A regimen from its JSON; `warning` stays the sentence it already is."""
    return _flat(
        RegimenOption, d,
        same_class_refractory=tuple(SameClassRefractory(x.get("drug"), tuple(x.get("refractoryTo") or ()))
                                    for x in d.get("sameClassRefractory") or ()),
        evidence_detail=tuple(_flat(TrialFigures, x) for x in d.get("evidenceDetail") or ()),
        toxicity=tuple(_flat(TrialFigures, x) for x in d.get("toxicity") or ()))


def not_offered_from_json(d: dict) -> NotOffered:
    return _flat(NotOffered, d)


def _reason_from_json(d: Any) -> Reason:
    d = dict(d)
    return Reason(d.pop("code"), tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in d.items()))


def _safety_from_json(d: dict) -> SafetyFinding:
    if d.get("code") == "ivig-indicated":
        igg = d.get("igg")
        return _flat(IvigIndicated, d, ("infections_since",),
                     igg=_flat(IggResult, igg, ("date",)) if igg else None)
    return _flat(BloodGroupBeforeTransfusion, d)


def guidance_from_json(g: dict) -> Guidance:
    """The `guidance` object read back (timing and strategy values are not in it: see `from_json`)."""
    dur = g.get("durability")
    return Guidance(
        timing=_flat(TimingAdvice, g.get("timing") or {}),
        provisional=bool(g.get("provisional")),
        strategy=StrategyAdvice(reasons=tuple(_reason_from_json(r) for r in (g.get("strategy") or {}).get("reasons")
                                              or ())),
        intensity=_flat(Intensity, g.get("intensity") or {}),
        durability=_flat(Durability, dur) if dur else None,
        investigations=tuple(_flat(MissingInvestigation, x, ("last_done",)) for x in g.get("investigations") or ()),
        investigation_status={k: _flat(TestStatus, v, ("last_done",))
                              for k, v in (g.get("investigationStatus") or {}).items()},
        safety=tuple(_safety_from_json(x) for x in g.get("safety") or ()),
        assumptions=tuple(g.get("assumptions") or ()),
    )


def from_json(d: dict) -> Assessment:
    """An `Assessment` from its JSON form; absent fields take their defaults (empty, unknown)."""
    rel = d.get("relapse") or {}
    markers = {k: marker_from_json(m) for k, m in (rel.get("markers") or {}).items()}
    crab_values = rel.get("crabValues")
    if crab_values is not None:
        crab_values = {k: _flat(CRAB_EVIDENCE[k], v, ("date",)) for k, v in crab_values.items() if k in CRAB_EVIDENCE}
    relapse = _flat(Relapse, rel, ("date", "crab_date", "latest_marker_date"), markers=markers,
                    crab_values=crab_values) if rel else Relapse(status="unknown")
    details = d.get("details")
    if details is not None:
        b2m = details.get("b2mAtLineStart")
        details = _flat(
            Details, details, ("first_progression",),
            lines=tuple(_flat(TherapyLine, x, ("start", "end")) for x in details.get("lines") or ()),
            progression_events=tuple(_flat(ProgressionEvent, x, ("date",))
                                     for x in details.get("progressionEvents") or ()),
            b2m_at_line_start=_flat(DatedValue, b2m, ("date",)) if b2m else None)
    return _flat(
        Assessment, d, ("as_of",),
        relapse=relapse,
        lines=tuple(line_from_json(x) for x in d.get("lines") or ()),
        drugs={k: drug_from_json(x) for k, x in (d.get("drugs") or {}).items()},
        risk=_flat(Risk, d.get("risk") or {}),
        fitness=_flat(Fitness, d.get("fitness") or {}),
        regimens=tuple(regimen_from_json(x) for x in d.get("regimens") or ()),
        not_offered=tuple(not_offered_from_json(x) for x in d.get("notOffered") or ()),
        details=details,
        guidance=_guidance(d),
    )


def _guidance(d: dict) -> Guidance | None:
    """`guidance` with the timing and strategy values the top level holds put back in (the
    JSON does not keep the status's own timing behind a stale `confirm`: it reads as `timing`)."""
    g = d.get("guidance")
    if g is None:
        return None
    out = guidance_from_json(g)
    timing = replace(out.timing, value=d.get("timing") or "none", status_value=d.get("timing") or "none")
    strategy = replace(out.strategy, value=d.get("strategy") or "none", durability=out.durability)
    return replace(out, timing=timing, strategy=strategy)
