"""guidance/orders.py (section 7.3): the ordered drug judged by the same appraisal as the options,
so order-select / order-sign can never disagree with patient-view."""
from __future__ import annotations

from cds_service.cards.contract_words import assessment_json
from datetime import date

import pytest

from myeloma_model.contract import from_json
from myeloma_model.drug_classes import is_steroid
from myeloma_model.guidance import advise
from myeloma_model.guidance.orders import order_findings
from myeloma_model.guidance.regimens import REGIMENS
from myeloma_model.records import InvestigationRecord, PatientRecord
from tests.guidance.helpers import assessment, drug, len_durable, len_refractory, triple_class_refractory

AS_OF = date(2024, 7, 1)
ALL_DONE = [InvestigationRecord(c, AS_OF) for c in ("echocardiogram", "blood-group", "hbv-hcv-hiv",
                                                     "neuropathy-assessment", "coagulation", "pet-ct", "cmv-ebv",
                                                     "igg")]
REGIMEN_DRUGS = sorted({d for r in REGIMENS.values() for d in r.drugs if not is_steroid(d)})


def with_guidance(a, investigations=ALL_DONE):
    a = dict(a)
    a.update(assessment_json(advise(from_json(a), PatientRecord("p1", in_scope=True, investigations=list(investigations)), AS_OF)))
    return a


def kinds(findings):
    return {(f.kind, f.indicator) for f in findings}


def tce(**kw):
    kw.setdefault("prior_lines", 3)
    return assessment(drug("lenalidomide", on=20.0, off=30.0), drug("bortezomib", on=6.0, off=40.0),
                      drug("daratumumab", on=10.0, off=20.0), **kw)


PATIENTS = {
    "len-durable": lambda: len_durable(),
    "len-refractory-1-line": lambda: len_refractory(),
    "len-refractory-2-lines": lambda: len_refractory(prior_lines=2),
    "frail-84": lambda: len_durable(age=84),
    "frail-len-refractory": lambda: len_refractory(age=84),
    "triple-class-refractory": lambda: triple_class_refractory(),
    "triple-class-frail": lambda: triple_class_refractory(age=85),
    "tce-3-lines": lambda: tce(),
    "tce-5-lines": lambda: tce(prior_lines=5),
    "cardiac-neuropathy-ckd4": lambda: len_durable(cautions=["carfilzomib-cardiac", "neuropathy",
                                                             "renal-dose-adjust", "renal-severe"]),
    "intermediate-78": lambda: len_durable(age=78),
}


@pytest.mark.parametrize("patient", sorted(PATIENTS))
@pytest.mark.parametrize("ordered", REGIMEN_DRUGS)
def test_order_verdict_matches_patient_view_for_every_regimen_drug(patient, ordered):
    """An order for a drug gets a refractory or eligibility card exactly when patient-view offers no
    regimen containing it; a drug the options offer never gets one."""
    a = with_guidance(PATIENTS[patient]())
    offered = any(ordered in r["drugs"] for r in a["regimens"])
    refused = [f for f in order_findings(from_json(a), ordered)
               if f.kind == "eligibility" or (f.kind == "refractory" and f.indicator == "warning")]
    assert bool(refused) is (not offered), (patient, ordered, [r["code"] for r in a["regimens"]])


def test_lenalidomide_ordered_while_the_disease_progressed_on_it_warns_with_an_alternative():
    a = with_guidance(len_refractory())
    found = [f for f in order_findings(from_json(a), "lenalidomide") if f.kind == "refractory"]
    assert found and found[0].indicator == "warning"
    assert found[0].values.active_at_relapse is True
    assert found[0].alternative == a["regimens"][0]["code"] == "DVd"


def test_drug_stopped_before_the_relapse_with_the_signal_informs():
    a = with_guidance(assessment(drug("lenalidomide", refractory=True, on=40.0, off=2.0, at_relapse=False)))
    found = [f for f in order_findings(from_json(a), "lenalidomide") if f.kind == "refractory"]
    assert found and found[0].indicator == "info" and found[0].alternative is None


