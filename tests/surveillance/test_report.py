"""Urgency order, the dataFreshness column whichever way the model stands, HTML escaping, links."""
from __future__ import annotations

from cds_service.surveillance.ndjson import BadLine
from cds_service.surveillance.report import render_report, timeline_link
from cds_service.surveillance.run import SurveillanceResult
from cds_service.surveillance.worklist import row_from_assessment, sort_rows, urgency_rank


def _assessment(status="none", *, fresh=None, tce=False, in_scope=True):
    a = {"inScope": in_scope, "relapse": {"status": status, "date": None}, "timing": "none", "strategy": "none",
         "refractoryCategory": "none", "tripleClassExposed": tce, "priorLines": 1, "dataGaps": []}
    if fresh is not None:
        a["dataFreshness"] = fresh
    return a


def test_urgency_order_clinical_biochemical_suspected_stale_triple_class():
    cases = {
        "a-tce": _assessment(tce=True),
        "b-stale": _assessment(fresh="stale"),
        "c-suspected": _assessment("suspected"),
        "d-biochemical": _assessment("biochemical", fresh="stale", tce=True),  # status wins
        "e-clinical": _assessment("clinical"),
        "f-stable": _assessment("none", fresh="fresh"),
        "g-out": _assessment("unknown", tce=True, in_scope=False),
    }
    rows = sort_rows(row_from_assessment(pid, a) for pid, a in cases.items())
    assert [r["patientId"] for r in rows] == [
        "e-clinical", "d-biochemical", "c-suspected", "b-stale", "a-tce", "f-stable", "g-out"]
    assert [r["urgency"] for r in rows[:5]] == [
        "clinical-relapse", "biochemical-relapse", "suspected-relapse", "stale-data", "triple-class-exposed"]
    assert urgency_rank(cases["f-stable"]) == urgency_rank(cases["g-out"]) == 5


def test_data_freshness_column_whichever_way_the_model_stands():
    assert row_from_assessment("p", _assessment(fresh="aging"))["dataFreshness"] == "aging"
    assert row_from_assessment("p", _assessment())["dataFreshness"] == ""  # field not (yet) in the model


def test_html_escapes_everything_and_links_each_patient():
    rows = sort_rows([row_from_assessment("p-1", _assessment("clinical", tce=True)),
                      row_from_assessment("p-2", _assessment("none", tce=True)),
                      row_from_assessment("p-3", _assessment("biochemical"))])
    result = SurveillanceResult(
        rows=rows, partitions=1, elapsed_s=0.1, scheduler="in-process (sync)",
        bad_lines=[BadLine("<script>alert(1)</script>.ndjson", 7, 'not JSON ("<b>")', None)],
        files={"<script>alert(1)</script>.ndjson": {"lines": 7, "bad": 1, "blank": 0, "notPatientData": 0}},
    )
    html = render_report(result, as_of="2026-11-30", source='folder "<img src=x onerror=alert(1)>"',
                         app_url="https://cds.example.org/app/launch?x=1&y=<2>", fhir_base="https://ehr.example.org/fhir")
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.ndjson" in html
    assert ('href="https://cds.example.org/app/launch?x=1&amp;y=&lt;2&gt;&amp;iss=https%3A%2F%2Fehr.example.org%2Ffhir'
            '&amp;patient=p-1&amp;asOf=2026-11-30"') in html
    assert "1 export line(s) could not be read and could not be tied to a patient" in html
    assert "Clinical relapse" in html
    # p-1 counts under clinical relapse only, but both triple-class exposed patients are counted.
    assert "Triple-class exposed in all, whatever the relapse status: 2." in html
    assert html.index(">p-1<") < html.index(">p-3<") < html.index(">p-2<")  # by urgency


def test_no_link_without_app_url_or_fhir_base():
    assert timeline_link(None, "https://ehr/fhir", "p", "2026-11-30") is None
    assert timeline_link("https://cds/app/launch", None, "p", "2026-11-30") is None
