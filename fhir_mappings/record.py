"""build_patient_record: FHIR R4 resource dicts -> myeloma_model.records.PatientRecord.

The resources arrive sorted by type in one pass (fhir_mappings/resource_set.py: a Medication
or Patient listed after the resources that need it is still found; resources for another
patient are set aside and counted; a resource id seen twice is read once), usually already
sorted by the prefetch step. Then each type is read once, in named steps; each lab series is
sorted once at the end. Never raises on bad clinical data: what cannot be used becomes a
`data_gaps` note.
"""
from __future__ import annotations

from datetime import date
from typing import Iterable

from fhir_mappings.conditions import condition_facts
from fhir_mappings.dates import parse_date
from fhir_mappings.gaps import MALFORMED, GapLog, note_malformed
from fhir_mappings.medications import MedicationReader
from fhir_mappings.observations import ObservationReader, read_observation
from fhir_mappings.procedures import from_procedure, from_report, transplant_from_condition
from fhir_mappings.resource_set import ResourceSet
from myeloma_model.records import PatientRecord

def build_patient_record(resources: Iterable[dict] | ResourceSet, *, patient_id: str | None,
                         as_of: date) -> PatientRecord:
    """The patient's record as of `as_of` from FHIR resources (a list, or a ResourceSet the
    caller already sorted for this `patient_id`)."""
    if isinstance(resources, ResourceSet):
        rs = resources
        if rs.patient_id != patient_id:
            raise ValueError("the ResourceSet was sorted for another patient id")
        rs.settle_patient()
    else:
        rs = ResourceSet.of(resources, patient_id)
    gaps = GapLog()
    record = PatientRecord(patient_id=rs.patient_id or "")
    by_type = rs.by_type
    _read_patient(record, by_type["Patient"], rs.patient_id, gaps)
    investigations = _read_observations(record, by_type["Observation"], as_of, gaps, rs.take_observations())
    _read_medications(record, by_type, rs.medications, as_of, gaps)
    transplants = _read_conditions(record, by_type["Condition"], gaps)
    _read_procedures_and_reports(by_type, transplants, investigations, gaps)
    record.transplants = sorted(transplants, key=lambda t: t.when)
    record.investigations = sorted(investigations, key=lambda i: (i.when or date.min, i.code))
    if rs.other_patient:
        gaps.add("other-patient", f"{rs.other_patient} resource(s) for another patient were ignored")
    record.data_gaps = gaps.result()
    return record


def _read_patient(record: PatientRecord, patients: list[dict], patient_id: str | None, gaps: GapLog) -> None:
    """Birth date of the record's Patient (the first one with its id, or without an id)."""
    for p in patients:
        if patient_id is None or p.get("id") in (None, patient_id):
            record.birth_date = parse_date(p.get("birthDate"))
            if p.get("birthDate") is not None and record.birth_date is None:
                gaps.add("birthdate", "Patient.birthDate could not be read; age unknown")
            break


def _read_observations(record: PatientRecord, observations: list[dict], as_of: date, gaps: GapLog,
                       already_read: ObservationReader | None = None) -> list:
    """Labs, ECOG, immunofixation and cytogenetics known on `as_of` (the hot path); returns
    the investigations the Observations record. `already_read`: the Observations were read
    as the prefetch step sorted them (ResourceSet.take_observations); their gaps come here."""
    if already_read is not None:
        obs_reader = already_read
        obs_reader.gaps.replay(gaps)
    else:
        obs_reader = ObservationReader(gaps)
        for obs in observations:
            read_observation(obs_reader, obs)
    obs_reader.finish()
    late = 0
    for analyte, series in obs_reader.labs.items():
        # Results dated after the as-of date are not "known today"; series are sorted, so trim the tail.
        n = len(series)
        while series and series[-1].when > as_of:
            series.pop()
        late += n - len(series)
        if series:
            record.labs[analyte] = series
    record.ecog = [e for e in obs_reader.ecog if e.when <= as_of]
    record.immunofixation = [i for i in obs_reader.immunofixation if i.when <= as_of]
    late += len(obs_reader.ecog) - len(record.ecog)
    if late:
        gaps.add("after-as-of", f"{late} result(s) dated after the as-of date {as_of.isoformat()} were not used")
    record.cytogenetics = sorted(
        (c for c in obs_reader.cytogenetics if c.when is None or c.when <= as_of),
        key=lambda c: (c.when or date.min),
    )
    return list(obs_reader.investigations)


def _read_medications(record: PatientRecord, by_type: dict[str, list[dict]], medications: dict[str, dict],
                      as_of: date, gaps: GapLog) -> None:
    """Drug exposures from statements, requests and administrations."""
    meds = MedicationReader(gaps, medications)
    for rtype, read in (
        ("MedicationStatement", meds.add_statement),
        ("MedicationRequest", meds.add_request),
        ("MedicationAdministration", meds.add_administration),
    ):
        for res in by_type[rtype]:
            try:
                read(res)
            except MALFORMED:
                note_malformed(gaps, res)
    record.exposures = sorted(meds.finish(as_of), key=lambda e: (e.start or e.end or date.min, e.drug))


def _read_conditions(record: PatientRecord, conditions: list[dict], gaps: GapLog) -> list:
    """Condition facts, diagnosis date, light chain and scope; returns the transplants that
    Conditions record."""
    light_chains: set[str] = set()
    transplants = []
    for cond in conditions:
        try:
            facts, _excluded = condition_facts(cond)
            t = transplant_from_condition(cond) if _excluded is None else None
        except MALFORMED:
            note_malformed(gaps, cond)
            continue
        if t is not None:
            transplants.append(t)
        for fact in facts:
            record.conditions.append(fact)
            if fact.kind != "multiple-myeloma":
                continue
            if fact.onset is not None and (record.diagnosis_date is None or fact.onset < record.diagnosis_date):
                record.diagnosis_date = fact.onset
            if fact.light_chain:
                light_chains.add(fact.light_chain)
            # Scope (docs/clinical-model.md#scope): "active" there means not refuted / not entered in
            # error (those never become facts). Myeloma is incurable: a Condition in remission
            # or inactive is exactly the patient whose relapse this service watches for.
            record.in_scope = True
    if len(light_chains) == 1:
        record.light_chain = next(iter(light_chains))
    elif len(light_chains) > 1:
        gaps.add("light-chain", "Conditions name both kappa and lambda light-chain myeloma; isotype not used")
    return transplants


def _read_procedures_and_reports(by_type: dict[str, list[dict]], transplants: list, investigations: list,
                                 gaps: GapLog) -> None:
    """Transplants and investigations from Procedures and DiagnosticReports (appended)."""
    for proc in by_type["Procedure"]:
        try:
            transplant, investigation, problem = from_procedure(proc)
        except MALFORMED:
            note_malformed(gaps, proc)
            continue
        if transplant is not None:
            transplants.append(transplant)
        if investigation is not None:
            investigations.append(investigation)
        if problem is not None:
            gaps.add("procedure", problem)
    for report in by_type["DiagnosticReport"]:
        try:
            inv = from_report(report)
        except MALFORMED:
            note_malformed(gaps, report)
            continue
        if inv is not None:
            investigations.append(inv)
