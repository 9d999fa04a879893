"""The contract's `regimens[].warning`: the model gives codes and values (`RegimenWarning`), the
card layer words them (cds_service/cards/contract_words.py). Each code gives its sentence, with
the literal numbers of docs/clinical-model.md#retreatment-signal; the model alone gives codes."""
from __future__ import annotations

from cds_service.cards.contract_words import CONTRACT_WORDS, assessment_json
from myeloma_model.contract import CODE_WORDS, RegimenWarning, RetreatmentKept, to_json

GOEL = ("(Goel et al. 2024, a retrospective study: median PFS on retreatment 16.9 vs 8.1 months after > 28.4 "
        "months on the drug; 28.2 vs 8.9 months after > 46.1 months since it).")


def kept(on=None, off=None, on_over=None, off_over=None, drug="lenalidomide"):
    return RetreatmentKept(drug, on, off, on_over, off_over)


def test_retreatment_on_drug_threshold():
    w = RegimenWarning(retreatment=(kept(40.0, 2.0, 28.4, None),))
    assert CONTRACT_WORDS.regimen_warning(w) == (
        "The disease is refractory to lenalidomide (40.0 months on lenalidomide > 28.4); kept only because the "
        "retreatment signal holds " + GOEL)


def test_retreatment_both_thresholds_and_two_drugs():
    w = RegimenWarning(retreatment=(kept(30.04, 50.0, 28.4, 46.1), kept(10.0, 47.26, None, 46.1, drug="bortezomib")))
    assert CONTRACT_WORDS.regimen_warning(w) == (
        "The disease is refractory to lenalidomide (30.0 months on lenalidomide > 28.4; 50.0 months since its last "
        "dose > 46.1), bortezomib (47.3 months since its last dose > 46.1); kept only because the retreatment "
        "signal holds " + GOEL)


def test_warning_level_cautions():
    assert CONTRACT_WORDS.regimen_warning(RegimenWarning(cautions=("carfilzomib-cardiac", "renal-severe"))) == (
        "Caution: heart failure or cardiomyopathy (carfilzomib cardiotoxicity); eGFR below 30 (lenalidomide / "
        "pomalidomide need a major dose reduction).")


def test_reduced_intensity():
    assert CONTRACT_WORDS.regimen_warning(RegimenWarning(reduced_intensity=True)) == (
        "Reduced intensity: the patient is frail; doublets first, then this regimen at reduced dose or schedule.")


def test_sentences_join_in_order():
    w = RegimenWarning(retreatment=(kept(40.0, 2.0, 28.4, None),), cautions=("renal-severe",), reduced_intensity=True)
    text = CONTRACT_WORDS.regimen_warning(w)
    assert text.index("The disease is refractory") < text.index("Caution: eGFR below 30") < text.index(
        "Reduced intensity")


def test_json_edge_words_the_warning_and_the_model_alone_gives_codes():
    w = {"warning": RegimenWarning(cautions=("renal-severe",), reduced_intensity=True)}
    assert assessment_json(w)["warning"].startswith("Caution: eGFR below 30")
    assert to_json(w)["warning"] == to_json(w, CODE_WORDS)["warning"] == "caution renal-severe; reduced-intensity"
    assert assessment_json({"warning": None}) == {"warning": None}


# --- the model's data gaps: each code gives its `dataGaps` sentence -------------------------------

def test_each_data_gap_code_gives_its_sentence():
    from datetime import date

    from cds_service.cards.contract_words import DATA_GAP_TEXT, gap_text
    from myeloma_model.contract import data_gap

    cases = {
        data_gap("cr-not-confirmed-no-immunofixation", line=1): "line 1: CR not confirmed: no immunofixation",
        data_gap("cr-without-marrow-assessment", line=2): "line 2: CR without marrow assessment",
        data_gap("stale-active-medication", drug="lenalidomide", lastSeen=date(2021, 9, 6), days=365):
            "lenalidomide: recorded as active, but the latest evidence is from 2021-09-06 (more than 365 days "
            "before the as-of date); whether it is still taken is not known",
        data_gap("drug-not-classed", drug="iberdomide"):
            "drug 'iberdomide' is not in the model's drug-class table; not assessed",
        data_gap("exposure-undated", drug="bortezomib"):
            "bortezomib: exposure without dates; time on drug and refractoriness unknown",
        data_gap("staging-no-result", analyte="ldh"): "staging: no ldh result on record",
        data_gap("staging-outside-window", analyte="b2m", windowDays=90, used=date(2024, 3, 1)):
            "staging: no b2m result within 90 days of the diagnosis date; the latest (2024-03-01) was used "
            "(staging at relapse)",
    }
    assert {g.code for g in cases} == set(DATA_GAP_TEXT)
    for gap, text in cases.items():
        assert gap_text(gap) == text == CONTRACT_WORDS.data_gap(gap)
        assert assessment_json({"dataGaps": [gap, "a mapping note"]}) == {"dataGaps": [text, "a mapping note"]}
    assert to_json([data_gap("drug-not-classed", drug="x")]) == ["drug-not-classed drug=x"]  # the model alone
