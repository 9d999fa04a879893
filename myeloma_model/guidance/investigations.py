"""Before starting treatment (docs/clinical-model.md#investigations; the review's Table 1).

For the regimens offered, the baseline investigations that are missing or stale: labs older
than 30 days, imaging, echo and marrow older than 90 days, serologies and blood group ever;
the SPEP and FLC results that established the relapse stay current for 60 days; serum IgG
before a CAR-T or bispecific (section 9). ECOG and the neuropathy examination are clinical
assessments (`assessment` True: listed for the visit, never drafted as orders); the rules do
not date them, so they are treated like labs (30 days).

Output is codes and values only (`contract.MissingInvestigation`, `TestStatus`): the card layer
words them (the order hooks' prerequisite findings too). `label` and `reason` on a Test record the
Table 1 row the test comes from; no output carries them.

Evidence that a test was done: `record.investigations` (InvestigationRecord by code) and the
lab series the mapping already reads (e.g. a haemoglobin result is a full blood count).
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date

from myeloma_model.contract import MissingInvestigation, TestStatus
from myeloma_model.drug_classes import (
    IMMUNOTHERAPY_CLASSES,
    T_CELL_REDIRECTING_CLASSES,
    drug_class,
)
from myeloma_model.records import PatientRecord
from myeloma_model.thresholds import (
    RELAPSE_MARKERS_CURRENT_DAYS,
    STALE_IMAGING_DAYS,
    STALE_LAB_DAYS,
)

LAB, CLINICAL, IMAGING, EVER = "lab", "clinical", "imaging", "ever"
MAX_AGE_DAYS: dict[str, int | None] = {LAB: STALE_LAB_DAYS, CLINICAL: STALE_LAB_DAYS, IMAGING: STALE_IMAGING_DAYS, EVER: None}
# The markers whose results established the relapse count as current for longer (section 8).
RELAPSE_MARKER_TESTS = frozenset({"spep", "sflc"})


@dataclass(frozen=True)
class Test:
    code: str
    label: str
    category: str
    reason: str  # Table 1's purpose / consideration
    analytes: tuple[tuple[str, ...], ...] = ()  # any-of groups; all groups needed (b2m AND albumin)
    drugs: frozenset[str] = frozenset()  # needed before these drugs ...
    classes: frozenset[str] = frozenset()  # ... or drugs of these classes; both empty = always

    @property
    def assessment(self) -> bool:
        """A clinical assessment for the visit (ECOG, neuropathy examination), never an order."""
        return self.category == CLINICAL


TESTS: tuple[Test, ...] = (
    Test("ecog", "ECOG performance status", CLINICAL,
         "Functional status guides treatment intensity; frail patients may be better suited to doublets (Rd, Pd)."),
    Test("fbc", "Full blood count", LAB,
         "Anaemia, thrombocytopenia and other cytopenias (common with lenalidomide, pomalidomide, bortezomib).",
         (("haemoglobin", "platelets"),)),
    Test("spep", "Serum protein electrophoresis", LAB,
         "Baseline M-protein to measure response to relapse treatment.", (("serum_m_protein",),)),
    Test("sflc", "Serum free light chains", LAB,
         "Baseline free light chains (essential in light-chain or non-secretory disease).",
         (("kappa_flc", "lambda_flc"),)),
    Test("renal-profile", "Renal profile (urea, creatinine, eGFR)", LAB,
         "IMiDs are renally excreted: lenalidomide and pomalidomide need dose adjustment.",
         (("creatinine", "egfr"),)),
    Test("b2m-albumin", "Beta-2 microglobulin and albumin", LAB,
         "Prognosis and ISS staging; high levels influence treatment intensity.", (("b2m",), ("albumin",))),
    Test("coagulation", "PT and aPTT", LAB,
         "Clotting function and VTE risk before IMiDs, which may need anticoagulation.",
         classes=frozenset({"IMiD"})),
    Test("blood-group", "Blood group and antibody screen", EVER,
         "Daratumumab and isatuximab interfere with blood compatibility testing: type before the first dose.",
         classes=frozenset({"anti-CD38"})),
    Test("urine-24h-protein", "24-hour urine protein", LAB,
         "Bence Jones proteinuria and baseline renal function; a disease-burden marker.", (("urine_m_protein",),)),
    Test("marrow-biopsy-fish", "Bone marrow aspirate and biopsy with FISH", IMAGING,
         "Marrow infiltration and high-risk cytogenetics (del(17p), t(4;14), t(14;16), 1q) guide the choice.",
         (("marrow_plasma_cells",),)),
    Test("pet-ct", "PET-CT", IMAGING,
         "Extramedullary disease and response assessment; crucial before CAR-T or bispecific antibodies.",
         classes=T_CELL_REDIRECTING_CLASSES),
    Test("hbv-hcv-hiv", "Hepatitis B, hepatitis C and HIV serology", EVER,
         "Reactivation risk under immunotherapy (anti-CD38 antibodies need hepatitis B prophylaxis).",
         classes=IMMUNOTHERAPY_CLASSES),
    Test("cmv-ebv", "CMV and EBV serology", EVER,
         "Viral reactivation risk with CAR-T and bispecific antibodies.", classes=T_CELL_REDIRECTING_CLASSES),
    Test("echocardiogram", "Echocardiogram", IMAGING,
         "Baseline cardiac function: carfilzomib is associated with cardiotoxicity.",
         drugs=frozenset({"carfilzomib"})),
    Test("neuropathy-assessment", "Baseline neuropathy examination", CLINICAL,
         "Bortezomib, thalidomide and ixazomib cause peripheral neuropathy.",
         drugs=frozenset({"bortezomib", "thalidomide", "ixazomib"})),
    Test("igg", "Serum IgG", LAB,
         "Baseline immunoglobulin before T-cell redirecting therapy: IVIG when IgG < 4 g/L or infections recur.",
         (("igg",),), classes=T_CELL_REDIRECTING_CLASSES),
)


def needed_for(test: Test, drugs: list[str] | tuple[str, ...]) -> list[str]:
    """The drugs (of those given) that need this test; every drug for a baseline test."""
    if not test.drugs and not test.classes:
        return list(drugs)
    return [d for d in drugs if d in test.drugs or drug_class(d) in test.classes]


def _latest_on_or_before(series, as_of: date) -> date | None:
    """Latest result date <= as_of in a series sorted by date (records.PatientRecord.labs)."""
    i = bisect.bisect_right(series, as_of, key=lambda r: r.when)
    return series[i - 1].when if i else None


def investigation_dates(record: PatientRecord, as_of: date) -> tuple[dict[str, date], set[str]]:
    """(latest date on or before as_of per investigation code, codes recorded without a date):
    one pass over the record's investigations (thousands for a patient with years of labs)
    instead of one per test."""
    latest: dict[str, date] = {}
    undated: set[str] = set()
    for i in record.investigations:
        if i.when is None:
            undated.add(i.code)
        elif i.when <= as_of and (i.code not in latest or i.when > latest[i.code]):
            latest[i.code] = i.when
    return latest, undated


def last_done(test: Test, record: PatientRecord, as_of: date,
              dates_index: tuple[dict[str, date], set[str]] | None = None) -> date | None:
    """Date of the most recent evidence for the test on or before as_of (None: never).
    `dates_index` is `investigation_dates(record, as_of)` when the caller has it."""
    latest, undated = dates_index or investigation_dates(record, as_of)
    dates = [latest[test.code]] if test.code in latest else []
    if test.code == "ecog":
        dates += [e.when for e in record.ecog if e.when <= as_of]
    if test.code == "marrow-biopsy-fish":
        dates += [c.when for c in record.cytogenetics if c.when and c.when <= as_of]
    if test.analytes:
        group_dates = []
        for group in test.analytes:
            ds = [d for d in (_latest_on_or_before(record.series(a), as_of) for a in group) if d]
            group_dates.append(max(ds) if ds else None)
        if all(group_dates):
            dates.append(min(group_dates))  # every part must have been done
    if test.category == EVER and test.code in undated:
        return date.min  # done, date unknown: enough for "ever"
    return max(dates) if dates else None


def max_age_days(test: Test, when: date | None = None, relapse_date: date | None = None) -> int | None:
    """How old the test may be (None: ever). An SPEP or FLC result on or after the relapse
    date is one of the results that established the relapse: current for 60 days."""
    if test.code in RELAPSE_MARKER_TESTS and relapse_date and when and when >= relapse_date:
        return RELAPSE_MARKERS_CURRENT_DAYS
    return MAX_AGE_DAYS[test.category]


def check(test: Test, record: PatientRecord, as_of: date, relapse_date: date | None = None,
          dates_index: tuple[dict[str, date], set[str]] | None = None) -> tuple[str | None, date | None]:
    """(status, last date): status None when up to date, else "missing" or "stale"."""
    when = last_done(test, record, as_of, dates_index)
    if when is None:
        return "missing", None
    limit = max_age_days(test, when, relapse_date)
    if limit is not None and (as_of - when).days > limit:
        return "stale", when
    return None, (None if when == date.min else when)


def check_all(record: PatientRecord, as_of: date,
              relapse_date: date | None = None) -> dict[str, tuple[str | None, date | None]]:
    """`check` of every Table 1 test, once per assessment (options and order hooks read it)."""
    index = investigation_dates(record, as_of)
    return {t.code: check(t, record, as_of, relapse_date, index) for t in TESTS}


def missing_investigations(drugs: list[str], record: PatientRecord, as_of: date,
                           regimens_by_drug: dict[str, list[str]] | None = None,
                           checked: dict[str, tuple[str | None, date | None]] | None = None,
                           relapse_date: date | None = None) -> list[MissingInvestigation]:
    """Table 1 tests needed before these drugs that are missing or stale, in Table 1 order."""
    if not drugs:
        return []
    out = []
    for test in TESTS:
        for_drugs = needed_for(test, drugs)
        if not for_drugs:
            continue
        status, when = checked[test.code] if checked is not None else check(test, record, as_of, relapse_date)
        if status is None:
            continue
        regs: list[str] = []
        if regimens_by_drug and (test.drugs or test.classes):
            for d in for_drugs:
                for code in regimens_by_drug.get(d, []):
                    if code not in regs:
                        regs.append(code)
        out.append(MissingInvestigation(
            code=test.code,
            status=status,
            last_done=when if when and when != date.min else None,
            max_age_days=max_age_days(test, when, relapse_date),
            assessment=test.assessment,
            for_drugs=() if not (test.drugs or test.classes) else tuple(for_drugs),
            for_regimens=tuple(regs),
        ))
    return out


def drug_prerequisites(drug: str) -> list[Test]:
    """The drug-specific Table 1 tests (baseline tests excluded) for one drug: the order hooks."""
    return [t for t in TESTS if (t.drugs or t.classes) and needed_for(t, [drug])]


def investigation_status(checked: dict[str, tuple[str | None, date | None]]) -> dict[str, TestStatus]:
    """Every Table 1 test (from `check_all`): current, missing or stale, and when last done; the
    order hooks read this."""
    return {code: TestStatus(status or "current", when) for code, (status, when) in checked.items()}
