"""Regimen knowledge as data (docs/clinical-model.md#strategy, #regimens; the review's trials, Figure 2, Table 1).

One entry per regimen code (docs/clinical-model.md#regimen-codes). Drug keys are the contract's
(docs/assessment-contract.md#drugs); classes come from myeloma_model.drug_classes (not repeated
here). Trial evidence is carried exactly as the review reports it
(docs/clinical-model.md#regimens); where the review names a trial but gives no figures for it,
`figures` is None and `note` says so. Line settings: `source` "review" where the review states the population, otherwise
"trial" (the trial's published eligibility, which the review does not restate).

Rules that filter and rank these options live in options.py; this module holds no logic
beyond lookups.
"""
from __future__ import annotations

from dataclasses import dataclass

from myeloma_model.drug_classes import drug_class

DOUBLET, TRIPLET, CELLULAR, BISPECIFIC = "doublet", "triplet", "cellular", "bispecific"


@dataclass(frozen=True)
class Evidence:
    trial: str
    figures: str | None  # as the review reports them; None when the review gives none
    note: str | None = None


@dataclass(frozen=True)
class LineSetting:
    min_prior_lines: int
    max_prior_lines: int | None
    text: str
    source: str  # "review" | "trial"
    # Eligibility the trial required beyond the line count (used when options are brought
    # forward for high-risk disease): drugs the disease must be refractory to / exposed to.
    requires_refractory: tuple[str, ...] = ()
    requires_exposed: tuple[str, ...] = ()
    requires_triple_class_exposed: bool = False


@dataclass(frozen=True)
class Regimen:
    code: str
    name: str
    drugs: tuple[str, ...]
    intensity: str
    line_setting: LineSetting
    evidence: tuple[Evidence, ...]

    @property
    def classes(self) -> tuple[str, ...]:
        """Drug classes of the regimen (from the model's drug-class table), in drug order."""
        out: list[str] = []
        for d in self.drugs:
            c = drug_class(d)
            if c and c not in out:
                out.append(c)
        return tuple(out)

    def has_class(self, cls: str) -> bool:
        return cls in self.classes


NO_FIGURES = "The review names this trial but reports no figures for it."
NOT_NAMED = "The review cites this study by reference only, without naming the trial."
DEX = "dexamethasone"


def _r(code, name, drugs, intensity, line, *evidence) -> Regimen:
    return Regimen(code, name, tuple(drugs), intensity, line, tuple(evidence))


