"""options.py: eligibility (7.1), ranking (7.2) and the notes of section 9, each rule on both sides
of its condition with the numbers of docs/clinical-model.md written out."""
from __future__ import annotations

from cds_service.cards.contract_words import assessment_json
import itertools

import pytest

from myeloma_model.contract import from_json
from myeloma_model.guidance.options import rank_regimens
from myeloma_model.guidance.regimens import REGIMENS
from myeloma_model.guidance.strategy import advise_strategy
from tests.guidance.helpers import assessment, codes, drug, len_durable, len_refractory, triple_class_refractory

T_CELL = {"cilta-cel", "ide-cel", "teclistamab", "elranatamab", "linvoseltamab", "talquetamab"}
DOUBLETS = {"Rd", "Pd", "Kd", "Vd"}


def ranked(a):
    """(regimens, notOffered, reduced intensity) in the contract's JSON form, as the service sends it."""
    s = advise_strategy(from_json(a), "treat-now").value
    regs, not_offered, reduced = rank_regimens(from_json(a), s)
    return assessment_json(regs), assessment_json(not_offered), {"reduced": reduced}


def offered(a) -> list[str]:
    return codes(ranked(a)[0])


def reasons(a) -> dict[str, str]:
    return {n["code"]: n["reason"] for n in ranked(a)[1]}


def by_code(regs):
    return {r["code"]: r for r in regs}


def tce(**kw):
    """Triple-class exposed, nothing refractory (lenalidomide stopped long ago)."""
    kw.setdefault("prior_lines", 3)
    return assessment(drug("lenalidomide", on=20.0, off=30.0), drug("bortezomib", on=6.0, off=40.0),
                      drug("daratumumab", on=10.0, off=20.0), **kw)


# --- 7.1 eligibility -----------------------------------------------------------------------------

@pytest.mark.parametrize("lines,ok", [(1, False), (2, True)])
def test_isapd_needs_two_prior_lines(lines, ok):
    a = len_refractory(prior_lines=lines)
    assert ("IsaPd" in offered(a)) is ok
    assert (reasons(a).get("IsaPd") == "prior-lines") is (not ok)


@pytest.mark.parametrize("lines,ok", [(1, True), (3, True), (4, False)])
def test_isakd_one_to_three_prior_lines(lines, ok):
    a = len_refractory(prior_lines=lines)
    assert ("IsaKd" in offered(a)) is ok
    assert (reasons(a).get("IsaKd") == "prior-lines") is (not ok)


@pytest.mark.parametrize("lines,ok", [(1, False), (2, True), (4, True), (5, False)])
def test_ide_cel_triple_class_exposed_with_two_to_four_prior_lines(lines, ok):
    a = tce(prior_lines=lines)
    assert a["tripleClassExposed"]
    assert ("ide-cel" in offered(a)) is ok
    assert (reasons(a).get("ide-cel") == "prior-lines") is (not ok)


@pytest.mark.parametrize("exposed", [True, False])
def test_car_t_and_bispecifics_need_triple_class_exposure(exposed):
    a = tce() if exposed else len_durable(prior_lines=3)
    got = set(offered(a)) & T_CELL
    if exposed:
        assert got == T_CELL
    else:
        assert not got
        assert all(reasons(a)[c] == "not-triple-class-exposed" for c in T_CELL)


@pytest.mark.parametrize("age,ecog,ok", [(70, 2, True), (70, 3, False), (80, 1, True), (81, 1, False)])
def test_no_car_t_or_bispecific_for_frail_patients_or_ecog_above_2(age, ecog, ok):
    a = tce(age=age, ecog=ecog)
    assert bool(set(offered(a)) & T_CELL) is ok
    if not ok:
        assert all(reasons(a)[c] == "frailty" for c in T_CELL)


def test_frailty_is_named_before_missing_triple_class_exposure():
    assert reasons(len_durable(age=85, prior_lines=3))["teclistamab"] == "frailty"


@pytest.mark.parametrize("len_exposed", [True, False])
def test_bpd_needs_lenalidomide_exposure(len_exposed):
    if len_exposed:
        a = len_durable()
    else:
        a = assessment(drug("bortezomib", refractory=True, on=6.0, off=2.0))
    assert ("BPd" in offered(a)) is len_exposed
    assert (reasons(a).get("BPd") == "not-lenalidomide-exposed") is (not len_exposed)


@pytest.mark.parametrize("lines,ok", [(0, False), (1, True)])
def test_bvd_needs_one_prior_line(lines, ok):
    assert ("BVd" in offered(len_durable(prior_lines=lines))) is ok


# --- sections 5 and 7: refractory drugs ------------------------------------------------------------

