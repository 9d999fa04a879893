"""build_patient_record: FHIR R4 resource dicts -> myeloma_model.records.PatientRecord.

One pass sorts resources by type (so a Medication or Patient listed after the resources that
need it is still found), then each type is read once; each lab series is sorted once at the
end. Never raises on bad clinical data: what cannot be used becomes a `data_gaps` note.

Resources for another patient (subject / patient reference "Patient/<other id>") are
skipped, and a resource id seen twice (paging overlap, a resource in two prefetch keys) is
read once.
"""
from __future__ import annotations

from datetime import date
from typing import Iterable

from fhir_mappings.conditions import condition_facts
from fhir_mappings.dates import parse_date
from fhir_mappings.gaps import GapLog
from fhir_mappings.medications import MedicationReader
from fhir_mappings.observations import ObservationReader
from fhir_mappings.procedures import from_procedure, from_report, transplant_from_condition
from myeloma_model.records import PatientRecord

_HANDLED = (
    "Patient", "Observation", "Condition", "MedicationStatement", "MedicationRequest",
    "MedicationAdministration", "Medication", "Procedure", "DiagnosticReport",
)


# Structurally broken resources (a string where an object belongs, ...) raise one of these
# deep in the readers; the resource is then reported and skipped, never a 500.
_MALFORMED = (AttributeError, TypeError, ValueError, KeyError, IndexError, OverflowError)


def _malformed(gaps: GapLog, res: dict) -> None:
    rid = res.get("id")
    ref = f"{res.get('resourceType')}/{rid}" if isinstance(rid, str) else str(res.get("resourceType"))
    gaps.add(f"malformed:{res.get('resourceType')}", f"{ref} is malformed (not valid FHIR R4); not used")


def _patient_of(res: dict) -> str | None:
    """The patient id a resource's subject / patient reference names, when it names one."""
    ref = res.get("subject") or res.get("patient")
    if not isinstance(ref, dict):
        return None
    r = ref.get("reference")
    if not isinstance(r, str):
        return None
    if r.startswith("Patient/"):
        tail = r[8:]
    else:
        i = r.rfind("/Patient/")
        if i < 0:
            return None  # urn:uuid:..., #contained: cannot tell, keep
        tail = r[i + 9:]
    return tail.split("/", 1)[0]


def build_patient_record(resources: Iterable[dict], *, patient_id: str | None, as_of: date) -> PatientRecord:
    gaps = GapLog()
    by_type: dict[str, list[dict]] = {t: [] for t in _HANDLED}
    seen: set[tuple[str, str]] = set()
    for res in resources:
        if not isinstance(res, dict):
            continue
        rtype = res.get("resourceType")
        if type(rtype) is not str:
            continue
        bucket = by_type.get(rtype)
        if bucket is None:
            continue
        rid = res.get("id")
        if isinstance(rid, str):
            key = (rtype, rid)
            if key in seen:
                continue
            seen.add(key)
        bucket.append(res)

    patients = by_type["Patient"]
    if patient_id is None and len(patients) == 1 and type(patients[0].get("id")) is str:
        patient_id = patients[0]["id"]
    record = PatientRecord(patient_id=patient_id or "")

    other_patient = 0
    own_ref = f"Patient/{patient_id}"

    def mine(res: dict) -> bool:
        nonlocal other_patient
        if patient_id is None:
            return True
        subject = res.get("subject")
        if subject is not None and type(subject) is dict and subject.get("reference") == own_ref:
            return True  # the common case, without parsing
        pid = _patient_of(res)
        if pid is None or pid == patient_id:
            return True
        other_patient += 1
        return False

    for p in patients:
        if patient_id is None or p.get("id") in (None, patient_id):
            record.birth_date = parse_date(p.get("birthDate"))
            if p.get("birthDate") is not None and record.birth_date is None:
                gaps.add("birthdate", "Patient.birthDate could not be read; age unknown")
            break

    # Observations: the hot path.
    obs_reader = ObservationReader(gaps)
    add = obs_reader.add
    check = patient_id is not None
    for obs in by_type["Observation"]:
        if check and not mine(obs):
            continue
        try:
            add(obs)
        except _MALFORMED:
            _malformed(gaps, obs)
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
    investigations = list(obs_reader.investigations)

    # Medications.
    medications: dict[str, dict] = {}
    for med in by_type["Medication"]:
        if med.get("id"):
            medications[f"Medication/{med['id']}"] = med
    meds = MedicationReader(gaps, medications)
    for rtype, read in (
        ("MedicationStatement", meds.add_statement),
        ("MedicationRequest", meds.add_request),
        ("MedicationAdministration", meds.add_administration),
    ):
        for res in by_type[rtype]:
            if mine(res):
                try:
                    read(res)
                except _MALFORMED:
                    _malformed(gaps, res)
    record.exposures = sorted(meds.finish(as_of), key=lambda e: (e.start or e.end or date.min, e.drug))

    # Conditions.
    light_chains: set[str] = set()
    transplants = []
    for cond in by_type["Condition"]:
        if not mine(cond):
            continue
        try:
            facts, _excluded = condition_facts(cond)
            t = transplant_from_condition(cond) if _excluded is None else None
        except _MALFORMED:
            _malformed(gaps, cond)
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

    # Procedures and reports.
    for proc in by_type["Procedure"]:
        if not mine(proc):
            continue
        try:
            transplant, investigation, problem = from_procedure(proc)
        except _MALFORMED:
            _malformed(gaps, proc)
            continue
        if transplant is not None:
            transplants.append(transplant)
        if investigation is not None:
            investigations.append(investigation)
        if problem is not None:
            gaps.add("procedure", problem)
    for report in by_type["DiagnosticReport"]:
        if mine(report):
            try:
                inv = from_report(report)
            except _MALFORMED:
                _malformed(gaps, report)
                continue
            if inv is not None:
                investigations.append(inv)
    record.transplants = sorted(transplants, key=lambda t: t.when)
    record.investigations = sorted(investigations, key=lambda i: (i.when or date.min, i.code))

    if other_patient:
        gaps.add("other-patient", f"{other_patient} resource(s) for another patient were ignored")
    record.data_gaps = gaps.result()
    return record