REGIMENS: dict[str, Regimen] = {
    r.code: r
    for r in (
        # --- lenalidomide-based triplets (retreatment within the IMiD class) ---------------------
        _r("DRd", "daratumumab, lenalidomide, dexamethasone", ["daratumumab", "lenalidomide", DEX], TRIPLET,
           LineSetting(1, None, ">= 1 prior line", "trial"),
           Evidence("POLLUX", "ORR 93% vs 76% (Rd); CR 46% vs 20%; 18-month PFS 79% vs 49%; "
                              "60% reduction in the risk of progression or death vs Rd in high-risk patients")),
        _r("KRd", "carfilzomib, lenalidomide, dexamethasone", ["carfilzomib", "lenalidomide", DEX], TRIPLET,
           LineSetting(1, 3, "1-3 prior lines", "trial"),
           Evidence("ASPIRE", "ORR 87.1%; median PFS 26.3 vs 17.6 months (Rd)")),
        _r("IRd", "ixazomib, lenalidomide, dexamethasone", ["ixazomib", "lenalidomide", DEX], TRIPLET,
           LineSetting(1, 3, "1-3 prior lines", "trial"),
           Evidence("TOURMALINE-MM1", "PFS 20.6 vs 14.7 months (Rd)")),
        _r("ERd", "elotuzumab, lenalidomide, dexamethasone", ["elotuzumab", "lenalidomide", DEX], TRIPLET,
           LineSetting(1, 3, "1-3 prior lines", "trial"),
           Evidence("ELOQUENT-2", "ORR 78.5% vs 65.5% (Rd); 3-year PFS 27% vs 19%")),
        # --- PI-based, anti-CD38-containing triplets (switch class after lenalidomide) ----------
        _r("DVd", "daratumumab, bortezomib, dexamethasone", ["daratumumab", "bortezomib", DEX], TRIPLET,
           LineSetting(1, None, ">= 1 prior line", "trial"),
           Evidence("CASTOR", "ORR 84% vs 63% (Vd); 12-month PFS 60% vs 22%")),
        _r("DKd", "daratumumab, carfilzomib, dexamethasone", ["daratumumab", "carfilzomib", DEX], TRIPLET,
           LineSetting(1, 3, "1-3 prior lines", "trial"),
           Evidence("CANDOR", None, NO_FIGURES)),
        _r("IsaKd", "isatuximab, carfilzomib, dexamethasone", ["isatuximab", "carfilzomib", DEX], TRIPLET,
           LineSetting(1, 3, "1-3 prior treatments", "review"),
           Evidence("IKEMA", "ORR 87% vs 83% (Kd)")),
        # --- pomalidomide-based triplets (next-generation IMiD) --------------------------------
        _r("DPd", "daratumumab, pomalidomide, dexamethasone", ["daratumumab", "pomalidomide", DEX], TRIPLET,
           LineSetting(1, None, ">= 1 prior line including lenalidomide and a PI", "trial"),
           Evidence("APOLLO", None, NO_FIGURES + " (It gives ORR 30-60% for pomalidomide-based regimens in "
                                                 "refractory patients across APOLLO, ICARIA-MM and OPTIMISMM.)")),
        _r("IsaPd", "isatuximab, pomalidomide, dexamethasone", ["isatuximab", "pomalidomide", DEX], TRIPLET,
           LineSetting(2, None, ">= 2 prior therapies", "review"),
           Evidence("ICARIA-MM", "PFS 11.5 vs 6.5 months (Pd)")),
        _r("EPd", "elotuzumab, pomalidomide, dexamethasone", ["elotuzumab", "pomalidomide", DEX], TRIPLET,
           LineSetting(2, None, ">= 2 prior lines", "trial"),
           Evidence("ELOQUENT-3", None, NO_FIGURES)),
        _r("PVd", "pomalidomide, bortezomib, dexamethasone", ["pomalidomide", "bortezomib", DEX], TRIPLET,
           LineSetting(1, 3, "1-3 prior lines, lenalidomide-exposed", "trial"),
           Evidence("OPTIMISMM", None, NO_FIGURES),
           Evidence("DREAMM-8 (comparator arm)", "12-month PFS 51%")),
        # --- belantamab and selinexor triplets (novel mechanisms) ------------------------------
        _r("BVd", "belantamab mafodotin, bortezomib, dexamethasone", ["belantamab-mafodotin", "bortezomib", DEX],
           TRIPLET, LineSetting(1, None, ">= 1 prior line", "review"),
           Evidence("DREAMM-7", "median PFS 36.6 vs 13.4 months (DVd); HR 0.41")),
        _r("BPd", "belantamab mafodotin, pomalidomide, dexamethasone", ["belantamab-mafodotin", "pomalidomide", DEX],
           TRIPLET, LineSetting(1, None, ">= 1 prior line, lenalidomide-exposed", "review",
                                     requires_exposed=("lenalidomide",)),
           Evidence("DREAMM-8", "12-month PFS 71% vs 51% (PVd); HR 0.52")),
        _r("SVd", "selinexor, bortezomib, dexamethasone", ["selinexor", "bortezomib", DEX], TRIPLET,
           LineSetting(1, 3, "1-3 prior lines", "trial"),
           Evidence("BOSTON", "PFS 13.9 vs 9.5 months (Vd)")),
        # --- doublets (frail patients first) ----------------------------------------------------
        _r("Rd", "lenalidomide, dexamethasone", ["lenalidomide", DEX], DOUBLET,
           LineSetting(1, None, ">= 1 prior line", "trial"),
           Evidence("MM-009/MM-010", "ORR 76%; improved ORR, duration of response and TTP vs dexamethasone alone")),
        _r("Pd", "pomalidomide, dexamethasone", ["pomalidomide", DEX], DOUBLET,
           LineSetting(2, None, ">= 2 prior lines, lenalidomide- and bortezomib-refractory", "trial"),
           Evidence("MM-003", None, NO_FIGURES)),
        _r("Kd", "carfilzomib, dexamethasone", ["carfilzomib", DEX], DOUBLET,
           LineSetting(1, 3, "1-3 prior lines", "trial"),
           Evidence("ENDEAVOR", "PFS 18.7 vs 9.4 months (Vd)")),
        _r("Vd", "bortezomib, dexamethasone", ["bortezomib", DEX], DOUBLET,
           LineSetting(1, 3, "1-3 prior lines", "trial"),
           Evidence("APEX", "bortezomib vs high-dose dexamethasone: ORR 38% vs 18%; TTP 6.2 vs 3.5 months")),
        # --- BCMA CAR-T -----------------------------------------------------------------------------
        _r("cilta-cel", "ciltacabtagene autoleucel", ["ciltacabtagene-autoleucel"], CELLULAR,
           LineSetting(1, 3, "1-3 prior lines, lenalidomide-refractory", "trial",
                       requires_refractory=("lenalidomide",)),
           Evidence("CARTITUDE-4", "ORR 98%; sCR 82%; 12-month PFS 76%")),
        _r("ide-cel", "idecabtagene vicleucel", ["idecabtagene-vicleucel"], CELLULAR,
           LineSetting(2, 4, "2-4 prior lines", "review", requires_triple_class_exposed=True),
           Evidence("KarMMa-3", "ORR 71%; CR 39% (2-4 prior lines); ide-cel overall ORR 81%, CR 39%")),
        # --- bispecific antibodies ---------------------------------------------------------------
        _r("teclistamab", "teclistamab (BCMA x CD3)", ["teclistamab"], BISPECIFIC,
           LineSetting(3, None, ">= 3 prior lines, triple-class exposed", "trial",
                       requires_triple_class_exposed=True),
           Evidence("MajesTEC-1", "ORR 63%; CR 39.2%")),
        _r("elranatamab", "elranatamab (BCMA x CD3)", ["elranatamab"], BISPECIFIC,
           LineSetting(3, None, "triple-class refractory", "trial", requires_triple_class_exposed=True),
           Evidence("MagnetisMM-3", "PFS 51% at 15 months")),
        _r("linvoseltamab", "linvoseltamab (BCMA x CD3)", ["linvoseltamab"], BISPECIFIC,
           LineSetting(3, None, ">= 3 prior lines, triple-class exposed", "trial",
                       requires_triple_class_exposed=True),
           Evidence("LINKER-MM1", "PFS 69% at 12 months", NOT_NAMED + " (Bumma et al., J Clin Oncol 2024)")),
        _r("talquetamab", "talquetamab (GPRC5D x CD3)", ["talquetamab"], BISPECIFIC,
           LineSetting(3, None, ">= 3 prior lines", "trial", requires_triple_class_exposed=True),
           Evidence("MonumenTAL-1", "ORR 74%; CR 34%", NOT_NAMED + " (Chari et al., N Engl J Med 2022)")),
    )
}

