"""options.py: every filter and ranking rule (sections 5, 6, 7), each with fires / does-not-fire cases."""
from __future__ import annotations

import itertools

import pytest

from myeloma_model.guidance.options import rank_regimens
from myeloma_model.guidance.regimens import FRAIL_DOUBLETS, REGIMENS, STRATEGY_OPTIONS
from myeloma_model.guidance.strategy import advise_strategy
from myeloma_model.thresholds import FRAIL_AGE_OVER, FRAIL_ECOG_MIN
from myeloma_model.fitness import frailty as frailty_of
from tests.guidance.helpers import assessment, codes, drug, len_durable, len_refractory, triple_class_refractory

CELLULAR_OR_BISPECIFIC = {c for c, r in REGIMENS.items() if r.intensity in ("cellular", "bispecific")}


def ranked(a):
    s = advise_strategy(a, "treat-now")["value"]
    regs, excluded, intensity = rank_regimens(a, s)
    return regs, excluded, intensity


def by_code(regs):
    return {r["code"]: r for r in regs}


# --- section 7 pools ---------------------------------------------------------------------------

def test_retreat_offers_drd_krd_ird_first():
    regs, _, _ = ranked(len_durable())
    assert codes(regs)[:3] == ["DRd", "KRd", "IRd"]
    assert all(r["warning"] is None for r in regs)


def test_switch_class_offers_pi_anti_cd38_triplets_first():
    regs, _, _ = ranked(len_refractory())
    assert codes(regs)[:3] == ["DVd", "DKd", "IsaKd"]


def test_novel_mechanism_offers_car_t_and_bispecifics():
    regs, _, _ = ranked(triple_class_refractory())
    assert {"cilta-cel", "ide-cel", "teclistamab", "talquetamab"} <= set(codes(regs))


# --- sections 5/7: refractory drugs ------------------------------------------------------------

def test_regimens_with_a_refractory_drug_are_dropped_without_the_retreatment_signal():
    regs, excluded, _ = ranked(len_refractory())
    assert not [r for r in regs if "lenalidomide" in r["drugs"]]
    dropped = {e["code"]: e["reason"] for e in excluded}
    assert "DRd" in dropped and "lenalidomide" in dropped["DRd"]


def test_refractory_drug_kept_with_a_warning_when_the_retreatment_signal_holds():
    a = assessment(drug("lenalidomide", refractory=True, on=40.0, off=2.0), drug("bortezomib"))
    assert a["drugs"]["lenalidomide"]["retreatmentSignal"]
    regs, _, _ = ranked(a)
    len_regs = [r for r in regs if "lenalidomide" in r["drugs"]]
    assert len_regs, "kept when the signal holds"
    for r in len_regs:
        assert r["warning"] and "refractory to lenalidomide" in r["warning"]
    # ranked after every option without a refractory drug
    first_len = codes(regs).index(len_regs[0]["code"])
    assert all("lenalidomide" not in r["drugs"] for r in regs[:first_len])


@pytest.mark.parametrize("refractory", [
    combo for n in (1, 2, 3) for combo in itertools.combinations(
        ["lenalidomide", "pomalidomide", "bortezomib", "carfilzomib", "daratumumab", "isatuximab"], n)
])
@pytest.mark.parametrize("signal", [False, True])
def test_no_regimen_with_a_refractory_drug_is_ever_offered_without_a_warning(refractory, signal):
    a = assessment(*[drug(d, refractory=True, signal=signal) for d in refractory], prior_lines=3)
    for frail_age in (65, 85):
        a["fitness"]["age"] = frail_age
        a["fitness"]["frailty"] = frailty_of(frail_age, a["fitness"]["ecog"])
        regs, _, _ = ranked(a)
        for r in regs:
            if set(r["drugs"]) & set(refractory):
                assert r["warning"], r["code"]


def test_same_class_drug_gets_a_warning_naming_the_refractory_drug():
    regs, _, _ = ranked(len_refractory())
    dpd = by_code(regs)["DPd"]
    assert dpd["warning"] and "lenalidomide" in dpd["warning"] and "IMiD" in dpd["warning"]
    assert by_code(regs)["DVd"]["warning"] is None


# --- sections 6/7: frailty ----------------------------------------------------------------------

@pytest.mark.parametrize("age,ecog,frail", [
    (70, FRAIL_ECOG_MIN - 1, False), (70, FRAIL_ECOG_MIN, True),
    (FRAIL_AGE_OVER, 1, False), (FRAIL_AGE_OVER + 1, 1, True),
])
def test_frailty_boundaries_for_doublets_first(age, ecog, frail):
    regs, _, intensity = ranked(len_durable(age=age, ecog=ecog))
    first = codes(regs)[0]
    assert (first in FRAIL_DOUBLETS) is frail
    assert intensity["reduced"] is frail


@pytest.mark.parametrize("age,ecog,frail", [
    (70, FRAIL_ECOG_MIN - 1, False), (70, FRAIL_ECOG_MIN, True),
    (FRAIL_AGE_OVER, 1, False), (FRAIL_AGE_OVER + 1, 1, True),
])
def test_frail_patients_never_get_car_t_or_bispecifics(age, ecog, frail):
    regs, excluded, _ = ranked(triple_class_refractory(age=age, ecog=ecog))
    offered = set(codes(regs)) & CELLULAR_OR_BISPECIFIC
    if frail:
        assert not offered
        assert CELLULAR_OR_BISPECIFIC <= {e["code"] for e in excluded}
    else:
        assert offered


