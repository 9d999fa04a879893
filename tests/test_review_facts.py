"""The numbers the model takes from the review are the review's numbers.

The review's figures are stated in tests/data/review_facts.json with where the review gives
them; the code's values come from myeloma_model (thresholds and regimen data). Unit changes
are written out (the review gives the FLC rise in mg/dL, the model works in mg/L).
"""
from __future__ import annotations

import json
from pathlib import Path

from myeloma_model import thresholds as t
from myeloma_model.guidance.regimens import REGIMENS

FACTS = json.loads((Path(__file__).parent / "data" / "review_facts.json").read_text(encoding="utf-8"))
MG_L_PER_MG_DL = 10


def test_refractoriness_and_penta_definitions():
    d = FACTS["definitions"]
    assert t.REFRACTORY_WINDOW_DAYS == d["refractory_window_days"] == 60
    assert (t.PENTA_MIN_PI, t.PENTA_MIN_IMID, t.PENTA_MIN_ANTI_CD38) == (
        d["penta_refractory"]["PI"], d["penta_refractory"]["IMiD"], d["penta_refractory"]["anti-CD38"])


def test_significant_paraprotein_relapse_is_the_reviews_biochemical_relapse():
    d = FACTS["definitions"]
    assert t.SPR_DOUBLING_MIN_NADIR_G_L == d["biochemical_relapse_doubling_min_baseline_g_l"]
    assert t.SPR_SERUM_ABSOLUTE_RISE_G_L == d["biochemical_relapse_serum_rise_g_l"]
    assert t.SPR_URINE_ABSOLUTE_RISE_MG_24H == d["biochemical_relapse_urine_rise_mg_24h"]
    assert t.SPR_FLC_ABSOLUTE_RISE_MG_L == d["biochemical_relapse_flc_rise_mg_dl"] * MG_L_PER_MG_DL
    assert t.SPR_FLC_RELATIVE_RISE == d["biochemical_relapse_flc_rise_relative"]


def test_retreatment_signal_is_goel_2024_as_the_review_reports_it():
    s = FACTS["retreatment_signal"]
    assert t.RETREAT_MONTHS_ON_DRUG == s["months_on_drug_over"] == 28.4
    assert t.RETREAT_MONTHS_SINCE_LAST_DOSE == s["months_since_last_dose_over"] == 46.1


def test_ivig_threshold():
    assert t.IVIG_IGG_G_L == FACTS["ivig"]["igg_below_g_l"] == 4


def test_isatuximab_and_ide_cel_line_settings_are_the_reviews():
    isa = FACTS["isatuximab_lines"]
    assert REGIMENS["IsaPd"].eligibility.min_prior_lines == isa["with_pomalidomide_min_prior"] == 2
    ks = REGIMENS["IsaKd"].eligibility
    assert [ks.min_prior_lines, ks.max_prior_lines] == isa["with_carfilzomib_prior"] == [1, 3]
    ide = REGIMENS["ide-cel"].eligibility
    assert "2-4 prior lines" in " ".join(FACTS["trials"]["KarMMa-3"]["figures"])
    assert (ide.min_prior_lines, ide.max_prior_lines) == (2, 4)


def test_every_regimen_trial_is_one_the_review_discusses():
    trials = FACTS["trials"]
    for code, regimen in REGIMENS.items():
        for e in regimen.evidence:
            if e.trial is None:  # a figure the review gives without naming a trial
                continue
            assert e.trial.split(" (")[0] in trials, f"{code}: {e.trial}"