@pytest.mark.parametrize("age,ecog,indicator", [(70, 2, None), (70, 3, "warning"), (84, 1, "warning")])
def test_bispecific_for_a_frail_patient_warns(age, ecog, indicator):
    a = with_guidance(tce(age=age, ecog=ecog))
    found = [f for f in order_findings(from_json(a), "teclistamab") if f.kind == "eligibility"]
    assert (found[0].indicator if found else None) == indicator
    if found:
        assert "frailty" in found[0].values.reasons and found[0].alternative


@pytest.mark.parametrize("age,reason", [(84, "frailty"), (65, "not-triple-class-exposed")])
def test_teclistamab_at_one_prior_line_warns_with_the_first_reason(age, reason):
    a = with_guidance(len_durable(age=age, prior_lines=1))
    found = [f for f in order_findings(from_json(a), "teclistamab") if f.kind == "eligibility"]
    assert found[0].indicator == "warning" and found[0].values.reasons == (reason,)


@pytest.mark.parametrize("lines,indicator", [(1, "info"), (2, None)])
def test_isatuximab_with_pomalidomide_only_outside_its_lines_is_info(lines, indicator):
    # carfilzomib refractory: IsaKd out; IsaPd needs >= 2 prior lines
    a = with_guidance(assessment(drug("lenalidomide", refractory=True, active=True, on=20.0),
                                 drug("carfilzomib", refractory=True, on=10.0, off=1.0, signal=False),
                                 prior_lines=lines))
    found = [f for f in order_findings(from_json(a), "isatuximab") if f.kind == "eligibility"]
    assert (found[0].indicator if found else None) == indicator


@pytest.mark.parametrize("ordered,caution,indicator", [
    ("carfilzomib", "carfilzomib-cardiac", "warning"), ("lenalidomide", "renal-severe", "warning"),
    ("bortezomib", "neuropathy", "info"), ("lenalidomide", "renal-dose-adjust", "info"),
    ("pomalidomide", "vte-prophylaxis", "info"),
])
def test_caution_is_info_and_warning_level_caution_is_a_warning(ordered, caution, indicator):
    found = [f for f in order_findings(from_json(with_guidance(len_durable(cautions=[caution]))), ordered)
             if f.kind == "comorbidity"]
    assert found and found[0].indicator == indicator
    assert (found[0].alternative is not None) is (indicator == "warning")
    if indicator == "warning":
        assert ordered not in REGIMENS[found[0].alternative].drugs


@pytest.mark.parametrize("ordered", ["carfilzomib", "bortezomib", "lenalidomide"])
def test_no_comorbidity_finding_without_the_comorbidity(ordered):
    assert not [f for f in order_findings(from_json(with_guidance(len_durable())), ordered) if f.kind == "comorbidity"]


def test_pomalidomide_for_lenalidomide_refractory_disease_is_an_option_not_a_warning():
    a = with_guidance(len_refractory())
    assert any("pomalidomide" in r["drugs"] for r in a["regimens"])
    assert not [f for f in order_findings(from_json(a), "pomalidomide") if f.indicator == "warning" and f.kind != "prerequisite"]


def test_steroid_orders_get_nothing():
    assert order_findings(from_json(with_guidance(len_refractory())), "dexamethasone") == []


@pytest.mark.parametrize("ordered,test_code", [("carfilzomib", "echocardiogram"), ("daratumumab", "blood-group"),
                                               ("isatuximab", "hbv-hcv-hiv"), ("bortezomib", "neuropathy-assessment")])
def test_missing_prerequisite_warns_and_recent_one_does_not(ordered, test_code):
    missing = [f for f in order_findings(from_json(with_guidance(len_durable(), investigations=[])), ordered)
               if f.kind == "prerequisite"]
    assert missing and missing[0].indicator == "warning" and test_code in {t.code for t in missing[0].tests}
    done = [f for f in order_findings(from_json(with_guidance(len_durable())), ordered) if f.kind == "prerequisite"]
    assert not done


def test_out_of_scope_gives_nothing():
    a = with_guidance(len_refractory())
    a["inScope"] = False
    assert order_findings(from_json(a), "lenalidomide") == []
