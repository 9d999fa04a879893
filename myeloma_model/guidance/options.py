"""Which regimens and drugs suit this patient, and in what order (docs/clinical-model.md sections 5,
6, 7.1, 7.2, 9). One appraisal serves patient-view and the order hooks (section 7.3):
`appraise_regimen` decides whether a regimen is offered, `appraise_drug` whether an ordered drug
is, from the same regimen appraisals, so the two can never disagree.

- Refractory (sections 5, 7): a regimen with a drug the disease is refractory to is not offered,
  unless that drug's retreatment signal holds (only ever for a drug stopped before the relapse);
  then it is kept with a warning (`RegimenWarning`: the drug, its times and the thresholds
  crossed; the card layer words it, citing Goel 2024 as retrospective).
- Eligibility (7.1), the first reason that applies, in this order: refractory, frailty (CAR-T or
  bispecific for a frail patient or ECOG > 2), not-triple-class-exposed, not-lenalidomide-exposed,
  prior-lines.
- Ranking (7.2): groups in the strategy's order (high risk + switch-class: novel mechanisms ahead
  of pomalidomide); within a group by caution level, then anti-CD38 first when high risk, then the
  group's listed order. Frail: doublets Rd, Pd, Kd, Vd first, the rest with a reduced-intensity
  warning. Doublets are options only for frail or intermediate patients.
- Notes (9): IMiD thromboprophylaxis, T-cell redirecting toxicity, belantamab approval withdrawn.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from myeloma_model.contract import (
    Assessment,
    NotOffered,
    RegimenOption,
    RegimenWarning,
    RetreatmentKept,
    SameClassRefractory,
    TrialFigures,
)
from myeloma_model.drug_classes import ANTI_CD38, T_CELL_REDIRECTING_CLASSES, drug_class, is_steroid
from myeloma_model.guidance.regimens import (
    DOUBLETS,
    FRAIL_DOUBLETS,
    GROUP_MEMBERS,
    GROUP_ORDER,
    GROUP_ORDER_HIGH_RISK_SWITCH,
    REGIMENS,
    T_CELL_TOXICITY,
    WARNING_CAUTION,
    WARNING_CAUTIONS,
    Regimen,
    caution_level,
    cautions_for,
    regimen_notes,
    regimens_with,
)
from myeloma_model.thresholds import (
    RETREAT_MONTHS_ON_DRUG,
    RETREAT_MONTHS_SINCE_LAST_DOSE,
    T_CELL_MAX_ECOG,
)

# Section 7.1: not-offered reasons, in the order the first applying one is chosen.
REFRACTORY, FRAILTY, NOT_TCE, NOT_LEN_EXPOSED, PRIOR_LINES = (
    "refractory", "frailty", "not-triple-class-exposed", "not-lenalidomide-exposed", "prior-lines")
REASON_ORDER: tuple[str, ...] = (REFRACTORY, FRAILTY, NOT_TCE, NOT_LEN_EXPOSED, PRIOR_LINES)


# --- the patient ----------------------------------------------------------------------------------

def is_frail(assessment: Assessment) -> bool:
    """Section 7.2 item 4: frail (ECOG >= 3 or age > 80, as fitness decided it)."""
    fit = assessment.fitness
    return fit.frailty == "frail" or (fit.ecog is not None and fit.ecog > T_CELL_MAX_ECOG)


def doublets_allowed(assessment: Assessment) -> bool:
    """Section 7.2 G5: doublets are options only for frail or intermediate patients (or ECOG >= 2)."""
    return assessment.fitness.frailty in ("frail", "intermediate") or is_frail(assessment)


def is_high_risk(assessment: Assessment) -> bool:
    """Section 7: high-risk cytogenetics or R-ISS III."""
    risk = assessment.risk
    return bool(risk.high_risk_cytogenetics) or risk.riss == "III"


# --- one appraisal for regimens and drugs -----------------------------------------------------------

@dataclass
class Appraisal:
    """Whether a regimen suits the patient, and what it carries if it does."""

    regimen: Regimen
    reason: str | None = None  # the section 7.1 reason it is not offered; None = offered
    refractory: list[str] = field(default_factory=list)  # refractory drugs without the signal
    signal_kept: list[str] = field(default_factory=list)  # refractory drugs kept: the signal holds
    same_class: list[str] = field(default_factory=list)  # its drugs of a class the disease is refractory to
    cautions: list[str] = field(default_factory=list)

    @property
    def offered(self) -> bool:
        return self.reason is None

    @property
    def level(self) -> int:
        """Caution level for ranking; a drug kept on the retreatment signal ranks as a warning."""
        return WARNING_CAUTION if self.signal_kept else caution_level(self.cautions)


def eligibility_reason(r: Regimen, assessment: Assessment) -> str | None:
    """Section 7.1 after refractoriness: the first condition of the regimen that does not hold."""
    if r.t_cell_redirecting and is_frail(assessment):
        return FRAILTY
    el = r.eligibility
    if el.triple_class_exposed and not assessment.triple_class_exposed:
        return NOT_TCE
    lenalidomide = assessment.drugs.get("lenalidomide")
    if el.lenalidomide_exposed and not (lenalidomide and lenalidomide.exposed):
        return NOT_LEN_EXPOSED
    lines = assessment.prior_lines
    if (el.min_prior_lines is not None and lines < el.min_prior_lines) or (
            el.max_prior_lines is not None and lines > el.max_prior_lines):
        return PRIOR_LINES
    return None


def appraise_regimen(r: Regimen, assessment: Assessment) -> Appraisal:
    drugs = assessment.drugs
    a = Appraisal(r)
    refractory_classes = {i.drug_class for i in drugs.values() if i.refractory}
    for d in r.drugs:
        info = drugs.get(d)
        if is_steroid(d):
            continue
        if info is not None and info.refractory:
            (a.signal_kept if info.retreatment_signal else a.refractory).append(d)
        elif drug_class(d) in refractory_classes:
            a.same_class.append(d)
    a.cautions = cautions_for(r.drugs, assessment.fitness.cautions)
    a.reason = REFRACTORY if a.refractory else eligibility_reason(r, assessment)
    return a


def candidate_regimens(assessment: Assessment) -> list[Regimen]:
    """Every regimen that is an option at all: doublets only for frail or intermediate patients."""
    allowed = doublets_allowed(assessment)
    return [REGIMENS[c] for g, codes in GROUP_MEMBERS.items() if allowed or g != DOUBLETS for c in codes]


@dataclass
class DrugAppraisal:
    """Section 7.3: the ordered drug judged with the same appraisals as the patient-view options."""

    drug: str
    refractory: bool = False  # refractory without the retreatment signal: never offered
    signal: bool = False  # refractory, but the signal holds (kept with the Goel caveat)
    offered_in: list[str] = field(default_factory=list)  # offered regimens containing the drug
    not_offered: list[NotOffered] = field(default_factory=list)  # its other regimens, with the reason
    frailty: bool = False  # a CAR-T or bispecific for a frail patient (section 7.1)
    cautions: list[str] = field(default_factory=list)

    @property
    def eligible(self) -> bool | None:
        """None for a drug in no listed regimen (no section 7.1 verdict)."""
        if self.frailty:
            return False
        if not self.offered_in and not self.not_offered:
            return None
        return bool(self.offered_in)

    @property
    def level(self) -> int:
        return caution_level(self.cautions)


def appraise_drug(drug: str, assessment: Assessment) -> DrugAppraisal:
    info = assessment.drugs.get(drug)
    out = DrugAppraisal(drug)
    if info is not None:
        out.refractory = info.refractory and not info.retreatment_signal
        out.signal = info.refractory and info.retreatment_signal
    candidates = {r.code for r in candidate_regimens(assessment)}
    for r in regimens_with(drug):
        if r.code not in candidates:
            continue
        a = appraise_regimen(r, assessment)
        if a.offered:
            out.offered_in.append(r.code)
        else:
            out.not_offered.append(NotOffered(r.code, a.reason, tuple(a.refractory)))
    out.frailty = drug_class(drug) in T_CELL_REDIRECTING_CLASSES and is_frail(assessment)
    out.cautions = cautions_for([drug], assessment.fitness.cautions)
    return out


# --- ranking ---------------------------------------------------------------------------------------

def group_order(strategy: str, assessment: Assessment) -> tuple[str, ...]:
    if strategy == "switch-class" and is_high_risk(assessment):
        return GROUP_ORDER_HIGH_RISK_SWITCH
    return GROUP_ORDER.get(strategy, ())


def _sort_key(a: Appraisal, high_risk: bool) -> tuple:
    """Section 7.2 item 3; ties between equal levels: fewer warning-level, then fewer cautions."""
    members = GROUP_MEMBERS[a.regimen.group]
    warn = sum(1 for c in a.cautions if c in WARNING_CAUTIONS)
    return (a.level, not (high_risk and a.regimen.has_class(ANTI_CD38)), warn, len(a.cautions),
            members.index(a.regimen.code))


def _retreatment_kept(a: Appraisal, assessment: Assessment) -> tuple[RetreatmentKept, ...]:
    """Each drug kept on the retreatment signal, with the thresholds its times crossed (section 5)."""
    out = []
    for d in a.signal_kept:
        info = assessment.drugs[d]
        on, off = info.months_on_drug, info.months_since_last_dose
        out.append(RetreatmentKept(
            drug=d, months_on_drug=on, months_since_last_dose=off,
            on_drug_threshold=RETREAT_MONTHS_ON_DRUG if on is not None and on > RETREAT_MONTHS_ON_DRUG else None,
            since_dose_threshold=(RETREAT_MONTHS_SINCE_LAST_DOSE
                                  if off is not None and off > RETREAT_MONTHS_SINCE_LAST_DOSE else None)))
    return tuple(out)


def regimen_warning(a: Appraisal, assessment: Assessment, reduced: bool) -> RegimenWarning | None:
    """The contract's `warning` as codes and values; None when nothing calls for one."""
    warning = RegimenWarning(retreatment=_retreatment_kept(a, assessment),
                             cautions=tuple(c for c in a.cautions if c in WARNING_CAUTIONS),
                             reduced_intensity=reduced)
    return warning if warning.retreatment or warning.cautions or reduced else None