def test_frail_triplets_come_after_doublets_with_a_reduced_intensity_warning():
    regs, _, _ = ranked(len_durable(age=84))
    kinds = [r["intensity"] for r in regs]
    assert kinds.index("triplet") > max(i for i, k in enumerate(kinds) if k == "doublet")
    for r in regs:
        if r["intensity"] == "triplet":
            assert "Reduced intensity" in r["warning"]
        else:
            assert r["warning"] is None or "Reduced intensity" not in r["warning"]


def test_frail_doublets_exclude_refractory_drugs_even_with_the_signal():
    a = assessment(drug("lenalidomide", refractory=True, on=40.0, off=1.0), drug("bortezomib"), age=85)
    regs, excluded, _ = ranked(a)
    assert "Rd" not in codes(regs)
    assert any(e["code"] == "Rd" for e in excluded)


# --- section 7: high risk ------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [{"hrc": ["del17p"]}, {"riss": "III"}])
def test_high_risk_puts_anti_cd38_triplets_first_and_brings_novel_options_forward(kw):
    regs, _, _ = ranked(len_durable(**kw))
    c = codes(regs)
    assert c[:4] == ["DRd", "DVd", "DKd", "IsaKd"]
    assert c.index("IsaKd") < c.index("KRd")
    assert {"BVd", "BPd", "SVd"} <= set(c)
    assert "cilta-cel" not in c  # CARTITUDE-4 setting needs lenalidomide-refractory disease


def test_high_risk_brings_cilta_cel_forward_when_its_trial_setting_fits():
    assert "cilta-cel" in codes(ranked(len_refractory(hrc=["t(4;14)"]))[0])


def test_standard_risk_does_not_bring_novel_options_forward():
    c = codes(ranked(len_durable(riss="II"))[0])
    assert not {"BVd", "BPd", "SVd", "cilta-cel"} & set(c)


# --- section 6: comorbidity cautions ---------------------------------------------------------------

def test_cardiac_caution_attaches_to_carfilzomib_regimens_with_a_warning_and_demotes_them():
    regs, _, _ = ranked(len_durable(cautions=["carfilzomib-cardiac"]))
    m = by_code(regs)
    assert m["KRd"]["cautions"] == ["carfilzomib-cardiac"] and "carfilzomib" in m["KRd"]["warning"]
    assert m["DRd"]["cautions"] == [] and m["DRd"]["warning"] is None
    assert codes(regs).index("KRd") > codes(regs).index("ERd")


def test_no_cardiac_caution_without_heart_disease():
    assert by_code(ranked(len_durable())[0])["KRd"]["cautions"] == []


def test_renal_severe_makes_lenalidomide_regimens_carry_a_warning():
    regs, _, _ = ranked(len_durable(cautions=["renal-dose-adjust", "renal-severe"]))
    for r in regs:
        if "lenalidomide" in r["drugs"]:
            assert "renal-severe" in r["cautions"] and "eGFR < 30" in r["warning"]


def test_renal_dose_adjust_alone_is_a_caution_not_a_warning():
    drd = by_code(ranked(len_durable(cautions=["renal-dose-adjust"]))[0])["DRd"]
    assert drd["cautions"] == ["renal-dose-adjust"] and drd["warning"] is None


def test_neuropathy_warns_on_bortezomib_and_cautions_ixazomib():
    regs, _, _ = ranked(len_durable(cautions=["neuropathy"]))
    m = by_code(regs)
    assert "neuropathy" in m["DVd"]["cautions"] and m["DVd"]["warning"]
    assert m["IRd"]["cautions"] == ["neuropathy"] and m["IRd"]["warning"] is None
    assert m["DRd"]["cautions"] == []


def test_vte_caution_attaches_to_imid_regimens_only():
    m = by_code(ranked(len_durable(cautions=["vte-prophylaxis"]))[0])
    assert m["DRd"]["cautions"] == ["vte-prophylaxis"]
    assert m["DVd"]["cautions"] == []


def test_regimen_json_carries_the_contract_fields_and_evidence():
    r = by_code(ranked(len_durable())[0])["KRd"]
    assert r["drugs"] == ["carfilzomib", "lenalidomide", "dexamethasone"]
    assert r["evidence"] == ["ASPIRE"]
    assert r["evidenceDetail"][0]["figures"].startswith("ORR 87.1%")
    assert set(r) >= {"code", "drugs", "cautions", "evidence", "warning"}


def test_every_pool_code_is_a_known_regimen():
    for pool in STRATEGY_OPTIONS.values():
        assert set(pool) <= set(REGIMENS)


# --- section 7: beta-2 microglobulin trend ---------------------------------------------------------

def test_rising_b2m_moves_switch_options_ahead_of_lenalidomide_retreatment():
    c = codes(ranked(len_durable(b2m="rising"))[0])
    assert c[:3] == ["DVd", "DKd", "IsaKd"] and {"DRd", "KRd", "IRd"} <= set(c)


@pytest.mark.parametrize("trend", ["stable", "unknown"])
def test_stable_or_unknown_b2m_keeps_lenalidomide_retreatment_first(trend):
    assert codes(ranked(len_durable(b2m=trend))[0])[:3] == ["DRd", "KRd", "IRd"]


def test_rising_b2m_does_not_override_the_retreatment_signal():
    a = assessment(drug("lenalidomide", on=40.0, off=13.0, last="2023-04-28"), drug("bortezomib"), b2m="rising")
    assert a["drugs"]["lenalidomide"]["retreatmentSignal"]
    assert codes(ranked(a)[0])[:3] == ["DRd", "KRd", "IRd"]
