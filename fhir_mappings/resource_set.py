"""The resources of one call, sorted in one pass: type, patient ownership, duplicates.

Every resource is looked at once, when it arrives (cds_service/fhir/prefetch.py adds them as it
checks each prefetch key or reads each search): the types the mapping reads are kept by type,
a resource id seen twice (paging overlap, a resource in two prefetch keys) is kept once, a
resource that plainly names another patient is set aside and counted, and Medications are
indexed for medicationReference. `build_patient_record` reads the result without walking the
resources again. With `read_observations` (the hook's prefetch step, where the patient is
known), each Observation kept is also read into lab series right then, while it is in the
processor's cache: one visit per Observation instead of two (benchmarks/hook_stages.py).
"""
from __future__ import annotations

import re
from typing import Callable, Iterable

from fhir_mappings.gaps import DeferredGaps
from fhir_mappings.observations import ObservationReader, read_observation

# The FHIR R4 `id` datatype: 1-64 of A-Z, a-z, 0-9, "-" and ".".
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def is_fhir_id(value: object) -> bool:
    """Whether `value` is a valid FHIR resource id (a string of the id datatype)."""
    return isinstance(value, str) and FHIR_ID.fullmatch(value) is not None

HANDLED = (
    "Patient", "Observation", "Condition", "MedicationStatement", "MedicationRequest",
    "MedicationAdministration", "Medication", "Procedure", "DiagnosticReport",
)

# What `ResourceSet.add` did with a resource.
ADDED, DUPLICATE, OTHER_PATIENT, NOT_READ = "added", "duplicate", "other-patient", "not-read"


def patient_of(res: dict) -> str | None:
    """The patient id a resource's subject / patient reference names, when it names one
    ("Patient/<id>", "<base>/Patient/<id>", with or without "/_history/<v>"); None for a
    reference that cannot tell (urn:uuid:..., #contained) or no reference at all."""
    for name in ("subject", "patient"):
        ref = res.get(name)
        if type(ref) is dict:
            r = ref.get("reference")
            if type(r) is str:
                break
    else:
        return None
    if r.startswith("Patient/"):
        tail = r[8:]
    else:
        i = r.rfind("/Patient/")
        if i < 0:
            return None
        tail = r[i + 9:]
    return tail.split("/", 1)[0]


def medication_index(medications: Iterable[dict]) -> dict[str, dict]:
    """"Medication/<id>" and the bare id -> Medication, for fhir_mappings.medications'
    MedicationReader (the first Medication with an id wins)."""
    index: dict[str, dict] = {}
    for med in medications:
        rid = med.get("id")
        if rid and isinstance(rid, str):
            index.setdefault(f"Medication/{rid}", med)
            index.setdefault(rid, med)
    return index


class ResourceSet:
    """Resources by type for one patient (`patient_id` None: the patient is not known yet;
    `settle_patient` then takes the one Patient's id and sets aside what belongs to another)."""

    def __init__(self, patient_id: str | None, *, read_observations: bool = False) -> None:
        self.patient_id = patient_id
        self.by_type: dict[str, list[dict]] = {t: [] for t in HANDLED}
        self.other_patient = 0  # resources set aside because they name another patient
        self._seen: set[tuple[str, str]] = set()
        self._own_ref = f"Patient/{patient_id}"
        # Reading as they arrive needs the patient known: settle_patient may drop resources later.
        self._reader = ObservationReader(DeferredGaps()) if read_observations and patient_id is not None else None

    def take_observations(self) -> ObservationReader | None:
        """The Observations read as they were kept (their gaps deferred), once; None when they
        were not (then `by_type["Observation"]` is read as usual). Later additions are not read."""
        reader, self._reader = self._reader, None
        return reader

    def add(self, res: object) -> str:
        """Sort one resource; returns ADDED, DUPLICATE, OTHER_PATIENT or NOT_READ."""
        if type(res) is not dict:
            return NOT_READ
        rtype = res.get("resourceType")
        bucket = self.by_type.get(rtype) if type(rtype) is str else None
        if bucket is None:
            return NOT_READ
        rid = res.get("id")
        if type(rid) is str:
            key = (rtype, rid)
            if key in self._seen:
                return DUPLICATE
            self._seen.add(key)
        if not self.owns(res):
            self.other_patient += 1
            return OTHER_PATIENT
        bucket.append(res)
        if self._reader is not None and rtype == "Observation":
            read_observation(self._reader, res)
        return ADDED

    def add_all(self, resources: Iterable[object]) -> None:
        for res in resources:
            self.add(res)

    def sorter(self) -> Callable[[dict], bool]:
        """`add` as a function for the hook's hot loop, for resources already checked to be
        dicts with a resourceType (fhir_mappings.bundles); returns False only for a resource
        of another patient. The common case (subject "Patient/<id>") is decided inline."""
        by_type, seen, own_ref, owns = self.by_type, self._seen, self._own_ref, self.owns
        check = self.patient_id is not None
        observations, reader = by_type["Observation"], self._reader

        def sort_one(res: dict) -> bool:
            rtype = res["resourceType"]
            bucket = by_type.get(rtype)
            if bucket is None:
                return True
            rid = res.get("id")
            if type(rid) is str:
                key = (rtype, rid)
                if key in seen:
                    return True
                seen.add(key)
            if check:
                subject = res.get("subject")
                if not (type(subject) is dict and subject.get("reference") == own_ref) and not owns(res):
                    self.other_patient += 1
                    return False
            bucket.append(res)
            if bucket is observations and reader is not None and self._reader is reader:
                read_observation(reader, res)
            return True

        return sort_one

    def owns(self, res: dict) -> bool:
        """The one ownership check: False only when the resource plainly names another patient."""
        if self.patient_id is None:
            return True
        subject = res.get("subject")
        if type(subject) is dict and subject.get("reference") == self._own_ref:
            return True  # the common case, without parsing
        other = patient_of(res)
        return other is None or other == self.patient_id

    def settle_patient(self) -> None:
        """With no patient given, a set holding exactly one Patient is that patient's record."""
        patients = self.by_type["Patient"]
        if self.patient_id is not None or len(patients) != 1 or type(patients[0].get("id")) is not str:
            return
        self.patient_id = patients[0]["id"]
        self._own_ref = f"Patient/{self.patient_id}"
        for rtype, bucket in self.by_type.items():
            kept = [r for r in bucket if self.owns(r)]
            self.other_patient += len(bucket) - len(kept)
            self.by_type[rtype] = kept

    @property
    def medications(self) -> dict[str, dict]:
        return medication_index(self.by_type["Medication"])

    @classmethod
    def of(cls, resources: Iterable[object], patient_id: str | None) -> "ResourceSet":
        rs = cls(patient_id)
        rs.add_all(resources)
        rs.settle_patient()
        return rs