def refractory_of_class(assessment: Assessment, cls: str | None) -> list[str]:
    """The drugs of a class the disease is refractory to."""
    return [d for d, i in assessment.drugs.items() if i.refractory and i.drug_class == cls]


def regimen_option(a: Appraisal, assessment: Assessment, *, strategy_group: bool, reduced: bool) -> RegimenOption:
    """An offered regimen as the contract's typed `regimens` entry, with what the cards show."""
    r = a.regimen
    return RegimenOption(
        code=r.code,
        drugs=tuple(r.drugs),
        cautions=tuple(a.cautions),
        evidence=tuple(dict.fromkeys(e.trial for e in r.evidence if e.trial)),
        warning=regimen_warning(a, assessment, reduced),
        name=r.name,
        group=r.group,
        strategy_group=strategy_group,
        intensity=r.intensity,
        caution_level=a.level,
        retreatment_signal_drugs=tuple(a.signal_kept),
        same_class_refractory=tuple(SameClassRefractory(d, tuple(refractory_of_class(assessment, drug_class(d))))
                                    for d in a.same_class),
        reduced_intensity=reduced,
        notes=tuple(regimen_notes(r)),
        evidence_detail=tuple(TrialFigures(e.trial, e.figures) for e in r.evidence if e.figures or e.trial),
        toxicity=(tuple(TrialFigures(e.trial, e.figures) for e in T_CELL_TOXICITY)
                  if r.t_cell_redirecting else ()),
    )


