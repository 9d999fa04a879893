"""regimens.py: every section 7 code present, drugs and classes known, every figure found in the
review's own sentence that the table quotes next to it, eligibility exactly as section 7.1 states it."""
from __future__ import annotations

import re

import pytest

from myeloma_model.drug_classes import DRUG_CLASS
from myeloma_model.guidance.regimens import (
    CAUTION_DRUGS,
    FRAIL_DOUBLETS,
    GOEL_2024,
    GROUP_MEMBERS,
    REGIMEN_CODES,
    REGIMENS,
    T_CELL_TOXICITY,
    WARNING_CAUTIONS,
)

# docs/clinical-model.md#regimen-codes.
SECTION_7_CODES = {
    "DRd", "KRd", "IRd", "ERd", "DVd", "DKd", "IsaKd", "DPd", "IsaPd", "EPd", "PVd", "BVd", "BPd", "SVd",
    "Rd", "Pd", "Kd", "Vd", "cilta-cel", "ide-cel", "teclistamab", "elranatamab", "linvoseltamab", "talquetamab",
}
# Trial names the review itself names (its text, not only its reference list).
NAMED_BY_THE_REVIEW = {
    "POLLUX", "ASPIRE", "TOURMALINE-MM1", "ELOQUENT-2", "ELOQUENT-3", "CASTOR", "CANDOR", "IKEMA", "ICARIA-MM",
    "APOLLO", "OPTIMISMM", "DREAMM-7", "DREAMM-8", "BOSTON", "MM-009 and MM-010", "ENDEAVOR", "APEX",
    "CARTITUDE-4", "KarMMa-3", "MajesTEC-1",
}


def test_every_section_7_code_has_an_entry_and_one_group():
    assert set(REGIMENS) == SECTION_7_CODES == set(REGIMEN_CODES)
    grouped = [c for members in GROUP_MEMBERS.values() for c in members]
    assert sorted(grouped) == sorted(SECTION_7_CODES)


def test_groups_in_the_order_of_section_7_2():
    assert GROUP_MEMBERS["lenalidomide-triplets"] == ("DRd", "KRd", "IRd", "ERd")
    assert GROUP_MEMBERS["pi-anti-cd38-triplets"] == ("DVd", "DKd", "IsaKd")
    assert GROUP_MEMBERS["pomalidomide-based"] == ("DPd", "IsaPd", "EPd", "PVd")
    assert GROUP_MEMBERS["novel-mechanisms"] == ("cilta-cel", "ide-cel", "teclistamab", "elranatamab",
                                                 "linvoseltamab", "talquetamab", "SVd", "BVd", "BPd")
    assert FRAIL_DOUBLETS == ("Rd", "Pd", "Kd", "Vd")


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


def _numbers(text: str | None) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?", text or "")


@pytest.mark.parametrize("code", sorted(SECTION_7_CODES))
def test_every_figure_is_in_the_quoted_sentence_of_the_review(code):
    r = REGIMENS[code]
    assert r.evidence
    for e in r.evidence:
        assert e.quote
        for n in _numbers(e.figures):
            assert n in e.quote, f"{code}/{e.trial}: {n} not in the quoted sentence"


@pytest.mark.parametrize("code", sorted(SECTION_7_CODES))
def test_only_trials_the_review_names_are_named(code):
    for e in REGIMENS[code].evidence:
        assert e.trial is None or e.trial in NAMED_BY_THE_REVIEW, e.trial


def test_figures_the_review_does_not_attribute_are_gone():
    rd = REGIMENS["Rd"]
    mm = [e for e in rd.evidence if e.trial == "MM-009 and MM-010"]
    assert mm and mm[0].figures is None  # the review gives no ORR for MM-009/MM-010
    assert not any(e.trial in ("MM-003", "MagnetisMM-3", "LINKER-MM1", "MonumenTAL-1")
                   for r in REGIMENS.values() for e in r.evidence)


def test_toxicity_and_goel_figures_are_in_their_quotes():
    for e in (*T_CELL_TOXICITY, GOEL_2024):
        for n in _numbers(e.figures):
            assert n in e.quote
    text = " ".join(e.figures for e in T_CELL_TOXICITY)
    for figure in ("99%", "88%", "15%", "58%", "28%", "76.4%", "13%", "2.13", "4 g/L"):
        assert figure in text


@pytest.mark.parametrize("code,min_lines,max_lines,tce,len_exposed", [
    ("IsaPd", 2, None, False, False), ("IsaKd", 1, 3, False, False), ("ide-cel", 2, 4, True, False),
    ("cilta-cel", None, None, True, False), ("teclistamab", None, None, True, False),
    ("elranatamab", None, None, True, False), ("linvoseltamab", None, None, True, False),
    ("talquetamab", None, None, True, False), ("BPd", 1, None, False, True), ("BVd", 1, None, False, False),
    ("DRd", None, None, False, False), ("SVd", None, None, False, False), ("DPd", None, None, False, False),
])
def test_eligibility_is_section_7_1(code, min_lines, max_lines, tce, len_exposed):
    el = REGIMENS[code].eligibility
    assert (el.min_prior_lines, el.max_prior_lines, el.triple_class_exposed, el.lenalidomide_exposed) == (
        min_lines, max_lines, tce, len_exposed)


def test_caution_codes_are_section_6_codes_on_known_drugs():
    assert set(CAUTION_DRUGS) == {"carfilzomib-cardiac", "neuropathy", "renal-dose-adjust", "renal-severe",
                                  "vte-prophylaxis"}
    for drugs in CAUTION_DRUGS.values():
        assert drugs <= set(DRUG_CLASS)
    assert WARNING_CAUTIONS == {"renal-severe", "carfilzomib-cardiac"}
