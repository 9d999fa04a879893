"""guidance/orders.py: checks on one ordered drug (refractoriness, comorbidity, Table 1 prerequisites)."""
from __future__ import annotations

from datetime import date

import pytest

from myeloma_model.guidance import advise
from myeloma_model.guidance.orders import order_findings
from myeloma_model.records import InvestigationRecord, PatientRecord
from tests.guidance.helpers import assessment, drug, len_durable, len_refractory

AS_OF = date(2024, 7, 1)
ALL_DONE = [InvestigationRecord(c, AS_OF) for c in ("echocardiogram", "blood-group", "hbv-hcv-hiv",
                                                     "neuropathy-assessment", "coagulation", "pet-ct", "cmv-ebv")]


def with_guidance(a, investigations=ALL_DONE):
    a = dict(a)
    a.update(advise(a, PatientRecord("p1", in_scope=True, investigations=list(investigations)), AS_OF))
    return a


def kinds(findings):
    return {(f.kind, f.indicator) for f in findings}


@pytest.mark.parametrize("ordered,caution", [("carfilzomib", "carfilzomib-cardiac"), ("bortezomib", "neuropathy"),
                                             ("lenalidomide", "renal-severe")])
def test_comorbidity_warnings(ordered, caution):
    a = with_guidance(len_durable(cautions=[caution]))
    assert ("comorbidity", "warning") in kinds(order_findings(a, ordered))


@pytest.mark.parametrize("ordered", ["carfilzomib", "bortezomib", "lenalidomide"])
def test_no_comorbidity_finding_without_the_comorbidity(ordered):
    assert not [f for f in order_findings(with_guidance(len_durable()), ordered) if f.kind == "comorbidity"]


def test_cardiac_caution_does_not_touch_other_drugs():
    a = with_guidance(len_durable(cautions=["carfilzomib-cardiac"]))
    assert not [f for f in order_findings(a, "bortezomib") if f.kind == "comorbidity"]


def test_renal_dose_adjust_alone_is_info():
    a = with_guidance(len_durable(cautions=["renal-dose-adjust"]))
    assert ("comorbidity", "info") in kinds(order_findings(a, "lenalidomide"))


def test_refractory_without_signal_warns_with_signal_informs():
    assert ("refractory", "warning") in kinds(order_findings(with_guidance(len_refractory()), "lenalidomide"))
    a = with_guidance(assessment(drug("lenalidomide", refractory=True, on=40.0, off=1.0)))
    assert ("refractory", "info") in kinds(order_findings(a, "lenalidomide"))


def test_same_class_refractoriness_warns_for_a_new_drug_of_that_class():
    found = [f for f in order_findings(with_guidance(len_refractory()), "pomalidomide") if f.kind == "refractory"]
    assert found and found[0].indicator == "warning" and "lenalidomide" in found[0].summary


def test_other_class_gets_no_refractory_finding():
    assert not [f for f in order_findings(with_guidance(len_refractory()), "daratumumab") if f.kind == "refractory"]


def test_steroid_orders_get_nothing():
    assert order_findings(with_guidance(len_refractory()), "dexamethasone") == []


@pytest.mark.parametrize("ordered,test_code", [("carfilzomib", "echocardiogram"), ("daratumumab", "blood-group"),
                                               ("isatuximab", "hbv-hcv-hiv"), ("bortezomib", "neuropathy-assessment")])
def test_missing_prerequisite_warns_and_recent_one_does_not(ordered, test_code):
    missing = [f for f in order_findings(with_guidance(len_durable(), investigations=[]), ordered)
               if f.kind == "prerequisite"]
    assert missing and missing[0].indicator == "warning" and test_code in {t["code"] for t in missing[0].tests}
    done = [f for f in order_findings(with_guidance(len_durable()), ordered) if f.kind == "prerequisite"]
    assert not done


def test_out_of_scope_gives_nothing():
    a = with_guidance(len_refractory())
    a["inScope"] = False
    assert order_findings(a, "lenalidomide") == []