def rank_regimens(assessment: Assessment,
                  strategy: str) -> tuple[tuple[RegimenOption, ...], tuple[NotOffered, ...], bool]:
    """(ranked regimens, notOffered, reduced intensity) for a strategy (7.1, 7.2)."""
    order = group_order(strategy, assessment)
    if not order:
        return (), (), False
    frail = is_frail(assessment)
    high_risk = is_high_risk(assessment)
    appraisals = {r.code: appraise_regimen(r, assessment) for r in candidate_regimens(assessment)}
    not_offered = tuple(NotOffered(a.regimen.code, a.reason, tuple(a.refractory))
                        for g in order for c in GROUP_MEMBERS[g] if (a := appraisals.get(c)) and not a.offered)
    offered = {c: a for c, a in appraisals.items() if a.offered}
    ranked: list[RegimenOption] = []
    if frail:
        for c in FRAIL_DOUBLETS:
            if c in offered:
                ranked.append(regimen_option(offered[c], assessment, strategy_group=False, reduced=False))
    for i, g in enumerate(order):
        if frail and g == DOUBLETS:
            continue
        group = sorted((offered[c] for c in GROUP_MEMBERS[g] if c in offered), key=lambda a: _sort_key(a, high_risk))
        for a in group:
            ranked.append(regimen_option(a, assessment, strategy_group=(i == 0),
                                         reduced=frail and a.regimen.group != DOUBLETS))
    return tuple(ranked), not_offered, frail
