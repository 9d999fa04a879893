"""regimens.py: every section 7 code present, drugs and classes known, evidence as the review gives it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from myeloma_model.drug_classes import DRUG_CLASS
from myeloma_model.guidance.regimens import (
    CAUTION_DRUGS,
    FRAIL_DOUBLETS,
    REGIMEN_CODES,
    REGIMENS,
    STRATEGY_OPTIONS,
    WARNING_CAUTIONS,
)

# clinical-rules.md section 7, "Regimen codes used in output".
SECTION_7_CODES = {
    "DRd", "KRd", "IRd", "ERd", "DVd", "DKd", "IsaKd", "DPd", "IsaPd", "EPd", "PVd", "BVd", "BPd", "SVd",
    "Rd", "Pd", "Kd", "Vd", "cilta-cel", "ide-cel", "teclistamab", "elranatamab", "linvoseltamab", "talquetamab",
}
REVIEW = Path("/work/shared/seed/000_b0f44658c455d8f3.txt")


def test_every_section_7_code_has_an_entry():
    assert set(REGIMENS) == SECTION_7_CODES == set(REGIMEN_CODES)


@pytest.mark.parametrize("code", sorted(SECTION_7_CODES))
def test_drugs_are_contract_keys_and_intensity_matches_the_drugs(code):
    r = REGIMENS[code]
    assert all(d in DRUG_CLASS for d in r.drugs)
    classes = set(r.classes)
    if "BCMA-CAR-T" in classes:
        assert r.intensity == "cellular"
    elif classes & {"BCMA-bispecific", "GPRC5D-bispecific"}:
        assert r.intensity == "bispecific"
    else:
        non_steroid = [d for d in r.drugs if DRUG_CLASS[d] != "corticosteroid"]
        assert r.intensity == {1: "doublet", 2: "triplet"}[len(non_steroid)]


@pytest.mark.parametrize("code", sorted(SECTION_7_CODES))
def test_each_regimen_cites_a_trial_and_figures_or_says_why_not(code):
    r = REGIMENS[code]
    assert r.evidence
    for e in r.evidence:
        assert e.trial
        assert e.figures or e.note, "no figures must come with a note saying so"


@pytest.mark.skipif(not REVIEW.exists(), reason="the review text is not available here")
@pytest.mark.parametrize("code", sorted(SECTION_7_CODES))
def test_every_figure_appears_in_the_review(code):
    text = REVIEW.read_text(encoding="utf-8")
    for e in REGIMENS[code].evidence:
        for number in re.findall(r"\d+(?:\.\d+)?", e.figures or ""):
            assert number in text, f"{code}/{e.trial}: {number} not in the review"


@pytest.mark.skipif(not REVIEW.exists(), reason="the review text is not available here")
def test_trials_without_figures_are_named_in_the_review():
    text = REVIEW.read_text(encoding="utf-8").lower()
    for r in REGIMENS.values():
        for e in r.evidence:
            if e.figures is None:
                assert e.trial.lower() in text, e.trial


def test_line_settings_are_consistent():
    for r in REGIMENS.values():
        ls = r.line_setting
        assert ls.min_prior_lines >= 1
        assert ls.max_prior_lines is None or ls.max_prior_lines >= ls.min_prior_lines
        assert ls.source in ("review", "trial")


def test_strategy_pools_and_doublets_reference_known_regimens():
    for pool in STRATEGY_OPTIONS.values():
        assert set(pool) <= set(REGIMENS)
    assert all(REGIMENS[c].intensity == "doublet" for c in FRAIL_DOUBLETS)
    assert {"DRd", "KRd", "IRd"} <= set(STRATEGY_OPTIONS["retreat-same-class"])
    assert STRATEGY_OPTIONS["switch-class"][:3] == ("DVd", "DKd", "IsaKd")


def test_caution_codes_are_section_6_codes_on_known_drugs():
    assert set(CAUTION_DRUGS) == {"carfilzomib-cardiac", "neuropathy", "renal-dose-adjust", "renal-severe",
                                  "vte-prophylaxis"}
    for drugs in list(CAUTION_DRUGS.values()) + list(WARNING_CAUTIONS.values()):
        assert drugs <= set(DRUG_CLASS)
    for code, drugs in WARNING_CAUTIONS.items():
        assert drugs <= CAUTION_DRUGS[code]
