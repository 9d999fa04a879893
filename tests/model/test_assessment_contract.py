"""docs/assessment-contract.md: field names, enum strings, dates, out-of-scope shape, guidance merge,
purity of the package and linear cost."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date

from myeloma_model import assess
from myeloma_model.records import DrugExposure
from tests.model.builders import condition, day, drug, ecog, fish, labs, record, regimen

TOP = {"patientId", "asOf", "inScope", "relapse", "drugs", "priorLines", "refractoryCategory",
       "tripleClassExposed", "risk", "fitness", "timing", "strategy", "regimens",
       "missingInvestigations", "safety", "dataGaps"}
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def full_patient():
    r = record(birth_date=date(1953, 1, 1))
    regimen(r, ["bortezomib", "lenalidomide", "dexamethasone"], 10, 130)
    drug(r, "lenalidomide", 250, 980)
    labs(r, "serum_m_protein", (0, 35), (200, 2), (1400, 7), (1460, 8))
    labs(r, "b2m", (0, 4.0))
    labs(r, "albumin", (0, 38))
    fish(r, "gain1q", True)
    ecog(r, 1, 1400)
    condition(r, "peripheral-neuropathy", 300)
    return r


def test_contract_fields_enums_and_dates():
    a = assess(full_patient(), day(1500))
    assert TOP <= set(a)
    json.dumps(a)  # JSON-ready
    assert a["asOf"] == day(1500).isoformat() and a["inScope"] is True
    rel = a["relapse"]
    assert set(rel) == {"status", "significantParaproteinRelapse", "date", "crabDate", "latestMarkerDate", "criteria",
                        "crabFeatures", "markers", "crabValues"}
    assert rel["status"] in ("clinical", "biochemical", "suspected", "none", "unknown")
    assert ISO.match(rel["date"])
    for m in rel["markers"].values():
        assert {"latest", "nadir", "unit", "latestDate", "nadirDate"} <= set(m)
        assert ISO.match(m["latestDate"])
    for info in a["drugs"].values():
        assert {"class", "exposed", "active", "refractory", "monthsOnDrug", "monthsSinceLastDose",
                "retreatmentSignal"} <= set(info)
    assert a["refractoryCategory"] in ("none", "single", "double", "triple-class", "penta")
    assert set(a["risk"]) == {"highRiskCytogenetics", "iss", "riss", "b2mTrend", "highRiskRelapseFeatures"}
    assert set(a["fitness"]) == {"age", "ecog", "frailty", "cautions"}
    assert a["relapse"]["status"] == "biochemical"
    assert a["risk"]["iss"] == "II" and a["risk"]["riss"] == "II" and a["risk"]["highRiskCytogenetics"] == ["gain1q"]
    assert a["fitness"] == {"age": 71, "ecog": 1, "frailty": "fit", "cautions": ["neuropathy"]}


def test_out_of_scope_is_empty_and_unknown():
    r = full_patient()
    r.in_scope = False
    r.data_gaps.append("no myeloma Condition")
    a = assess(r, day(1500))
    assert a["inScope"] is False and TOP <= set(a)
    assert a["relapse"]["status"] == "unknown" and a["relapse"]["markers"] == {}
    assert a["drugs"] == {} and a["priorLines"] == 0 and a["refractoryCategory"] == "none"
    assert a["risk"]["iss"] == "unknown" and a["fitness"]["frailty"] == "unknown"
    assert a["timing"] == "none" and a["strategy"] == "none" and a["regimens"] == []
    assert a["dataGaps"] == ["no myeloma Condition"]


def test_guidance_fields_are_merged(monkeypatch):
    from myeloma_model import guidance
    from myeloma_model.contract import Advice

    seen = {}

    def fake_advise(assessment, record, as_of):
        seen["status"] = assessment.relapse.status  # guidance reads the typed assessment
        return Advice(timing="treat-now", strategy="retreat-same-class", missing_investigations=("ecog",))

    monkeypatch.setattr(guidance, "advise", fake_advise)
    a = assess(full_patient(), day(1500))
    assert seen["status"] == "biochemical"
    assert a["timing"] == "treat-now" and a["missingInvestigations"] == ["ecog"]


def test_record_data_gaps_are_reported_verbatim():
    r = full_patient()
    r.data_gaps.append("Observation/9: unknown unit 'mmol/mol' for serum M-protein")
    assert "Observation/9: unknown unit 'mmol/mol' for serum M-protein" in assess(r, day(1500))["dataGaps"]


def test_only_data_up_to_as_of_is_used():
    r = full_patient()
    early = assess(r, day(1430))["relapse"]
    assert early["status"] == "suspected" and early["markers"]["serumMProtein"]["latestDate"] == day(1400).isoformat()
    # one result since the line started plus the line's baseline (day 0, 10 days before it): judged
    assert assess(r, day(1300))["relapse"]["status"] == "none"
    assert assess(r, day(150))["relapse"]["status"] == "unknown"  # the baseline alone


def test_unknown_drug_key_is_a_data_gap_not_a_drug():
    r = full_patient()
    r.exposures.append(DrugExposure("mystery-mab", day(5), None, True, "MedicationRequest"))
    a = assess(r, day(1500))
    assert "mystery-mab" not in a["drugs"] and any("mystery-mab" in g for g in a["dataGaps"])


def test_package_imports_neither_flask_requests_nor_fhir_resources():
    code = ("import sys, myeloma_model, myeloma_model.assessment; "
            "bad=[m for m in ('flask','requests','fhir') if m in sys.modules]; print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
