"""Filtering and ranking of regimen options: every rule in this one module, each naming the
docs/clinical-model.md section it implements.

Order of application (`rank_regimens`):
1. strategy_pool            section 7 (Figure 2): the strategy's options, best first
2. bring_forward_high_risk  section 7: high-risk cytogenetics or R-ISS III -> anti-CD38 triplets
                            first; novel mechanisms whose trial setting fits the patient are
                            added to the options (offered at this earlier line)
2b. rising_b2m_favours_switch section 7: retreatment chosen but beta-2 microglobulin rising
                            without the retreatment signal -> switch-class options move ahead
3. frail_intensity          sections 6-7: frail (ECOG > 2 or age > 80) -> doublets first with
                            refractory drugs excluded, triplets after with a reduced-intensity
                            warning, never CAR-T or a bispecific
4. refractory_drug_filter   sections 5, 7: a regimen with a drug the disease is refractory to is
                            dropped, or kept with a warning when that drug's retreatment signal holds
5. refractory_class_warning section 5: a drug of a class the disease is refractory to (the drug
                            itself not refractory) keeps the regimen, with a warning
6. comorbidity_cautions     section 6: the patient's caution codes for the regimen's drugs;
                            heart failure + carfilzomib, neuropathy + bortezomib, eGFR < 30 +
                            lenalidomide also make a warning
7. final_order              safer first within a tier: no refractory drug kept, no class warning,
                            no comorbidity warning (stable: the strategy's order otherwise)
"""
from __future__ import annotations

from dataclasses import dataclass, field

from myeloma_model.drug_classes import ANTI_CD38, drug_class
from myeloma_model.guidance.regimens import (
    BISPECIFIC,
    CAUTION_TEXT,
    CELLULAR,
    FRAIL_DOUBLETS,
    NOVEL_OPTIONS,
    REGIMENS,
    STRATEGY_OPTIONS,
    TRIPLET,
    WARNING_CAUTIONS,
    Regimen,
    cautions_for,
)
from myeloma_model.thresholds import (
    FRAIL_AGE_OVER,
    FRAIL_ECOG_MIN,
    RETREAT_MONTHS_ON_DRUG,
    RETREAT_MONTHS_SINCE_LAST_DOSE,
)


@dataclass
class Option:
    regimen: Regimen
    tier: int = 0
    warnings: list[str] = field(default_factory=list)
    cautions: list[str] = field(default_factory=list)
    refractory_kept: list[str] = field(default_factory=list)
    class_hits: list[str] = field(default_factory=list)
    caution_warning: bool = False
    rationale: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        r = self.regimen
        return {
            "code": r.code,
            "drugs": list(r.drugs),
            "cautions": list(self.cautions),
            "evidence": [e.trial for e in r.evidence],
            "warning": " ".join(self.warnings) if self.warnings else None,
            # Added fields (the contract allows additions): what the cards show.
            "name": r.name,
            "classes": list(r.classes),
            "intensity": r.intensity,
            "evidenceDetail": [{"trial": e.trial, "figures": e.figures, "note": e.note} for e in r.evidence],
            "lineSetting": {
                "minPriorLines": r.line_setting.min_prior_lines,
                "maxPriorLines": r.line_setting.max_prior_lines,
                "text": r.line_setting.text,
                "source": r.line_setting.source,
            },
            "rationale": list(self.rationale),
        }


FRAIL_RULE = f"ECOG >= {FRAIL_ECOG_MIN} or age > {FRAIL_AGE_OVER}"


# --- helpers on the assessment -------------------------------------------------------------------

def is_frail(assessment: dict) -> bool:
    """Section 6/7, as fitness.frailty decided it (ECOG or age, whichever is known)."""
    return (assessment.get("fitness") or {}).get("frailty") == "frail"


def is_high_risk(assessment: dict) -> bool:
    """Section 7: high-risk cytogenetics or R-ISS III."""
    risk = assessment.get("risk") or {}
    return bool(risk.get("highRiskCytogenetics")) or risk.get("riss") == "III"


def _drugs(assessment: dict) -> dict:
    return assessment.get("drugs") or {}


# --- 1. section 7 (Figure 2): the strategy's options --------------------------------------------

def strategy_pool(strategy: str) -> list[Option]:
    return [Option(REGIMENS[c]) for c in STRATEGY_OPTIONS.get(strategy, ())]