# Section 7 codes, in the order the rules list them (tests check this set is complete).
REGIMEN_CODES: tuple[str, ...] = (
    "DRd", "KRd", "IRd", "ERd", "DVd", "DKd", "IsaKd", "DPd", "IsaPd", "EPd", "PVd", "BVd",
    "BPd", "SVd", "Rd", "Pd", "Kd", "Vd", "cilta-cel", "ide-cel", "teclistamab", "elranatamab",
    "linvoseltamab", "talquetamab",
)

# Figure 2 / section 7: the options of each strategy, best first before patient filters.
STRATEGY_OPTIONS: dict[str, tuple[str, ...]] = {
    # Durable response to lenalidomide: DRd, KRd or IRd (also ERd); DVd/DKd/IsaKd if resistance
    # is a concern (key recommendations 2 and 3).
    "retreat-same-class": ("DRd", "KRd", "IRd", "ERd", "DVd", "DKd", "IsaKd"),
    # Lenalidomide-refractory: PI-based anti-CD38 triplets, then pomalidomide-based options;
    # lenalidomide regimens last so the retreatment-signal rule can keep them with a warning.
    "switch-class": ("DVd", "DKd", "IsaKd", "DPd", "IsaPd", "EPd", "PVd", "DRd", "KRd", "IRd", "ERd"),
    # Triple-class exposed/refractory: new mechanisms.
    "novel-mechanism": ("cilta-cel", "ide-cel", "teclistamab", "elranatamab", "linvoseltamab",
                        "talquetamab", "SVd", "BVd", "BPd"),
}
# Frail: doublets first, as tolerated (section 7).
FRAIL_DOUBLETS: tuple[str, ...] = ("Rd", "Pd", "Kd", "Vd")
# Novel mechanisms brought forward for high-risk cytogenetics / R-ISS III (section 7), best first.
NOVEL_OPTIONS: tuple[str, ...] = STRATEGY_OPTIONS["novel-mechanism"]

# Section 6 comorbidity caution codes -> the drugs they apply to.
CAUTION_DRUGS: dict[str, frozenset[str]] = {
    "carfilzomib-cardiac": frozenset({"carfilzomib"}),
    "neuropathy": frozenset({"bortezomib", "thalidomide", "ixazomib"}),
    "renal-dose-adjust": frozenset({"lenalidomide", "pomalidomide"}),
    "renal-severe": frozenset({"lenalidomide", "pomalidomide"}),
    "vte-prophylaxis": frozenset({"thalidomide", "lenalidomide", "pomalidomide"}),
}
# Cautions that also make a `warning` sentence, and for which drugs (section 6 "renal-severe (a
# warning)"; the order hooks' comorbidity warnings: carfilzomib + heart failure, bortezomib +
# neuropathy, lenalidomide + eGFR < 30).
WARNING_CAUTIONS: dict[str, frozenset[str]] = {
    "carfilzomib-cardiac": frozenset({"carfilzomib"}),
    "neuropathy": frozenset({"bortezomib"}),
    "renal-severe": frozenset({"lenalidomide"}),
}
CAUTION_TEXT: dict[str, str] = {
    "carfilzomib-cardiac": "heart failure / cardiac disease: carfilzomib carries a cardiotoxicity risk",
    "neuropathy": "peripheral neuropathy: bortezomib, thalidomide and ixazomib can worsen it",
    "renal-dose-adjust": "eGFR < 60: lenalidomide / pomalidomide need renal dose adjustment",
    "renal-severe": "eGFR < 30: severe renal impairment; lenalidomide needs major dose reduction",
    "vte-prophylaxis": "history of venous thromboembolism: IMiD thromboprophylaxis needed",
}


def cautions_for(drugs: tuple[str, ...] | list[str], patient_cautions: list[str]) -> list[str]:
    """The patient's section 6 caution codes that apply to these drugs, in the patient's order."""
    ds = set(drugs)
    return [c for c in patient_cautions if CAUTION_DRUGS.get(c, frozenset()) & ds]