def test_regimen_with_a_drug_the_disease_progressed_on_is_not_offered_at_all():
    a = len_refractory()
    assert a["drugs"]["lenalidomide"]["activeAtRelapse"] is True
    assert not [c for c in offered(a) if "lenalidomide" in REGIMENS[c].drugs]
    dropped = {n["code"]: n for n in ranked(a)[1]}
    for c in ("DRd", "KRd", "IRd", "ERd"):
        assert dropped[c]["reason"] == "refractory" and dropped[c]["drugs"] == ["lenalidomide"]


def test_drug_stopped_before_the_relapse_with_the_signal_is_kept_with_a_goel_warning():
    a = assessment(drug("lenalidomide", refractory=True, on=40.0, off=2.0, at_relapse=False), drug("bortezomib"))
    assert a["drugs"]["lenalidomide"]["retreatmentSignal"]
    regs = ranked(a)[0]
    drd = by_code(regs)["DRd"]
    assert "Goel" in drd["warning"] and "16.9 vs 8.1" in drd["warning"] and "retrospective" in drd["warning"]
    assert drd["retreatmentSignalDrugs"] == ["lenalidomide"]


@pytest.mark.parametrize("refractory", [
    combo for n in (1, 2, 3) for combo in itertools.combinations(
        ["lenalidomide", "pomalidomide", "bortezomib", "carfilzomib", "daratumumab", "isatuximab"], n)
])
@pytest.mark.parametrize("age", [65, 78, 85])
def test_no_regimen_with_a_drug_running_at_the_relapse_is_ever_offered(refractory, age):
    """Done-when: a drug the disease progressed on while taking it, however long it ran (40 months)."""
    a = assessment(*[drug(d, refractory=True, active=True, on=40.0) for d in refractory], prior_lines=3, age=age)
    for r in ranked(a)[0]:
        assert not set(r["drugs"]) & set(refractory), r["code"]


# --- 7.2 ranking ----------------------------------------------------------------------------------

def test_retreat_order_is_lenalidomide_triplets_then_pi_then_pomalidomide_then_novel():
    c = offered(len_durable())
    assert c[:4] == ["DRd", "KRd", "IRd", "ERd"]
    assert c[4:7] == ["DVd", "DKd", "IsaKd"]
    assert c.index("DPd") < c.index("SVd")


def test_switch_class_order_puts_pi_anti_cd38_first_then_pomalidomide_then_novel():
    c = offered(len_refractory(prior_lines=2))
    assert c[:3] == ["DVd", "DKd", "IsaKd"]
    assert c[3:7] == ["DPd", "IsaPd", "EPd", "PVd"]
    assert c[7:] == ["SVd", "BVd", "BPd"]


def test_high_risk_switch_class_moves_novel_mechanisms_ahead_of_pomalidomide():
    c = offered(len_refractory(prior_lines=2, hrc=["del17p"]))
    assert c[:3] == ["DVd", "DKd", "IsaKd"]
    assert c.index("SVd") < c.index("DPd")


def test_novel_mechanism_puts_new_mechanisms_first():
    c = offered(triple_class_refractory(prior_lines=3))
    assert c[0] == "cilta-cel" and set(c[:6]) == T_CELL


@pytest.mark.parametrize("kw,first", [({}, ["DRd", "KRd", "IRd"]), ({"riss": "III"}, ["DRd", "KRd", "IRd"])])
def test_high_risk_anti_cd38_first_within_the_group(kw, first):
    assert offered(len_durable(**kw))[:3] == first


def test_high_risk_anti_cd38_first_reorders_the_pomalidomide_group():
    a = len_refractory(prior_lines=2, hrc=["t(4;14)"], cautions=[])
    c = offered(a)
    pom = [x for x in c if x in ("DPd", "IsaPd", "EPd", "PVd")]
    assert pom == ["DPd", "IsaPd", "EPd", "PVd"]  # anti-CD38 (DPd, IsaPd) ahead of EPd, PVd
    c2 = offered(triple_class_refractory(prior_lines=3, hrc=["del17p"], age=85))
    assert "SVd" in c2  # frail: no CAR-T, but the other novel options stay


def test_a_caution_moves_a_regimen_down_within_its_group():
    c = offered(len_durable(cautions=["neuropathy"]))
    assert c[:4] == ["DRd", "KRd", "ERd", "IRd"]  # ixazomib: neuropathy caution
    assert c[4:7] == ["DKd", "IsaKd", "DVd"]  # bortezomib: neuropathy caution


def test_a_warning_level_caution_ranks_below_a_plain_caution():
    # heart failure (warning level) on carfilzomib, neuropathy (caution) on ixazomib
    c = offered(len_durable(cautions=["carfilzomib-cardiac", "neuropathy"]))
    assert c[:4] == ["DRd", "ERd", "IRd", "KRd"]
    regs = by_code(ranked(len_durable(cautions=["carfilzomib-cardiac", "neuropathy"]))[0])
    assert regs["KRd"]["cautionLevel"] == 2 and regs["IRd"]["cautionLevel"] == 1 and regs["DRd"]["cautionLevel"] == 0
    assert regs["KRd"]["warning"] and regs["IRd"]["warning"] is None