# --- 2. section 7: high-risk cytogenetics or R-ISS III ---------------------------------------------

def eligible(r: Regimen, assessment: dict) -> bool:
    """The patient fits the regimen's trial setting: prior lines and required exposure/refractoriness."""
    ls = r.line_setting
    lines = assessment.get("priorLines") or 0
    drugs = _drugs(assessment)
    return (
        ls.min_prior_lines <= lines
        and (ls.max_prior_lines is None or lines <= ls.max_prior_lines)
        and all(drugs.get(d, {}).get("refractory") for d in ls.requires_refractory)
        and all(d in drugs for d in ls.requires_exposed)
        and (not ls.requires_triple_class_exposed or bool(assessment.get("tripleClassExposed")))
    )


def bring_forward_high_risk(options: list[Option], assessment: dict) -> list[Option]:
    """Anti-CD38 triplets to the front; novel mechanisms the patient is eligible for (by their
    trial setting) are added after the strategy's options, i.e. offered at this earlier line."""
    if not is_high_risk(assessment):
        return options
    cd38 = [o for o in options if o.regimen.has_class(ANTI_CD38) and o.regimen.intensity == TRIPLET]
    for o in cd38:
        o.rationale.append("anti-CD38 triplet preferred for high-risk disease")
    present = {o.regimen.code for o in options}
    novel = []
    for code in NOVEL_OPTIONS:
        r = REGIMENS[code]
        if code not in present and eligible(r, assessment):
            o = Option(r)
            o.rationale.append(f"novel mechanism brought forward for high-risk disease (studied in {r.line_setting.text})")
            novel.append(o)
    rest = [o for o in options if o not in cd38]
    return cd38 + rest + novel


# --- 2b. section 7: rising beta-2 microglobulin favours switching class -------------------------

def rising_b2m_favours_switch(options: list[Option], assessment: dict, strategy: str) -> list[Option]:
    """Retreatment chosen, but b2m is rising and the lenalidomide retreatment signal does not hold:
    the switch-class options (no lenalidomide) move ahead of the lenalidomide regimens."""
    risk = assessment.get("risk") or {}
    signal = ((assessment.get("drugs") or {}).get("lenalidomide") or {}).get("retreatmentSignal")
    if strategy != "retreat-same-class" or risk.get("b2mTrend") != "rising" or signal:
        return options
    switch = [o for o in options if "lenalidomide" not in o.regimen.drugs]
    for o in switch:
        o.rationale.append("rising beta-2 microglobulin favours switching class")
    return switch + [o for o in options if o not in switch]


# --- 3. sections 6-7: frailty ---------------------------------------------------------------------

def frail_intensity(options: list[Option], assessment: dict, excluded: list[dict]) -> list[Option]:
    if not is_frail(assessment):
        return options
    drugs = _drugs(assessment)
    doublets = []
    for code in FRAIL_DOUBLETS:
        r = REGIMENS[code]
        bad = [d for d in r.drugs if drugs.get(d, {}).get("refractory")]
        if bad:
            excluded.append({"code": code, "reason": f"frail-patient doublet excluded: refractory to {', '.join(bad)}"})
            continue
        o = Option(r, tier=0)
        o.rationale.append("doublet first for a frail patient")
        doublets.append(o)
    later = []
    for o in options:
        if o.regimen.code in FRAIL_DOUBLETS:
            continue
        if o.regimen.intensity in (CELLULAR, BISPECIFIC):
            excluded.append({"code": o.regimen.code,
                             "reason": f"not offered to a frail patient ({FRAIL_RULE}): CAR-T and "
                                       "bispecific antibodies are not suitable"})
            continue
        o.tier = 1
        o.warnings.append(f"Reduced intensity: the patient is frail ({FRAIL_RULE}); consider a "
                          "doublet first or dose-reduced scheduling.")
        later.append(o)
    return doublets + later


# --- 4. sections 5 and 7: drugs the disease is refractory to ------------------------------------

