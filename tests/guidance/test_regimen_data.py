"""regimens.py: every section 7 code present, drugs and classes known, evidence as the review gives it."""
from __future__ import annotations

import json
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

# docs/clinical-model.md#regimen-codes.
SECTION_7_CODES = {
    "DRd", "KRd", "IRd", "ERd", "DVd", "DKd", "IsaKd", "DPd", "IsaPd", "EPd", "PVd", "BVd", "BPd", "SVd",
    "Rd", "Pd", "Kd", "Vd", "cilta-cel", "ide-cel", "teclistamab", "elranatamab", "linvoseltamab", "talquetamab",
}
# The trials of the review and the figures it gives for each (source and place in the review
# recorded in the file).
REVIEW_TRIALS = json.loads((Path(__file__).parents[1] / "data" / "review_facts.json").read_text())["trials"]


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


def _trial(name: str) -> str:
    """The review's trial name for an evidence entry ("DREAMM-8 (comparator arm)" -> "DREAMM-8")."""
    return name.split(" (")[0]


@pytest.mark.parametrize("code", sorted(SECTION_7_CODES))
def test_every_figure_is_one_the_review_gives_for_that_trial(code):
    for e in REGIMENS[code].evidence:
        trial = REVIEW_TRIALS.get(_trial(e.trial))
        assert trial is not None, f"{code}: {e.trial} is not a trial of the review (tests/data/review_facts.json)"
        review_numbers = set(re.findall(r"\d+(?:\.\d+)?", " ".join(trial["figures"])))
        for number in re.findall(r"\d+(?:\.\d+)?", e.figures or ""):
            assert number in review_numbers, f"{code}/{e.trial}: {number} is not among the review's figures {trial['figures']}"


def test_trials_without_figures_are_ones_the_review_names_without_figures():
    for r in REGIMENS.values():
        for e in r.evidence:
            if e.figures is None:
                trial = REVIEW_TRIALS[_trial(e.trial)]
                assert trial.get("named_in_review", True), e.trial
                assert trial["figures"] == [], f"{e.trial}: the review gives figures {trial['figures']}"


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