def test_heart_failure_neuropathy_and_ckd4_do_not_put_krd_second():
    c = offered(len_durable(cautions=["carfilzomib-cardiac", "neuropathy", "renal-dose-adjust", "renal-severe"]))
    assert c[:4] == ["DRd", "ERd", "IRd", "KRd"]


def test_frail_patient_sees_rd_then_pd_first_never_car_t():
    regs, _, intensity = ranked(len_durable(age=84))
    c = codes(regs)
    assert c[:4] == ["Rd", "Pd", "Kd", "Vd"] and intensity["reduced"]
    assert c[4:8] == ["DRd", "KRd", "IRd", "ERd"]
    assert all(r["reducedIntensity"] and "Reduced intensity" in r["warning"] for r in regs[4:])
    assert not set(c) & T_CELL


def test_frail_doublets_keep_their_order_whatever_their_cautions():
    assert offered(len_durable(age=84, cautions=["renal-severe", "renal-dose-adjust"]))[:2] == ["Rd", "Pd"]


def test_frail_lenalidomide_refractory_patient_starts_with_pd():
    a = len_refractory(age=84)
    assert offered(a)[:3] == ["Pd", "Kd", "Vd"]
    assert reasons(a)["Rd"] == "refractory"


@pytest.mark.parametrize("age,ecog,where", [(70, 1, None), (78, 1, "last"), (70, 2, "last"), (84, 1, "first")])
def test_doublets_only_for_intermediate_or_frail_patients(age, ecog, where):
    a = len_durable(age=age, ecog=ecog)
    c = offered(a)
    if where is None:
        assert not set(c) & DOUBLETS and not set(reasons(a)) & DOUBLETS
    elif where == "last":
        assert c[-4:] == ["Rd", "Pd", "Kd", "Vd"]
    else:
        assert c[:4] == ["Rd", "Pd", "Kd", "Vd"]


# --- section 9 notes -------------------------------------------------------------------------------

def test_every_imid_option_carries_the_thromboprophylaxis_note():
    for r in ranked(len_durable(age=78))[0]:
        imid = bool({"lenalidomide", "pomalidomide", "thalidomide"} & set(r["drugs"]))
        assert ("thromboprophylaxis" in r["notes"]) is imid, r["code"]


@pytest.mark.parametrize("vte", [True, False])
def test_vte_history_makes_the_imid_note_a_caution(vte):
    m = by_code(ranked(len_durable(cautions=["vte-prophylaxis"] if vte else []))[0])
    assert ("vte-prophylaxis" in m["DRd"]["cautions"]) is vte
    assert m["DVd"]["cautions"] == []


def test_car_t_and_bispecific_options_carry_the_reviews_toxicity_figures():
    for r in ranked(tce())[0]:
        figures = " ".join(t["figures"] for t in r["toxicity"])
        if r["code"] in T_CELL:
            assert "CRS 88%" in figures and "76.4%" in figures and "HR 2.13" in figures and "IgG < 4 g/L" in figures
            assert {t["trial"] for t in r["toxicity"]} >= {"KarMMa-3", "MajesTEC-1"}
        else:
            assert r["toxicity"] == []


def test_belantamab_options_carry_the_approval_note():
    m = by_code(ranked(len_durable())[0])
    assert "approval-withdrawn" in m["BVd"]["notes"] and "approval-withdrawn" in m["BPd"]["notes"]
    assert "approval-withdrawn" not in m["SVd"]["notes"]


def test_regimen_json_carries_the_contract_fields():
    r = by_code(ranked(len_durable())[0])["KRd"]
    assert r["drugs"] == ["carfilzomib", "lenalidomide", "dexamethasone"]
    assert r["evidence"] == ["ASPIRE"]
    assert {"code", "drugs", "cautions", "evidence", "warning"} <= set(r)


def test_advise_reports_not_offered_with_contract_reasons_and_assess_shape():
    from datetime import date

    from myeloma_model.guidance import advise, empty_guidance
    from myeloma_model.records import PatientRecord

    out = assessment_json(advise(from_json(len_refractory()), PatientRecord("p1", in_scope=True), date(2024, 7, 1)))
    assert out["notOffered"] and all(set(n) >= {"code", "reason"} for n in out["notOffered"])
    assert {n["reason"] for n in out["notOffered"]} <= {"refractory", "frailty", "not-triple-class-exposed",
                                                       "not-lenalidomide-exposed", "prior-lines"}
    offered_codes = set(codes(out["regimens"]))
    assert not offered_codes & {n["code"] for n in out["notOffered"]}  # each regimen in one list only
    assert empty_guidance().not_offered == ()