def _signal_text(name: str, info: dict) -> str:
    on, off = info.get("monthsOnDrug"), info.get("monthsSinceLastDose")
    parts = []
    if on is not None and on > RETREAT_MONTHS_ON_DRUG:
        parts.append(f"{on:.1f} months on {name} > {RETREAT_MONTHS_ON_DRUG:g}")
    if off is not None and off > RETREAT_MONTHS_SINCE_LAST_DOSE:
        parts.append(f"{off:.1f} months since the last dose > {RETREAT_MONTHS_SINCE_LAST_DOSE:g}")
    return "; ".join(parts) or "retreatment signal"


def refractory_drug_filter(options: list[Option], assessment: dict, excluded: list[dict]) -> list[Option]:
    drugs = _drugs(assessment)
    kept = []
    for o in options:
        bad = [d for d in o.regimen.drugs if drugs.get(d, {}).get("refractory")]
        if not bad:
            kept.append(o)
            continue
        no_signal = [d for d in bad if not drugs[d].get("retreatmentSignal")]
        if no_signal:
            excluded.append({"code": o.regimen.code,
                             "reason": f"refractory to {', '.join(no_signal)} without the retreatment signal"})
            continue
        o.refractory_kept = bad
        o.warnings.insert(0, "WARNING: the disease is refractory to " + ", ".join(bad)
                          + "; kept only because the retreatment signal holds ("
                          + "; ".join(_signal_text(d, drugs[d]) for d in bad) + ").")
        kept.append(o)
    return kept


# --- 5. section 5: classes the disease is refractory to ---------------------------------------------

def refractory_class_warning(options: list[Option], assessment: dict) -> list[Option]:
    drugs = _drugs(assessment)
    refractory_by_class: dict[str, list[str]] = {}
    for d, info in drugs.items():
        if info.get("refractory") and info.get("class"):
            refractory_by_class.setdefault(info["class"], []).append(d)
    for o in options:
        hits = []
        for d in o.regimen.drugs:
            if drugs.get(d, {}).get("refractory"):
                continue
            cls = drug_class(d)
            if cls in refractory_by_class:
                hits.append((d, cls))
        if hits:
            o.class_hits = [d for d, _ in hits]
            o.warnings.append(" ".join(
                f"The disease is refractory to {', '.join(refractory_by_class[cls])} (same class as {d}, {cls}); "
                f"{d} may retain activity but resistance is possible."
                for d, cls in hits
            ))
    return options


# --- 6. section 6: comorbidity cautions ------------------------------------------------------------

def comorbidity_cautions(options: list[Option], assessment: dict) -> list[Option]:
    patient = list((assessment.get("fitness") or {}).get("cautions") or [])
    for o in options:
        o.cautions = cautions_for(o.regimen.drugs, patient)
        for code in o.cautions:
            drugs = WARNING_CAUTIONS.get(code, frozenset()) & set(o.regimen.drugs)
            if drugs:
                o.caution_warning = True
                o.warnings.append(f"Caution ({code}): {CAUTION_TEXT[code]}.")
    return options


# --- 7. final order ----------------------------------------------------------------------------------

def final_order(options: list[Option]) -> list[Option]:
    indexed = list(enumerate(options))
    indexed.sort(key=lambda io: (io[1].tier, bool(io[1].refractory_kept), bool(io[1].class_hits),
                                 io[1].caution_warning, io[0]))
    return [o for _, o in indexed]


def rank_regimens(assessment: dict, strategy: str) -> tuple[list[dict], list[dict], dict]:
    """(regimens for the contract, excluded options with reasons, intensity note)."""
    excluded: list[dict] = []
    options = strategy_pool(strategy)
    if not options:
        return [], [], {"reduced": False, "reason": None}
    options = bring_forward_high_risk(options, assessment)
    options = rising_b2m_favours_switch(options, assessment, strategy)
    options = frail_intensity(options, assessment, excluded)
    options = refractory_drug_filter(options, assessment, excluded)
    options = refractory_class_warning(options, assessment)
    options = comorbidity_cautions(options, assessment)
    options = final_order(options)
    frail = is_frail(assessment)
    fit = assessment.get("fitness") or {}
    ecog = fit.get("ecog") if fit.get("ecog") is not None else "unknown"
    age = fit.get("age") if fit.get("age") is not None else "unknown"
    intensity = {
        "reduced": frail,
        "reason": (f"Frail (ECOG {ecog}, age {age}): doublets first, "
                   "triplets at reduced intensity, no CAR-T or bispecific antibodies.") if frail else None,
    }
    return [o.to_json() for o in options], excluded, intensity
