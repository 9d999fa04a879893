"""Regimen knowledge as data: the one table a pharmacist reviews (docs/clinical-model.md section 7).

One entry per regimen code: its drugs (the contract's drug keys; classes come from
myeloma_model.drug_classes), its ranking group (section 7.2), its eligibility (section 7.1, only
what the review states), the trial evidence and the notes it carries (section 9).

Every figure is attributed as the review attributes it: `trial` is the trial the review names
for that figure, or None when the review reports the figure without naming a trial; `quote` is
the review's own sentence the figures come from, so each figure can be checked against it
(tests/guidance/test_regimen_data.py checks every number of `figures` appears in `quote`).
Figures the review does not give are not here.

Rules that filter and rank these options live in options.py; this module holds no logic beyond
lookups.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from myeloma_model.drug_classes import IMID, T_CELL_REDIRECTING_CLASSES, drug_class

DOUBLET, TRIPLET, CELLULAR, BISPECIFIC = "doublet", "triplet", "cellular", "bispecific"

# Section 7.2 groups, each listed in the review's order.
LEN_TRIPLETS = "lenalidomide-triplets"  # G1, key recommendation 2
PI_CD38_TRIPLETS = "pi-anti-cd38-triplets"  # G2, key recommendation 3
POM_BASED = "pomalidomide-based"  # G3
NOVEL = "novel-mechanisms"  # G4
DOUBLETS = "doublets"  # G5, frail or elderly patients only
GROUPS: tuple[str, ...] = (LEN_TRIPLETS, PI_CD38_TRIPLETS, POM_BASED, NOVEL, DOUBLETS)

# Section 7.2 item 1: the group order of each strategy (the first group is the strategy's own).
GROUP_ORDER: dict[str, tuple[str, ...]] = {
    "retreat-same-class": (LEN_TRIPLETS, PI_CD38_TRIPLETS, POM_BASED, NOVEL, DOUBLETS),
    "switch-class": (PI_CD38_TRIPLETS, POM_BASED, NOVEL, LEN_TRIPLETS, DOUBLETS),
    "novel-mechanism": (NOVEL, POM_BASED, PI_CD38_TRIPLETS, LEN_TRIPLETS, DOUBLETS),
}
# High-risk cytogenetics or R-ISS III, switch-class: novel mechanisms move ahead of pomalidomide.
GROUP_ORDER_HIGH_RISK_SWITCH: tuple[str, ...] = (PI_CD38_TRIPLETS, NOVEL, POM_BASED, LEN_TRIPLETS, DOUBLETS)
# Section 7.2 item 4: frail patients, doublets first in this order.
FRAIL_DOUBLETS: tuple[str, ...] = ("Rd", "Pd", "Kd", "Vd")


@dataclass(frozen=True)
class Evidence:
    trial: str | None  # as the review names it; None: the review gives the figures without naming a trial
    figures: str | None  # as the review reports them; None when the review names the trial without figures
    quote: str  # the review's own words


@dataclass(frozen=True)
class Eligibility:
    """Section 7.1: the conditions the review states; a regimen without any is open to all."""

    min_prior_lines: int | None = None
    max_prior_lines: int | None = None
    triple_class_exposed: bool = False
    lenalidomide_exposed: bool = False
    quote: str | None = None  # the review's words for the condition


@dataclass(frozen=True)
class Regimen:
    code: str
    name: str
    drugs: tuple[str, ...]
    group: str
    intensity: str
    evidence: tuple[Evidence, ...]
    eligibility: Eligibility = field(default_factory=Eligibility)
    notes: tuple[str, ...] = ()  # codes of NOTES that apply beyond the derived ones

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

    @property
    def t_cell_redirecting(self) -> bool:
        """CAR-T or bispecific antibody (section 7.1 frailty rule, section 9 toxicity)."""
        return bool(set(self.classes) & T_CELL_REDIRECTING_CLASSES)


DEX = "dexamethasone"

# --- the review's sentences, quoted once ------------------------------------------------------
Q_POLLUX = ("The POLLUX trial demonstrated improved ORR (93% vs. 76%), complete response (CR) rate (46% vs. 20%), "
            "and 18-month PFS (79% vs. 49%) with daratumumab-Rd compared to Rd alone")
Q_POLLUX_HR = ("In the POLLUX trial, DRd achieved a 60% reduction in the risk of progression or death compared to "
               "lenalidomide and dexamethasone alone in high-risk patients")
Q_ASPIRE = ("further improved outcomes in the ASPIRE trial [48] when combined with lenalidomide and dexamethasone "
            "(ORR: 87.1%; PFS: 26.3 months)")
Q_TOURMALINE = ("Ixazomib, an oral PI, also showed improved PFS (20.6 vs. 14.7 months) when added to lenalidomide "
                "and dexamethasone in the TOURMALINE-MM1 trial")
Q_ELOQUENT2 = ("The ELOQUENT-2 trial showed superior progression-free survival (PFS) at 3 years (27% vs. 19%), with "
               "an ORR of 78.5% compared to 65.5% for Rd alone")
Q_ELOQUENT3 = "elotuzumab has also shown activity with pomalidomide and dexamethasone in the ELOQUENT-3 trial"
Q_CASTOR = ("The CASTOR trial showed similar advantages with daratumumab-bortezomib-dexamethasone (Vd) over Vd "
            "alone (12-month PFS: 60% vs. 22%; ORR: 84% vs. 63%)")
Q_SALVAGE = ("APOLLO, OPTIMISSM, CANDOR, IKEMA and ICARIA trials provide evidence of use of second-generation PIs and "
             "IMiDs in combination with monoclonal antibodies to salvage patients relapsing whilst on earlier "
             "generation drugs within the same drug class")
Q_IKEMA = "the IKEMA study [63] showed superior efficacy in combination with CFZ-DEX (ORR: 87% vs. 83%)"
Q_ICARIA = "The ICARIA-MM trial [47] showed improved PFS with isatuximab-POM-DEX (11.5 vs. 6.5 months)"
Q_POM = ("In later relapses, pomalidomide-based regimens maintain efficacy, providing ORRs of 30–60% in refractory "
         "patients and a median OS of approximately 12–15 months, depending on patient characteristics")
Q_OPTIMISM = ("iMiDs like pomalidomide could be considered, given their efficacy in lenalidomide-refractory cases, "
              "as demonstrated in the OPTIMISM trial")
Q_DREAMM7 = ("the median PFS was significantly longer in the BVd group (36.6 months, 95% CI: 28.4–NR) compared to "
             "the Dvd group (13.4 months, 95% CI: 11.1–17.5), with a HR for disease progression or death of 0.41")
Q_DREAMM8 = ("The 12-month estimated PFS was 71% in the BPd arm compared to 51% in the PVd arm (HR: 0.52, 95% CI: "
             "0.37–0.73, $P < 0.001$)")
Q_BOSTON = ("The phase 3 BOSTON trial demonstrated improved PFS (13.9 months vs. 9.5 months) with the combination "
            "of Selinexor, bortezomib, and dexamethasone compared to standard bortezomib and dexamethasone")
Q_MM009 = ("lenalidomide combined with dexamethasone (Rd) has been shown to improve ORR, duration of response, and "
           "TTP compared to dexamethasone alone in the MM-009 and MM-010 trials")
Q_FRAIL_PD = ("In frail or elderly patients, where minimising toxicity is paramount, regimens such as pomalidomide "
              "plus dexamethasone may be appropriate.")
Q_TABLE1_FRAIL = "Frail patients may be better suited for doublet regimens like Rd or Pd."
Q_ENDEAVOR = ("Carfilzomib, a next-generation PI, demonstrated superior progression-free survival (PFS) over "
              "bortezomib in the ENDEAVOR trial [55] (18.7 vs. 9.4 months)")
Q_APEX = ("Bortezomib, the first generation PI, has shown significant efficacy in relapsed MM, even in patients with "
          "renal impairment, with improved outcomes in registrational trial APEX (ORR: 38% vs. 18%; TTP: 6.2 vs. "
          "3.5 months; OS: 80% vs. 66%)")
Q_CILTA = ("Cilta-cel has shown an ORR of 98% and a stringent complete response (sCR) rate of 82% in heavily "
           "pre-treated patients, with 12-month progression-free survival (PFS) rates of 76% in the CARTITUDE-4 trial")
Q_IDECEL = ("Ide-cel has demonstrated an ORR of 81% and a complete response (CR) rate of 39%, with the KarMMa-3 "
            "trial reporting a 71% ORR and 39% CR in patients with 2–4 prior lines of therapy")
Q_TEC = ("Teclistamab, a BCMA-CD3 bispecific antibody, has been approved for relapsed MM and has demonstrated an ORR "
         "of 63% and a CR rate of 39.2%")
Q_ELRA_LINVO = ("Other BsAbs, such as Elranatamab and linvoseltamab, have shown encouraging PFS rates of 51% at 15 "
                "months and 69% at 12 months, respectively")
Q_TALQ = "Talquetamab, targeting GPRC5D and CD3, achieved an ORR of 74% with a CR rate of 34% in RRMM"

# --- section 7.1: eligibility as the review states it -------------------------------------------
Q_TCE_CAR_T = ("CAR T-cell therapy has emerged as a promising treatment for relapsed MM, particularly in patients "
               "with triple-class exposed disease.")
Q_TCE_BSAB = ("Indirect comparisons suggest that BCMA-targeted therapies, including cilta-cel, ide-cel, and "
              "teclistamab, offer robust outcomes in triple-class exposed RRMM patients.")
Q_ECOG = ("Those that are frailer, with ECOG statuses of above 2, may not be suitable candidates for switching drug "
          "class to cellular therapies")
TRIPLE_CLASS_EXPOSED = Eligibility(triple_class_exposed=True, quote=Q_TCE_BSAB)

REGIMENS: dict[str, Regimen] = {
    r.code: r
    for r in (
        # --- G1 lenalidomide triplets (key recommendation 2) ---------------------------------------
        Regimen("DRd", "daratumumab, lenalidomide, dexamethasone", ("daratumumab", "lenalidomide", DEX),
                LEN_TRIPLETS, TRIPLET,
                (Evidence("POLLUX", "ORR 93% vs 76% (Rd); CR 46% vs 20%; 18-month PFS 79% vs 49%", Q_POLLUX),
                 Evidence("POLLUX", "60% reduction in the risk of progression or death vs Rd in high-risk patients",
                          Q_POLLUX_HR))),
        Regimen("KRd", "carfilzomib, lenalidomide, dexamethasone", ("carfilzomib", "lenalidomide", DEX),
                LEN_TRIPLETS, TRIPLET, (Evidence("ASPIRE", "ORR 87.1%; PFS 26.3 months", Q_ASPIRE),)),
        Regimen("IRd", "ixazomib, lenalidomide, dexamethasone", ("ixazomib", "lenalidomide", DEX),
                LEN_TRIPLETS, TRIPLET, (Evidence("TOURMALINE-MM1", "PFS 20.6 vs 14.7 months (Rd)", Q_TOURMALINE),)),
        Regimen("ERd", "elotuzumab, lenalidomide, dexamethasone", ("elotuzumab", "lenalidomide", DEX),
                LEN_TRIPLETS, TRIPLET,
                (Evidence("ELOQUENT-2", "3-year PFS 27% vs 19%; ORR 78.5% vs 65.5% (Rd)", Q_ELOQUENT2),)),
        # --- G2 PI / anti-CD38 triplets (key recommendation 3) -----------------------------------
        Regimen("DVd", "daratumumab, bortezomib, dexamethasone", ("daratumumab", "bortezomib", DEX),
                PI_CD38_TRIPLETS, TRIPLET,
                (Evidence("CASTOR", "12-month PFS 60% vs 22%; ORR 84% vs 63% (Vd)", Q_CASTOR),)),
        Regimen("DKd", "daratumumab, carfilzomib, dexamethasone", ("daratumumab", "carfilzomib", DEX),
                PI_CD38_TRIPLETS, TRIPLET, (Evidence("CANDOR", None, Q_SALVAGE),)),
        Regimen("IsaKd", "isatuximab, carfilzomib, dexamethasone", ("isatuximab", "carfilzomib", DEX),
                PI_CD38_TRIPLETS, TRIPLET, (Evidence("IKEMA", "ORR 87% vs 83%", Q_IKEMA),),
                Eligibility(min_prior_lines=1, max_prior_lines=3,
                            quote="with carfilzomib-dexamethasone (CFZ-DEX) in those with 1–3 prior treatments")),
        # --- G3 pomalidomide-based (next-generation IMiD) -----------------------------------------
        Regimen("DPd", "daratumumab, pomalidomide, dexamethasone", ("daratumumab", "pomalidomide", DEX),
                POM_BASED, TRIPLET,
                (Evidence("APOLLO", None, Q_SALVAGE),
                 Evidence(None, "pomalidomide-based regimens in later relapses: ORR 30-60% in refractory patients; "
                                "median OS about 12-15 months", Q_POM))),
        Regimen("IsaPd", "isatuximab, pomalidomide, dexamethasone", ("isatuximab", "pomalidomide", DEX),
                POM_BASED, TRIPLET, (Evidence("ICARIA-MM", "PFS 11.5 vs 6.5 months", Q_ICARIA),),
                Eligibility(min_prior_lines=2,
                            quote="approved for use with pomalidomide and dexamethasone (POM-DEX) in patients with "
                                  "≥ 2 prior therapies")),
        Regimen("EPd", "elotuzumab, pomalidomide, dexamethasone", ("elotuzumab", "pomalidomide", DEX),
                POM_BASED, TRIPLET, (Evidence("ELOQUENT-3", None, Q_ELOQUENT3),)),
        Regimen("PVd", "pomalidomide, bortezomib, dexamethasone", ("pomalidomide", "bortezomib", DEX),
                POM_BASED, TRIPLET,
                (Evidence("OPTIMISMM", None, Q_OPTIMISM),
                 Evidence("DREAMM-8", "12-month PFS 51% (PVd, the comparator arm)", Q_DREAMM8))),
        # --- G4 novel mechanisms -------------------------------------------------------------------
        Regimen("cilta-cel", "ciltacabtagene autoleucel (BCMA CAR-T)", ("ciltacabtagene-autoleucel",), NOVEL, CELLULAR,
                (Evidence(None, "ORR 98%; sCR 82% in heavily pre-treated patients", Q_CILTA),
                 Evidence("CARTITUDE-4", "12-month PFS 76%", Q_CILTA)),
                Eligibility(triple_class_exposed=True, quote=Q_TCE_CAR_T)),
        Regimen("ide-cel", "idecabtagene vicleucel (BCMA CAR-T)", ("idecabtagene-vicleucel",), NOVEL, CELLULAR,
                (Evidence(None, "ORR 81%; CR 39%", Q_IDECEL),
                 Evidence("KarMMa-3", "ORR 71%; CR 39% with 2-4 prior lines", Q_IDECEL)),
                Eligibility(min_prior_lines=2, max_prior_lines=4, triple_class_exposed=True,
                            quote=Q_TCE_CAR_T + " " + "the KarMMa-3 trial reporting a 71% ORR and 39% CR in patients "
                                                      "with 2–4 prior lines of therapy")),
        Regimen("teclistamab", "teclistamab (BCMA x CD3 bispecific)", ("teclistamab",), NOVEL, BISPECIFIC,
                (Evidence(None, "ORR 63%; CR 39.2%", Q_TEC),), TRIPLE_CLASS_EXPOSED),
        Regimen("elranatamab", "elranatamab (BCMA x CD3 bispecific)", ("elranatamab",), NOVEL, BISPECIFIC,
                (Evidence(None, "PFS 51% at 15 months", Q_ELRA_LINVO),), TRIPLE_CLASS_EXPOSED),
        Regimen("linvoseltamab", "linvoseltamab (BCMA x CD3 bispecific)", ("linvoseltamab",), NOVEL, BISPECIFIC,
                (Evidence(None, "PFS 69% at 12 months", Q_ELRA_LINVO),), TRIPLE_CLASS_EXPOSED),
        Regimen("talquetamab", "talquetamab (GPRC5D x CD3 bispecific)", ("talquetamab",), NOVEL, BISPECIFIC,
                (Evidence(None, "ORR 74%; CR 34%", Q_TALQ),), TRIPLE_CLASS_EXPOSED),
        Regimen("SVd", "selinexor, bortezomib, dexamethasone", ("selinexor", "bortezomib", DEX), NOVEL, TRIPLET,
                (Evidence("BOSTON", "PFS 13.9 vs 9.5 months (Vd)", Q_BOSTON),)),
        Regimen("BVd", "belantamab mafodotin, bortezomib, dexamethasone", ("belantamab-mafodotin", "bortezomib", DEX),
                NOVEL, TRIPLET,
                (Evidence("DREAMM-7", "median PFS 36.6 vs 13.4 months (DVd); HR 0.41", Q_DREAMM7),),
                Eligibility(min_prior_lines=1,
                            quote="in patients with relapsed MM who had received at least one prior line of therapy"),
                ("approval-withdrawn",)),
        Regimen("BPd", "belantamab mafodotin, pomalidomide, dexamethasone",
                ("belantamab-mafodotin", "pomalidomide", DEX), NOVEL, TRIPLET,
                (Evidence("DREAMM-8", "12-month PFS 71% vs 51% (PVd); HR 0.52", Q_DREAMM8),),
                Eligibility(min_prior_lines=1, lenalidomide_exposed=True,
                            quote="in lenalidomide-exposed patients after at least one prior line of therapy"),
                ("approval-withdrawn",)),
        # --- G5 doublets (frail or elderly patients) ----------------------------------------------
        Regimen("Rd", "lenalidomide, dexamethasone", ("lenalidomide", DEX), DOUBLETS, DOUBLET,
                (Evidence("MM-009 and MM-010", None, Q_MM009),
                 Evidence("POLLUX", "ORR 76% (Rd, the comparator arm)", Q_POLLUX),
                 Evidence(None, None, Q_TABLE1_FRAIL))),
        Regimen("Pd", "pomalidomide, dexamethasone", ("pomalidomide", DEX), DOUBLETS, DOUBLET,
                (Evidence(None, None, Q_FRAIL_PD), Evidence(None, None, Q_TABLE1_FRAIL))),
        Regimen("Kd", "carfilzomib, dexamethasone", ("carfilzomib", DEX), DOUBLETS, DOUBLET,
                (Evidence("ENDEAVOR", "PFS 18.7 vs 9.4 months (bortezomib)", Q_ENDEAVOR),)),
        Regimen("Vd", "bortezomib, dexamethasone", ("bortezomib", DEX), DOUBLETS, DOUBLET,
                (Evidence("APEX", "ORR 38% vs 18%; TTP 6.2 vs 3.5 months; OS 80% vs 66%", Q_APEX),
                 Evidence("CASTOR", "12-month PFS 22%; ORR 63% (Vd, the comparator arm)", Q_CASTOR))),
    )
}

# Section 7 codes, in the order the rules list them (tests check this set is complete).
REGIMEN_CODES: tuple[str, ...] = (
    "DRd", "KRd", "IRd", "ERd", "DVd", "DKd", "IsaKd", "DPd", "IsaPd", "EPd", "PVd", "BVd",
    "BPd", "SVd", "Rd", "Pd", "Kd", "Vd", "cilta-cel", "ide-cel", "teclistamab", "elranatamab",
    "linvoseltamab", "talquetamab",
)

# Section 7.2: each group in the review's order.
GROUP_MEMBERS: dict[str, tuple[str, ...]] = {
    LEN_TRIPLETS: ("DRd", "KRd", "IRd", "ERd"),
    PI_CD38_TRIPLETS: ("DVd", "DKd", "IsaKd"),
    POM_BASED: ("DPd", "IsaPd", "EPd", "PVd"),
    NOVEL: ("cilta-cel", "ide-cel", "teclistamab", "elranatamab", "linvoseltamab", "talquetamab", "SVd", "BVd",
            "BPd"),
    DOUBLETS: FRAIL_DOUBLETS,
}

# --- section 6: comorbidity cautions --------------------------------------------------------------
# Caution code -> the drugs it applies to.
CAUTION_DRUGS: dict[str, frozenset[str]] = {
    "carfilzomib-cardiac": frozenset({"carfilzomib"}),
    "neuropathy": frozenset({"bortezomib", "thalidomide", "ixazomib"}),
    "renal-dose-adjust": frozenset({"lenalidomide", "pomalidomide"}),
    "renal-severe": frozenset({"lenalidomide", "pomalidomide"}),
    "vte-prophylaxis": frozenset({"thalidomide", "lenalidomide", "pomalidomide"}),
}
# Section 7.2 item 3: warning-level cautions (renal-severe; carfilzomib-cardiac, which the model
# raises only for heart failure or cardiomyopathy on record). The others are plain cautions.
WARNING_CAUTIONS: frozenset[str] = frozenset({"renal-severe", "carfilzomib-cardiac"})
NO_CAUTION, CAUTION, WARNING_CAUTION = 0, 1, 2

# --- section 9: notes every option of a kind carries ---------------------------------------------
Q_IMID_VTE = ("IMiDs such as lenalidomide can lead to neutropenia [28, 29] with attendant infection risk and an "
              "possible increased risk of thromboembolism [30] and risks are further heightened in the presence of "
              "renal impairment")
Q_BELANTAMAB = ("Notably, the US FDA withdrew its approval of Belantamab mafodotin over concerns about its efficacy "
                "compared to standard-of-care regimens.")
Q_KARMMA3_TOX = ("in the KarMMA-3 trial of idecel, 99% of patients experienced adverse effects, with 88% of patients "
                 "developing CRS and 15% developing neurotoxicity [70]. Furthermore, 58% of patients experienced any "
                 "grade infection, with 28% experiencing grade 3 or higher infection.")
Q_MAJESTEC_TOX = ("in the MajesTEC-1 trial, out of 165 RRMM patients who received teclistamab, 76.4% of patients "
                  "experienced infection of any grade, with 13% patients dying from grade 5 infection")
Q_STEROID_INFECTION = ("a retrospective, multicentre study of BisAb-treated patients with MM revealed that "
                       "corticosteroid use for the treatment of CRS or ICANS was associated with a significantly "
                       "increased risk of first infection (HR 2.13)")
Q_IVIG = ("Intravenous immunoglobulin (IVIG) prophylaxis is recommended in patients with severe "
          "hypogammaglobulinemia (<4 g/L) or those experiencing recurrent infections.")

# Toxicity of T-cell redirecting therapy (section 9): carried by every CAR-T and bispecific option.
T_CELL_TOXICITY: tuple[Evidence, ...] = (
    Evidence("KarMMa-3", "ide-cel: adverse events 99%, CRS 88%, neurotoxicity 15%, infection 58% (grade 3 or higher "
                         "28%)", Q_KARMMA3_TOX),
    Evidence("MajesTEC-1", "teclistamab, 165 patients: infection 76.4%, 13% died of grade 5 infection",
             Q_MAJESTEC_TOX),
    Evidence(None, "corticosteroids for CRS or ICANS: higher risk of a first infection (HR 2.13; a retrospective "
                   "multicentre study of bispecific-treated patients)", Q_STEROID_INFECTION),
    Evidence(None, "IVIG prophylaxis when IgG < 4 g/L or recurrent infections", Q_IVIG),
)
# Section 7: the retreatment signal's study, cited with every regimen kept on it.
Q_GOEL = ("patients with a longer time gap between the initial line of therapy with index drug and retreatment with "
          "index drug (>46.1 months) had better PFS with retreatment (28.2 vs. 8.9 months; $P=0.016$) [93]. "
          "Similarly, patients with a longer time on initial therapy with the index drug (>28.4 months) had a "
          "superior PFS with retreatment (median PFS, 16.9 vs. 8.1 months; $P<0.001$)")
GOEL_2024 = Evidence("Goel et al. 2024, a retrospective study",
                     "median PFS on retreatment 16.9 vs 8.1 months after > 28.4 months on the drug; 28.2 vs 8.9 "
                     "months after > 46.1 months since it", Q_GOEL)
# Note codes: `thromboprophylaxis` (every IMiD-containing option), `t-cell-toxicity` (every CAR-T
# and bispecific), `approval-withdrawn` (belantamab, set on the regimen).
NOTE_QUOTES: dict[str, str] = {
    "thromboprophylaxis": Q_IMID_VTE,
    "approval-withdrawn": Q_BELANTAMAB,
    "t-cell-toxicity": Q_KARMMA3_TOX,
}


def regimen_notes(r: Regimen) -> list[str]:
    """The section 9 note codes a regimen carries (derived from its classes, plus its own)."""
    out = []
    if r.has_class(IMID):
        out.append("thromboprophylaxis")
    if r.t_cell_redirecting:
        out.append("t-cell-toxicity")
    return out + [n for n in r.notes if n not in out]


def cautions_for(drugs: tuple[str, ...] | list[str], patient_cautions: list[str]) -> list[str]:
    """The patient's section 6 caution codes that apply to these drugs, in the patient's order."""
    ds = set(drugs)
    return [c for c in patient_cautions if CAUTION_DRUGS.get(c, frozenset()) & ds]


def caution_level(cautions: list[str]) -> int:
    """Section 7.2 item 3: 0 no caution, 1 a caution, 2 a warning-level caution."""
    if any(c in WARNING_CAUTIONS for c in cautions):
        return WARNING_CAUTION
    return CAUTION if cautions else NO_CAUTION


def regimens_with(drug: str) -> list[Regimen]:
    """Every regimen containing the drug, in REGIMEN_CODES order."""
    return [REGIMENS[c] for c in REGIMEN_CODES if drug in REGIMENS[c].drugs]
