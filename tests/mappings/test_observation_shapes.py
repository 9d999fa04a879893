"""One reading for each data shape (docs/clinical-model.md s2): effective time, partial dates, time
zones, duplicates, comparators, immunofixation."""
from __future__ import annotations

from datetime import date

import pytest

from tests.mappings.fhir import LOINC, SNOMED, obs, quantity, record, values


def spep(value, unit="g/L", **kw):
    return obs("33358-3", valueQuantity=quantity(value, unit), **kw)


def test_effective_period_start_is_the_time():
    o = spep(7, when=None)
    o["effectivePeriod"] = {"start": "2025-02-03T08:00:00Z", "end": "2025-02-04T08:00:00Z"}
    assert [r.when for r in record(o).series("serum_m_protein")] == [date(2025, 2, 3)]


def test_issued_is_used_when_there_is_no_effective_time():
    o = spep(7, when=None)
    o["issued"] = "2025-02-05T10:00:00Z"
    assert [r.when for r in record(o).series("serum_m_protein")] == [date(2025, 2, 5)]


def test_effective_date_time_wins_over_period_and_issued():
    o = spep(7, when="2025-02-01")
    o["issued"] = "2025-02-09T10:00:00Z"
    assert [r.when for r in record(o).series("serum_m_protein")] == [date(2025, 2, 1)]


@pytest.mark.parametrize("partial,first_day", [("2023-05", date(2023, 5, 1)), ("2023", date(2023, 1, 1))])
def test_partial_dates_are_the_first_day_of_their_period(partial, first_day):
    assert [r.when for r in record(spep(7, when=partial)).series("serum_m_protein")] == [first_day]


def test_time_zones_are_normalised_to_utc():
    late_evening = spep(7, when="2025-02-01T23:30:00-05:00")  # 04:30 UTC on 2 February
    assert [r.when for r in record(late_evening).series("serum_m_protein")] == [date(2025, 2, 2)]
    early_morning = spep(7, when="2025-02-02T01:30:00+02:00")  # 23:30 UTC on 1 February
    assert [r.when for r in record(early_morning).series("serum_m_protein")] == [date(2025, 2, 1)]


def test_the_same_result_twice_counts_once_also_across_zones_and_units():
    a = spep(7, when="2025-02-01T10:00:00Z")
    b = obs("33358-3", when="2025-02-01T11:00:30+01:00", valueQuantity=quantity(0.7, "g/dl"))  # same minute UTC
    assert values(record(a, b), "serum_m_protein") == [7.0]


def test_same_value_at_another_minute_is_another_result():
    a = spep(7, when="2025-02-01T10:00:00Z")
    b = spep(7, when="2025-02-01T10:01:00Z")
    assert values(record(a, b), "serum_m_protein") == [7.0, 7.0]


def test_less_than_comparator_is_kept():
    o = obs("33358-3", valueQuantity=quantity(1, "g/L", comparator="<"))
    [r] = record(o).series("serum_m_protein")
    assert (r.value, r.comparator) == (1.0, "<")


def test_data_absent_reason_without_a_value_is_ignored_silently():
    o = obs("33358-3", dataAbsentReason={"text": "not performed"})
    rec = record(o)
    assert rec.series("serum_m_protein") == [] and rec.data_gaps == []


@pytest.mark.parametrize("value,negative", [
    ({"valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA11883-8"}]}}, True),
    ({"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "10828004"}]}}, False),
    ({"valueString": "No monoclonal protein detected"}, True),
    ({"valueString": "IgG kappa monoclonal band detected"}, False),
])
def test_serum_immunofixation_is_read_negative_or_positive(value, negative):
    [r] = record(obs("25700-6", **value)).immunofixation
    assert r.negative is negative and r.specimen == "serum" and r.when == date(2025, 1, 10)


def test_unreadable_immunofixation_is_a_data_gap():
    rec = record(obs("25700-6", id="ife1", valueString="see report"))
    assert rec.immunofixation == [] and any("Observation/ife1" in g for g in rec.data_gaps)
