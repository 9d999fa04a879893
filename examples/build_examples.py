#!/usr/bin/env python3
"""Deterministic generator of the demo patients and ready-made hook requests.

Run `python examples/build_examples.py` from the repository root; it rewrites
examples/patients/*.json, examples/hooks/*.json and examples/expected.json. Nothing here is
random: dates are fixed, ids are stable (`Patient/mm-vignette`, `Observation/mm-vignette-spep-01`),
fullUrls are uuid5 of the reference, so re-running gives byte-identical files and re-loading a
Bundle into a FHIR server is idempotent (every entry is a PUT to a client-assigned id).

Synthetic data only. Codes come from docs/terminology.md (VERIFIED unless marked
UNVERIFIED in a comment). Every patient is judged as of AS_OF; see examples/README.md.
"""
from __future__ import annotations

import copy
import json
import uuid
from datetime import date, timedelta
from pathlib import Path

AS_OF = "2025-06-30"  # "today" for every expected verdict (myeloma-cds assess --as-of 2025-06-30)
HERE = Path(__file__).resolve().parent
# The loopback FHIR test server of examples/sekmet/settings.yaml (README): requests with full
# prefetch never need it; the no-prefetch request is read from it by `assess --fetch`.
LOCAL_FHIR_SERVER = "http://127.0.0.1:8081/fhir"
UUID_NAMESPACE = uuid.UUID("6f1c1c2e-3b9a-5d0e-9a57-6d79656c6f6d")  # fixed: ids stay stable

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
OBS_CAT = "http://terminology.hl7.org/CodeSystem/observation-category"
COND_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
COND_VERIF = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
COND_CAT = "http://terminology.hl7.org/CodeSystem/condition-category"

# --- Observation codes (docs/terminology.md#observations) -------------------------------------------
LAB = {
    "spep": ("33358-3", "Protein.monoclonal [Mass/volume] in Serum or Plasma by Electrophoresis"),
    "kappa": ("36916-5", "Kappa light chains.free [Mass/volume] in Serum"),
    "lambda": ("33944-0", "Lambda light chains.free [Mass/volume] in Serum"),
    "b2m": ("1952-1", "Beta-2-Microglobulin [Mass/volume] in Serum or Plasma"),
    "albumin": ("1751-7", "Albumin [Mass/volume] in Serum or Plasma"),
    "ldh": ("2532-0", "Lactate dehydrogenase [Enzymatic activity/volume] in Serum or Plasma"),
    "calcium": ("17861-6", "Calcium [Mass/volume] in Serum or Plasma"),
    "creat-mass": ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma"),
    "creat-molar": ("14682-9", "Creatinine [Moles/volume] in Serum or Plasma"),
    "egfr": ("98979-8", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, "
                        "Plasma or Blood by Creatinine-based formula (CKD-EPI 2021)"),
    "hb": ("718-7", "Hemoglobin [Mass/volume] in Blood"),
    "plt": ("777-3", "Platelets [#/volume] in Blood by Automated count"),
    "anc": ("751-8", "Neutrophils [#/volume] in Blood by Automated count"),
    "igg": ("2465-3", "IgG [Mass/volume] in Serum or Plasma"),
    "lvef": ("10230-1", "Left ventricular Ejection fraction"),  # not in docs/terminology.md; common LOINC
}
UNITS = {  # UCUM code -> human unit string
    "g/dL": "g/dL", "g/L": "g/L", "mg/L": "mg/L", "mg/dL": "mg/dL", "U/L": "U/L",
    "umol/L": "umol/L", "mL/min/{1.73_m2}": "mL/min/1.73m2", "10*3/uL": "10*3/uL", "%": "%",
}
FISH = {  # abnormality -> (LOINC, display)
    "gain1q": ("81752-8", "Chromosome region 1q21 duplication in Bone marrow by FISH"),
    "del17p": ("72824-6", "Del(17)(p13) [Identifier] in Blood or Tissue by FISH Nominal"),
    "t(4;14)": ("72726-3", "t(4;14)(p16;q32)(FGFR3,IGH) fusion transcript [Identifier] in Blood or Tissue by FISH Nominal"),
    "t(14;16)": ("77033-9", "t(14;16)(q32;q23)(IGH,MAF) fusion transcript in Blood or Tissue by FISH"),
}
DETECTED = {"system": LOINC, "code": "LA11882-0", "display": "Detected"}
NOT_DETECTED = {"system": LOINC, "code": "LA11883-8", "display": "Not detected"}
ECOG_ANSWERS = ["LA9622-7", "LA9623-5", "LA9624-3", "LA9625-0", "LA9626-8", "LA9627-6"]

# --- Drugs (docs/terminology.md#drugs): name -> (RxNorm IN, ATC) ----------------------------
DRUG = {
    "lenalidomide": ("342369", "L04AX04"),
    "pomalidomide": ("1369713", "L04AX06"),
    "bortezomib": ("358258", "L01XG01"),
    "carfilzomib": ("1302966", "L01XG02"),
    "daratumumab": ("1721947", "L01FC01"),
    "elotuzumab": ("1726104", "L01FX08"),
    "dexamethasone": ("3264", "H02AB02"),
    "melphalan": ("6718", "L01AA03"),
}


def _d(s: str) -> date:
    return date.fromisoformat(s)


def med_concept(drug: str, *, text: str | None = None, atc: bool = False) -> dict:
    """A CodeableConcept coded with the RxNorm ingredient (and optionally ATC)."""
    rx, atc_code = DRUG[drug]
    coding = [{"system": RXNORM, "code": rx, "display": drug}]
    if atc:
        coding.append({"system": ATC, "code": atc_code, "display": drug})
    out = {"coding": coding}
    if text:
        out["text"] = text
    return out


class PatientBuilder:
    """Collects one patient's resources with stable ids `<patient-id>-<kind>-<nn>`."""

    def __init__(self, pid: str, *, gender: str, birth_date: str, name: tuple[str, str]):
        self.pid = pid
        self.ref = {"reference": f"Patient/{pid}"}
        self.resources: list[dict] = [{
            "resourceType": "Patient", "id": pid,
            "identifier": [{"system": "urn:oid:2.16.840.1.113883.19.5.99999.1", "value": f"DEMO-{pid}"}],
            "active": True,
            "name": [{"use": "official", "family": name[0], "given": [name[1]]}],
            "gender": gender, "birthDate": birth_date,
        }]
        self._n: dict[str, int] = {}

    def _id(self, kind: str) -> str:
        self._n[kind] = self._n.get(kind, 0) + 1
        return f"{self.pid}-{kind}-{self._n[kind]:02d}"

    def add(self, resource: dict) -> dict:
        self.resources.append(resource)
        return resource

    # ---- observations -----------------------------------------------------------------------
    def lab(self, key: str, when: str, value: float, unit: str, *, status: str = "final",
            ref_high: float | None = None, kind: str | None = None) -> dict:
        code, display = LAB[key]
        obs = {
            "resourceType": "Observation", "id": self._id(kind or key), "status": status,
            "category": [{"coding": [{"system": OBS_CAT, "code": "laboratory", "display": "Laboratory"}]}],
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
            "subject": self.ref, "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": UNITS[unit], "system": UCUM, "code": unit},
        }
        if ref_high is not None:
            obs["referenceRange"] = [{"high": {"value": ref_high, "unit": UNITS[unit], "system": UCUM, "code": unit}}]
        return self.add(obs)

    def lab_without_unit(self, key: str, when: str, value: float) -> dict:
        """A numeric result whose sender forgot the unit: must become a data gap, never a guess."""
        code, display = LAB[key]
        return self.add({
            "resourceType": "Observation", "id": self._id(key), "status": "final",
            "category": [{"coding": [{"system": OBS_CAT, "code": "laboratory", "display": "Laboratory"}]}],
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
            "subject": self.ref, "effectiveDateTime": when, "valueQuantity": {"value": value},
        })

    def lab_string(self, key: str, when: str, text: str) -> dict:
        """A result reported as text, e.g. '<0.1 g/dL' (below the assay's limit)."""
        code, display = LAB[key]
        return self.add({
            "resourceType": "Observation", "id": self._id(key), "status": "final",
            "category": [{"coding": [{"system": OBS_CAT, "code": "laboratory", "display": "Laboratory"}]}],
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
            "subject": self.ref, "effectiveDateTime": when, "valueString": text,
        })

    def series(self, key: str, unit: str, points: list[tuple[str, float]], **kw) -> None:
        for when, value in points:
            self.lab(key, when, value, unit, **kw)

    def fish(self, when: str, findings: dict[str, bool]) -> None:
        for abnormality, present in findings.items():
            code, display = FISH[abnormality]
            self.add({
                "resourceType": "Observation", "id": self._id("fish"), "status": "final",
                "category": [{"coding": [{"system": OBS_CAT, "code": "laboratory", "display": "Laboratory"}]}],
                "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": abnormality},
                "subject": self.ref, "effectiveDateTime": when,
                "valueCodeableConcept": {"coding": [DETECTED if present else NOT_DETECTED]},
            })

    def ecog(self, when: str, score: int, *, as_answer: bool = False) -> None:
        obs = {
            "resourceType": "Observation", "id": self._id("ecog"), "status": "final",
            "category": [{"coding": [{"system": OBS_CAT, "code": "survey", "display": "Survey"}]}],
            "code": {"coding": [{"system": LOINC, "code": "89247-1", "display": "ECOG Performance Status score"}]},
            "subject": self.ref, "effectiveDateTime": when,
        }
        if as_answer:  # LOINC answer list LL529-9
            obs["valueCodeableConcept"] = {"coding": [{"system": LOINC, "code": ECOG_ANSWERS[score],
                                                       "display": str(score)}]}
        else:
            obs["valueInteger"] = score
        self.add(obs)

    # ---- conditions and procedures -------------------------------------------------------------
    def condition(self, kind: str, codings: list[dict], text: str, onset: str, *,
                  clinical: str = "active", verification: str = "confirmed") -> None:
        self.add({
            "resourceType": "Condition", "id": self._id(kind),
            "clinicalStatus": {"coding": [{"system": COND_CLINICAL, "code": clinical}]},
            "verificationStatus": {"coding": [{"system": COND_VERIF, "code": verification}]},
            "category": [{"coding": [{"system": COND_CAT, "code": "problem-list-item", "display": "Problem List Item"}]}],
            "code": {"coding": codings, "text": text},
            "subject": self.ref, "onsetDateTime": onset, "recordedDate": onset,
        })

    def myeloma(self, onset: str, text: str, icd: str = "C90.00", **kw) -> None:
        icd_display = {"C90.00": "Multiple myeloma not having achieved remission",
                       "C90.01": "Multiple myeloma in remission",
                       "C90.02": "Multiple myeloma in relapse"}[icd]
        self.condition("mm", [{"system": SNOMED, "code": "109989006", "display": "Multiple myeloma (disorder)"},
                              {"system": ICD10CM, "code": icd, "display": icd_display}], text, onset, **kw)

    def transplant(self, when: str) -> None:
        self.add({
            "resourceType": "Procedure", "id": self._id("asct"), "status": "completed",
            "code": {"coding": [{"system": SNOMED, "code": "234336002", "display": "Hemopoietic stem cell transplant"}],
                     "text": "Autologous peripheral blood stem cell transplant"},
            "subject": self.ref, "performedDateTime": when,
        })

    def echocardiogram(self, when: str, lvef: float) -> None:
        self.add({
            "resourceType": "Procedure", "id": self._id("echo"), "status": "completed",
            "code": {"coding": [{"system": SNOMED, "code": "40701008", "display": "Echocardiography"}],
                     "text": "Transthoracic echocardiogram"},
            "subject": self.ref, "performedDateTime": when,
        })
        self.lab("lvef", when, lvef, "%")

    def imaging_report(self, when: str, text: str, conclusion: str) -> None:
        self.add({
            "resourceType": "DiagnosticReport", "id": self._id("imaging"), "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD",
                                      "display": "Radiology"}]}],
            "code": {"text": text}, "subject": self.ref, "effectiveDateTime": when, "issued": f"{when}T16:00:00Z",
            "conclusion": conclusion,
        })

    # ---- medications ----------------------------------------------------------------------------
    def med_statement(self, drug: str, start: str, end: str | None, status: str, *, text: str | None = None,
                      concept: dict | None = None, dosage: str | None = None) -> None:
        period = {"start": start, **({"end": end} if end else {})}
        res = {"resourceType": "MedicationStatement", "id": self._id(f"ms-{drug}"), "status": status,
               "medicationCodeableConcept": concept or med_concept(drug, text=text),
               "subject": self.ref, "effectivePeriod": period, "dateAsserted": end or start}
        if dosage:
            res["dosage"] = [{"text": dosage}]
        self.add(res)

    def med_request(self, drug: str, start: str, end: str | None, status: str, *, text: str | None = None,
                    concept: dict | None = None, dosage: str = "", atc: bool = False) -> None:
        bounds = {"start": start, **({"end": end} if end else {})}
        self.add({
            "resourceType": "MedicationRequest", "id": self._id(f"mr-{drug}"), "status": status, "intent": "order",
            "medicationCodeableConcept": concept or med_concept(drug, text=text, atc=atc),
            "subject": self.ref, "authoredOn": start,
            "dosageInstruction": [{"text": dosage or drug,
                                   "timing": {"repeat": {"boundsPeriod": bounds}}}],
        })

    def med_admin(self, drug: str, when: str, *, text: str | None = None, concept: dict | None = None,
                  dose: tuple[float, str] | None = None, route: str | None = None) -> None:
        res = {"resourceType": "MedicationAdministration", "id": self._id(f"ma-{drug}"), "status": "completed",
               "medicationCodeableConcept": concept or med_concept(drug, text=text),
               "subject": self.ref, "effectiveDateTime": when}
        if dose or route:
            dosage: dict = {}
            if route:
                dosage["text"] = route
            if dose:
                dosage["dose"] = {"value": dose[0], "unit": dose[1], "system": UCUM, "code": dose[1]}
            res["dosage"] = dosage
        self.add(res)


def cycle_days(start: str, cycles: int, length: int, days: list[int]) -> list[str]:
    """Dose dates for `cycles` cycles of `length` days, dosing on the (1-based) `days`."""
    s = _d(start)
    return [(s + timedelta(days=c * length + d - 1)).isoformat() for c in range(cycles) for d in days]


# =================================================================================================
# The patients
# =================================================================================================

def vignette() -> PatientBuilder:
    """The review's 71-year-old: IgG kappa, ISS II / R-ISS II with gain 1q21; VRd, ASCT, two years of
    lenalidomide maintenance stopped 2023-12-18; M-spike 2 -> 7 g/L about four years from diagnosis,
    seen on two consecutive results (2025-04-28 and 2025-06-09); calcium, creatinine, eGFR and
    haemoglobin normal; whole-body low-dose CT without new lesions; ECOG 1."""
    p = PatientBuilder("mm-vignette", gender="male", birth_date="1954-03-14", name=("Vignette", "Arthur"))
    p.myeloma("2021-05-10", "IgG kappa multiple myeloma")
    # SPEP: the US reference lab reports g/dL until 2021, the local lab g/L afterwards.
    p.series("spep", "g/dL", [("2021-05-04", 3.2), ("2021-07-05", 1.1), ("2021-09-01", 0.4),
                              ("2021-12-20", 0.3)])
    p.series("spep", "g/L", [("2022-06-13", 2.0), ("2022-12-12", 2.0), ("2023-06-12", 2.0),
                             ("2023-12-11", 2.1), ("2024-06-10", 2.4), ("2024-10-14", 3.0),
                             ("2025-01-13", 4.6)])
    p.lab("spep", "2025-04-28", 0.71, "g/dL")  # 7.1 g/L: first result meeting IMWG PD (>= +5 g/L, >= +25 %)
    p.lab("spep", "2025-06-09", 7.3, "g/L", status="preliminary")  # superseded by the final result below
    p.lab("spep", "2025-06-09", 7.3, "g/L")  # confirms the rise: biochemical relapse
    # Free light chains: kappa involved; ratio ~40 at relapse; kappa rise (186 mg/L) stays below SPR's 200.
    p.lab("kappa", "2021-05-04", 48.0, "mg/dL")
    p.lab("lambda", "2021-05-04", 0.8, "mg/dL")
    p.series("kappa", "mg/L", [("2022-06-13", 14.0), ("2023-06-12", 15.0), ("2024-06-10", 31.0),
                               ("2025-01-13", 96.0), ("2025-04-28", 190.0), ("2025-06-09", 200.0)])
    p.series("lambda", "mg/L", [("2022-06-13", 9.0), ("2023-06-12", 8.0), ("2024-06-10", 7.0),
                                ("2025-01-13", 6.0), ("2025-04-28", 5.0), ("2025-06-09", 5.0)])
    # Staging at diagnosis: b2m 4.2 mg/L (ISS II), albumin 36 g/L, LDH normal.
    p.lab("b2m", "2021-05-04", 4.2, "mg/L")
    p.lab("albumin", "2021-05-04", 3.6, "g/dL")
    p.lab("ldh", "2021-05-04", 198, "U/L", ref_high=250)
    p.lab("b2m", "2025-06-09", 2.6, "mg/L")  # stable, not rising, at relapse
    p.lab("albumin", "2025-06-09", 40.0, "g/L")
    p.lab("ldh", "2025-06-09", 182, "U/L", ref_high=250)
    p.fish("2021-05-12", {"gain1q": True, "del17p": False, "t(4;14)": False, "t(14;16)": False})
    # Normal calcium, renal function, haemoglobin.
    p.series("calcium", "mg/dL", [("2021-05-04", 9.8), ("2025-04-28", 9.4), ("2025-06-09", 9.3)])
    p.series("creat-mass", "mg/dL", [("2021-05-04", 1.0), ("2025-04-28", 0.9)])
    p.lab("creat-molar", "2025-06-09", 82, "umol/L")
    p.lab("egfr", "2025-06-09", 82, "mL/min/{1.73_m2}")
    p.series("hb", "g/dL", [("2021-05-04", 11.2), ("2024-06-10", 13.6), ("2025-01-13", 13.5), ("2025-04-28", 13.4)])
    p.lab("hb", "2025-06-09", 134, "g/L")
    p.lab("plt", "2025-06-09", 210, "10*3/uL")
    p.lab("anc", "2025-06-09", 3.1, "10*3/uL")
    p.lab("igg", "2025-06-09", 1350, "mg/dL")
    p.ecog("2021-05-10", 1)
    p.ecog("2025-06-09", 1)
    p.imaging_report("2025-05-20", "Whole-body low-dose CT",
                     "No new or worsening lytic bone lesions. No extramedullary disease.")
    # Line 1: VRd x4 (21-day cycles) 2021-06-01 .. 2021-08-23, HDM + ASCT, lenalidomide maintenance x2 years.
    p.med_request("lenalidomide", "2021-06-01", "2021-08-23", "completed",
                  dosage="lenalidomide 25 mg PO days 1-14 of a 21-day cycle")
    for when in cycle_days("2021-06-01", 4, 21, [1, 4, 8, 11]):
        p.med_admin("bortezomib", when, dose=(1.3, "mg/m2"), route="subcutaneous")
    p.med_statement("dexamethasone", "2021-06-01", "2021-08-23", "completed", dosage="20 mg PO weekly")
    p.med_admin("melphalan", "2021-10-18", dose=(200, "mg/m2"), route="intravenous, high-dose conditioning before ASCT")
    p.transplant("2021-10-20")
    p.med_statement("lenalidomide", "2021-12-20", "2023-12-18", "completed",
                    text="Revlimid (lenalidomide) 10 mg daily, maintenance, fixed two years",
                    dosage="10 mg PO daily days 1-21 of a 28-day cycle")
    return p


def len_refractory() -> PatientBuilder:
    """Progression while on lenalidomide maintenance (still active): refractory to lenalidomide;
    bortezomib (Velcade) given only at induction in 2021, exposed but not refractory; beta-2
    microglobulin rising. Recent echocardiogram on record (for the carfilzomib order-sign)."""
    p = PatientBuilder("mm-len-refractory", gender="female", birth_date="1961-08-22", name=("Refractory", "Helen"))
    p.myeloma("2021-02-15", "IgG lambda multiple myeloma", icd="C90.02")
    p.series("spep", "g/L", [("2021-02-10", 38.0), ("2021-04-12", 12.0), ("2021-06-07", 6.0),
                             ("2021-10-04", 3.5), ("2022-04-04", 3.0), ("2022-10-03", 3.0),
                             ("2023-04-03", 3.1), ("2023-10-02", 3.4), ("2024-04-01", 4.2),
                             ("2024-10-07", 5.8), ("2025-01-06", 6.5),
                             ("2025-03-31", 9.4),  # first result meeting PD (nadir 3.0 g/L)
                             ("2025-05-26", 11.8)])  # confirmed; lenalidomide still being taken
    p.series("lambda", "mg/L", [("2021-02-10", 310.0), ("2022-04-04", 18.0), ("2024-10-07", 41.0),
                                ("2025-03-31", 78.0), ("2025-05-26", 95.0)])
    p.series("kappa", "mg/L", [("2021-02-10", 6.0), ("2022-04-04", 9.0), ("2024-10-07", 8.0),
                               ("2025-03-31", 7.0), ("2025-05-26", 7.0)])
    p.lab("b2m", "2021-02-10", 3.1, "mg/L")  # ISS I with albumin 41 g/L
    p.lab("albumin", "2021-02-10", 41.0, "g/L")
    p.lab("ldh", "2021-02-10", 170, "U/L", ref_high=250)
    p.fish("2021-02-18", {"gain1q": False, "del17p": False, "t(4;14)": False, "t(14;16)": False})
    p.lab("b2m", "2025-05-26", 4.1, "mg/L")  # +32 % vs the start of the current line: rising
    p.lab("albumin", "2025-05-26", 39.0, "g/L")
    p.lab("ldh", "2025-05-26", 205, "U/L", ref_high=250)
    p.series("calcium", "mg/dL", [("2025-03-31", 9.6), ("2025-05-26", 9.5)])
    p.series("creat-molar", "umol/L", [("2021-02-10", 71), ("2025-03-31", 74), ("2025-05-26", 76)])
    p.lab("egfr", "2025-05-26", 78, "mL/min/{1.73_m2}")
    p.series("hb", "g/L", [("2021-02-10", 104), ("2024-10-07", 128), ("2025-03-31", 127), ("2025-05-26", 125)])
    p.lab("plt", "2025-05-26", 188, "10*3/uL")
    p.lab("anc", "2025-05-26", 2.4, "10*3/uL")
    p.ecog("2025-05-26", 0)
    p.echocardiogram("2025-05-12", 62)
    # Line 1: VRd x4 (21-day), ASCT, lenalidomide maintenance from 2021-09-06, still active.
    p.med_statement("lenalidomide", "2021-03-01", "2021-05-23", "completed", dosage="25 mg PO days 1-14")
    p.med_request("bortezomib", "2021-03-01", "2021-05-23", "completed", text="Velcade 1.3 mg/m2 SC",
                  dosage="Velcade (bortezomib) 1.3 mg/m2 SC days 1, 4, 8, 11")
    p.med_request("dexamethasone", "2021-03-01", "2021-05-23", "completed", dosage="20 mg PO weekly")
    p.transplant("2021-07-12")
    p.med_request("lenalidomide", "2021-09-06", None, "active", atc=True,
                  dosage="lenalidomide 10 mg PO days 1-21 of a 28-day cycle (maintenance)")
    return p


def triple_class() -> PatientBuilder:
    """Three lines, triple-class exposed and refractory (IMiD: lenalidomide, pomalidomide; PI:
    carfilzomib; anti-CD38: daratumumab), progressing on EPd with a >= 20 g/L haemoglobin fall:
    clinical relapse. Darzalex Faspro recorded with a product-level RxNorm code only; Pomalyst by
    its brand code and text only; Kyprolis and Empliciti by brand text."""
    p = PatientBuilder("mm-triple-class", gender="male", birth_date="1958-11-03", name=("Triple", "George"))
    p.myeloma("2017-01-16", "IgG kappa multiple myeloma", icd="C90.02")
    # Line 1 (2017-02 .. 2019-10): VRd, ASCT, lenalidomide maintenance; progression on lenalidomide.
    p.series("spep", "g/L", [("2017-01-10", 41.0), ("2017-04-24", 9.0), ("2017-09-04", 3.0),
                             ("2018-03-05", 2.5), ("2018-09-03", 2.5), ("2019-03-04", 3.6),
                             ("2019-08-05", 8.1),  # PD on lenalidomide (nadir 2.5)
                             ("2019-09-30", 9.6)])  # confirmed
    # Line 2 (2019-10-28 .. 2022-01-31): DKd; progression on daratumumab + carfilzomib.
    p.series("spep", "g/L", [("2019-10-28", 9.8), ("2020-02-03", 3.1), ("2020-06-01", 1.0),
                             ("2020-12-07", 1.0), ("2021-06-07", 2.9),
                             ("2021-11-01", 6.4),  # PD on DKd (nadir 1.0)
                             ("2021-12-13", 8.0)])  # confirmed
    # Line 3 (2022-02-14 .. ongoing): EPd; progression now, with anaemia (clinical relapse).
    p.series("spep", "g/L", [("2022-02-14", 8.6), ("2022-06-13", 4.4), ("2022-10-10", 3.2),
                             ("2023-06-12", 3.3), ("2024-03-11", 4.8), ("2024-10-14", 6.9),
                             ("2025-03-17", 8.9),  # PD on EPd (nadir 3.2)
                             ("2025-05-12", 10.4)])  # confirmed
    p.series("kappa", "mg/L", [("2017-01-10", 620.0), ("2020-06-01", 22.0), ("2022-10-10", 35.0),
                               ("2025-03-17", 160.0), ("2025-05-12", 240.0)])
    p.series("lambda", "mg/L", [("2017-01-10", 5.0), ("2020-06-01", 8.0), ("2022-10-10", 7.0),
                                ("2025-03-17", 6.0), ("2025-05-12", 6.0)])
    p.lab("b2m", "2017-01-10", 5.9, "mg/L")  # ISS III
    p.lab("albumin", "2017-01-10", 3.2, "g/dL")
    p.lab("ldh", "2017-01-10", 280, "U/L", ref_high=246)  # above the upper limit
    p.fish("2017-01-20", {"t(4;14)": True, "del17p": False, "gain1q": False, "t(14;16)": False})
    p.lab("b2m", "2025-05-12", 4.4, "mg/L")
    p.lab("albumin", "2025-05-12", 36.0, "g/L")
    p.series("calcium", "mg/dL", [("2025-03-17", 9.7), ("2025-05-12", 9.9)])
    p.series("creat-mass", "mg/dL", [("2022-02-14", 1.0), ("2025-03-17", 1.1), ("2025-05-12", 1.1)])
    p.lab("egfr", "2025-05-12", 71, "mL/min/{1.73_m2}")
    # Haemoglobin: best 124 g/L since the line-3 nadir, 99 g/L now (a fall of 25 g/L).
    p.series("hb", "g/L", [("2022-10-10", 121), ("2023-06-12", 124), ("2024-10-14", 118),
                           ("2025-03-17", 109), ("2025-05-12", 99)])
    p.lab("plt", "2025-05-12", 142, "10*3/uL")
    p.lab("anc", "2025-05-12", 1.9, "10*3/uL")
    p.lab("igg", "2025-05-12", 1480, "mg/dL")
    p.lab_without_unit("igg", "2025-03-17", 14.6)  # no unit: reported as a data gap
    p.ecog("2025-05-12", 1)
    # Line 1
    p.med_request("lenalidomide", "2017-02-06", "2017-04-30", "completed", dosage="25 mg PO days 1-14")
    p.med_request("bortezomib", "2017-02-06", "2017-04-30", "completed", dosage="1.3 mg/m2 SC days 1, 4, 8, 11")
    p.med_statement("dexamethasone", "2017-02-06", "2017-04-30", "completed")
    p.med_admin("melphalan", "2017-06-17", dose=(200, "mg/m2"), route="intravenous, high-dose conditioning before ASCT")
    p.transplant("2017-06-19")
    p.med_statement("lenalidomide", "2017-08-14", "2019-10-21", "stopped", dosage="10 mg PO days 1-21")
    # Line 2: Darzalex Faspro (product-level RxNorm code only) + Kyprolis + dexamethasone.
    faspro = {"coding": [{"system": RXNORM, "code": "2372199",
                          "display": "daratumumab / hyaluronidase-fihj"}],
              "text": "Darzalex Faspro 1800 mg / 30,000 units SC"}
    dara_days = (cycle_days("2019-10-28", 2, 28, [1, 8, 15, 22]) + cycle_days("2019-12-23", 4, 28, [1, 15])
                 + cycle_days("2020-04-13", 24, 28, [1]))
    for when in [d for d in dara_days if d <= "2022-01-31"]:
        p.med_admin("daratumumab", when, concept=faspro, route="subcutaneous")
    p.med_request("carfilzomib", "2019-10-28", "2022-01-31", "completed", text="Kyprolis",
                  dosage="Kyprolis (carfilzomib) 56 mg/m2 IV days 1, 2, 8, 9, 15, 16")
    p.med_request("dexamethasone", "2019-10-28", "2022-01-31", "completed", dosage="40 mg weekly")
    # Line 3: Empliciti + Pomalyst + dexamethasone, ongoing.
    for when in cycle_days("2022-02-14", 2, 28, [1, 8, 15, 22]) + cycle_days("2022-04-11", 45, 28, [1]):
        if when <= "2025-06-16":
            p.med_admin("elotuzumab", when, text="Empliciti 10 mg/kg IV", route="intravenous")
    pomalyst = {"coding": [{"system": RXNORM, "code": "1369719", "display": "Pomalyst"}],
                "text": "Pomalyst 4 mg capsule"}
    p.med_request("pomalidomide", "2022-02-14", None, "active", concept=pomalyst,
                  dosage="4 mg PO days 1-21 of a 28-day cycle")
    p.med_statement("dexamethasone", "2022-02-14", None, "active", dosage="40 mg PO weekly")
    return p


def stable_remission() -> PatientBuilder:
    """Very good partial response on lenalidomide maintenance: M-protein about 1 g/L and flat for
    two years, light chains normal. No relapse, no treatment advice."""
    p = PatientBuilder("mm-stable-remission", gender="female", birth_date="1966-04-02", name=("Stable", "Maria"))
    p.myeloma("2022-09-05", "IgG kappa multiple myeloma", icd="C90.01")
    p.series("spep", "g/L", [("2022-09-01", 24.0), ("2022-11-07", 6.0), ("2023-01-09", 2.5)])
    p.lab_string("spep", "2023-05-08", "<0.1 g/dL")  # below the assay's quantitation limit
    p.series("spep", "g/L", [("2023-07-03", 1.2), ("2023-10-02", 1.1), ("2024-01-08", 1.0),
                             ("2024-04-08", 1.1), ("2024-07-08", 1.0), ("2024-10-07", 1.1),
                             ("2025-01-06", 1.0), ("2025-04-07", 1.1), ("2025-06-16", 1.0)])
    # A mis-keyed result, withdrawn by the lab: it would look like progression if it were read.
    p.lab("spep", "2025-03-10", 11.0, "g/L", status="entered-in-error")
    p.series("kappa", "mg/L", [("2022-09-01", 250.0), ("2024-07-08", 16.0), ("2025-06-16", 15.0)])
    p.series("lambda", "mg/L", [("2022-09-01", 9.0), ("2024-07-08", 12.0), ("2025-06-16", 12.0)])
    p.lab("b2m", "2022-09-01", 2.8, "mg/L")
    p.lab("albumin", "2022-09-01", 42.0, "g/L")
    p.lab("ldh", "2022-09-01", 160, "U/L", ref_high=250)
    p.fish("2022-09-08", {"gain1q": False, "del17p": False, "t(4;14)": False, "t(14;16)": False})
    p.series("calcium", "mg/dL", [("2025-01-06", 9.3), ("2025-06-16", 9.2)])
    p.series("creat-molar", "umol/L", [("2025-01-06", 64), ("2025-06-16", 66)])
    p.lab("egfr", "2025-06-16", 95, "mL/min/{1.73_m2}")
    p.series("hb", "g/L", [("2025-01-06", 129), ("2025-06-16", 131)])
    p.ecog("2025-06-16", 0)
    p.med_request("lenalidomide", "2022-09-19", "2022-12-11", "completed", dosage="25 mg PO days 1-14")
    p.med_request("bortezomib", "2022-09-19", "2022-12-11", "completed", text="Velcade")
    p.med_request("dexamethasone", "2022-09-19", "2022-12-11", "completed")
    p.transplant("2023-02-06")
    p.med_request("lenalidomide", "2023-04-03", None, "active", text="Revlimid 10 mg",
                  dosage="10 mg PO days 1-21 of a 28-day cycle (maintenance)")
    return p


def no_myeloma() -> PatientBuilder:
    """No myeloma: hypertension, and a myeloma Condition that the work-up refuted. Out of scope."""
    p = PatientBuilder("mm-no-myeloma", gender="male", birth_date="1960-12-01", name=("Nomyeloma", "Peter"))
    p.condition("htn", [{"system": SNOMED, "code": "38341003", "display": "Hypertensive disorder"}],
                "Hypertension", "2015-03-10")
    p.myeloma("2024-11-04", "Suspected multiple myeloma (ruled out)", verification="refuted", clinical="resolved")
    p.series("hb", "g/L", [("2024-11-04", 141), ("2025-05-05", 143)])
    p.series("creat-molar", "umol/L", [("2024-11-04", 88), ("2025-05-05", 90)])
    return p


def cardiac() -> PatientBuilder:
    """74-year-old with heart failure (carfilzomib caution) and eGFR 52 (renal dose adjustment),
    ECOG 2 recorded as a LOINC answer: intermediate fitness. Progression on continuous
    lenalidomide after VRd-lite: lenalidomide refractory. No echocardiogram on record."""
    p = PatientBuilder("mm-cardiac", gender="male", birth_date="1950-07-19", name=("Cardiac", "Walter"))
    p.myeloma("2020-03-02", "IgG kappa multiple myeloma", icd="C90.02")
    p.condition("hf", [{"system": SNOMED, "code": "84114007", "display": "Heart failure (disorder)"},
                       {"system": ICD10CM, "code": "I50.9", "display": "Heart failure, unspecified"}],
                "Heart failure with reduced ejection fraction", "2023-02-10")
    p.series("spep", "g/L", [("2020-02-27", 29.0), ("2020-09-07", 7.0), ("2021-06-07", 4.0),
                             ("2022-06-06", 4.2), ("2023-06-05", 4.5), ("2024-06-03", 4.4),
                             ("2024-12-02", 6.8),
                             ("2025-03-03", 9.6),  # first result meeting PD (nadir 4.0)
                             ("2025-05-19", 10.9)])  # confirmed, still on lenalidomide
    p.lab("spep", "2025-05-19", 1.09, "g/dL")  # the same result again from a second feed (duplicate)
    p.series("kappa", "mg/L", [("2020-02-27", 390.0), ("2021-06-07", 28.0), ("2025-05-19", 110.0)])
    p.series("lambda", "mg/L", [("2020-02-27", 7.0), ("2021-06-07", 10.0), ("2025-05-19", 9.0)])
    p.lab("b2m", "2020-02-27", 3.9, "mg/L")
    p.lab("albumin", "2020-02-27", 3.4, "g/dL")
    p.lab("ldh", "2020-02-27", 210, "U/L", ref_high=250)
    p.fish("2020-03-05", {"gain1q": False, "del17p": False, "t(4;14)": False, "t(14;16)": False})
    p.series("calcium", "mg/dL", [("2025-03-03", 9.4), ("2025-05-19", 9.6)])
    p.series("creat-mass", "mg/dL", [("2025-03-03", 1.35), ("2025-05-19", 1.38)])
    p.lab("egfr", "2025-05-19", 52, "mL/min/{1.73_m2}")
    p.series("hb", "g/dL", [("2024-12-02", 12.6), ("2025-03-03", 12.4), ("2025-05-19", 12.3)])
    p.ecog("2025-05-19", 2, as_answer=True)
    p.med_request("bortezomib", "2020-03-16", "2020-12-14", "completed", dosage="1.3 mg/m2 SC weekly (VRd-lite)")
    p.med_request("lenalidomide", "2020-03-16", None, "active", text="Revlimid 15 mg",
                  dosage="15 mg PO days 1-21 of a 28-day cycle, continued as Rd")
    p.med_statement("dexamethasone", "2020-03-16", None, "active", dosage="20 mg PO weekly")
    return p


PATIENTS = {
    "vignette": vignette,
    "len-refractory": len_refractory,
    "triple-class": triple_class,
    "stable-remission": stable_remission,
    "no-myeloma": no_myeloma,
    "cardiac": cardiac,
}

# Key verdicts of the assessment (docs/assessment-contract.md) as of AS_OF, by the rules of
# docs/clinical-model.md. Keys are dotted paths into the assessment (tests/model compares
# them literally), except `regimensInclude` (codes that must appear) and `regimensFirst` (the
# set one of which must be ranked first).
EXPECTED = {
    "vignette": {
        "patientId": "mm-vignette", "inScope": True, "relapse.status": "biochemical",
        "relapse.date": "2025-04-28", "relapse.significantParaproteinRelapse": False,
        "drugs.lenalidomide.exposed": True, "drugs.lenalidomide.refractory": False,
        "drugs.bortezomib.refractory": False, "refractoryCategory": "none", "tripleClassExposed": False,
        "risk.iss": "II", "risk.riss": "II", "risk.highRiskCytogenetics": ["gain1q"], "risk.b2mTrend": "stable",
        "fitness.age": 71, "fitness.ecog": 1, "fitness.frailty": "fit",
        "timing": "treat-now", "strategy": "retreat-same-class", "regimensInclude": ["DRd", "KRd", "IRd"],
        "drugs.lenalidomide.activeAtRelapse": False, "drugs.lenalidomide.retreatmentSignal": False,
        "dataFreshness": "fresh", "relapse.latestMarkerDate": "2025-06-09", "relapse.crabDate": None,
    },
    "len-refractory": {
        "patientId": "mm-len-refractory", "inScope": True, "relapse.status": "biochemical",
        "relapse.date": "2025-03-31",
        "drugs.lenalidomide.refractory": True, "drugs.lenalidomide.active": True,
        "drugs.bortezomib.exposed": True, "drugs.bortezomib.refractory": False,
        "refractoryCategory": "single", "tripleClassExposed": False, "risk.iss": "I", "risk.riss": "I",
        "risk.b2mTrend": "rising", "fitness.frailty": "fit",
        "timing": "treat-now", "strategy": "switch-class", "regimensFirst": ["DVd", "DKd", "IsaKd"],
        "drugs.lenalidomide.activeAtRelapse": True, "drugs.lenalidomide.retreatmentSignal": False,
    },
    "triple-class": {
        "patientId": "mm-triple-class", "inScope": True, "relapse.status": "clinical",
        "relapse.crabFeatures": ["anaemia"],
        "drugs.lenalidomide.refractory": True, "drugs.pomalidomide.refractory": True,
        "drugs.carfilzomib.refractory": True, "drugs.daratumumab.refractory": True,
        "drugs.bortezomib.refractory": False,
        "refractoryCategory": "triple-class", "tripleClassExposed": True, "priorLines": 3,
        "risk.iss": "III", "risk.riss": "III", "risk.highRiskCytogenetics": ["t(4;14)"],
        "fitness.frailty": "fit", "timing": "treat-now", "strategy": "novel-mechanism", "regimensFirst": ["cilta-cel"],
        "relapse.crabDate": "2025-05-12",
    },
    "stable-remission": {
        "patientId": "mm-stable-remission", "inScope": True, "relapse.status": "none",
        "drugs.lenalidomide.active": True, "drugs.lenalidomide.refractory": False,
        "refractoryCategory": "none", "risk.iss": "I", "risk.riss": "I", "fitness.frailty": "fit",
        "timing": "none", "strategy": "none", "regimens": [], "dataFreshness": "fresh",
    },
    "no-myeloma": {
        "patientId": "mm-no-myeloma", "inScope": False, "timing": "none", "strategy": "none",
    },
    "cardiac": {
        "patientId": "mm-cardiac", "inScope": True, "relapse.status": "biochemical",
        "drugs.lenalidomide.refractory": True, "drugs.bortezomib.refractory": False,
        "refractoryCategory": "single", "fitness.age": 74, "fitness.ecog": 2,
        "fitness.frailty": "intermediate", "fitness.cautions": ["carfilzomib-cardiac", "renal-dose-adjust"],
        "timing": "treat-now", "strategy": "switch-class", "regimensFirst": ["DVd"],
        "drugs.lenalidomide.activeAtRelapse": True,
    },
}

# Words some `dataGaps` entry must mention (free text, so not a dotted-path verdict).
DATA_GAPS_MENTION = {"triple-class": ["igg"]}  # the IgG result without a unit

# =================================================================================================
# Serialisation
# =================================================================================================

def full_url(resource: dict) -> str:
    return "urn:uuid:" + str(uuid.uuid5(UUID_NAMESPACE, f"{resource['resourceType']}/{resource['id']}"))


def transaction_bundle(name: str, resources: list[dict]) -> dict:
    """A transaction of PUTs to client-assigned ids: idempotent on HAPI and sekmet alike."""
    return {
        "resourceType": "Bundle", "id": f"demo-{name}", "type": "transaction",
        "meta": {"tag": [{"system": "https://github.com/myeloma-cds/demo", "code": "synthetic",
                          "display": "Synthetic demo patient"}]},
        "entry": [{"fullUrl": full_url(r), "resource": r,
                   "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in resources],
    }


def searchset(resources: list[dict], base: str) -> dict:
    """The Bundle a FHIR server would return for a search (as a CDS client puts into prefetch)."""
    return {
        "resourceType": "Bundle", "type": "searchset", "total": len(resources),
        "entry": [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
                   "search": {"mode": "match"}} for r in resources],
    }


PREFETCH_KEYS = {  # prefetch key -> resource type (the service's discovery declares the same keys)
    "conditions": "Condition",
    "observations": "Observation",
    "medicationStatements": "MedicationStatement",
    "medicationRequests": "MedicationRequest",
    "medicationAdministrations": "MedicationAdministration",
    "procedures": "Procedure",
    "diagnosticReports": "DiagnosticReport",
}


def prefetch_for(resources: list[dict], base: str = LOCAL_FHIR_SERVER) -> dict:
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    out: dict = {"patient": copy.deepcopy(patient)}
    for key, rtype in PREFETCH_KEYS.items():
        out[key] = searchset([copy.deepcopy(r) for r in resources if r["resourceType"] == rtype], base)
    return out


def hook_instance(name: str) -> str:
    return str(uuid.uuid5(UUID_NAMESPACE, f"hookInstance/{name}"))


def patient_view(name: str, pid: str, resources: list[dict] | None) -> dict:
    body = {"hookInstance": hook_instance(f"patient-view-{name}" + ("" if resources else "-no-prefetch")),
            "hook": "patient-view", "fhirServer": LOCAL_FHIR_SERVER,
            "context": {"userId": "Practitioner/COREPRACTITIONER1", "patientId": pid}}
    if resources is not None:
        body["prefetch"] = prefetch_for(resources)
    return body


def carfilzomib_draft(pid: str) -> dict:
    """draftOrders for order-sign: an R4 MedicationRequest for carfilzomib, status draft."""
    rx, atc_code = DRUG["carfilzomib"]
    order = {
        "resourceType": "MedicationRequest", "id": f"{pid}-draft-carfilzomib", "status": "draft",
        "intent": "proposal",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rx, "display": "carfilzomib"},
                                                 {"system": ATC, "code": atc_code, "display": "carfilzomib"}],
                                      "text": "Kyprolis (carfilzomib) 56 mg/m2 IV"},
        "subject": {"reference": f"Patient/{pid}"}, "authoredOn": AS_OF,
        "dosageInstruction": [{"text": "carfilzomib 56 mg/m2 IV days 1, 2, 8, 9, 15, 16 of a 28-day cycle"}],
    }
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]}


def order_sign(name: str, pid: str, resources: list[dict]) -> dict:
    return {"hookInstance": hook_instance(f"order-sign-carfilzomib-{name}"), "hook": "order-sign",
            "fhirServer": LOCAL_FHIR_SERVER,
            "context": {"userId": "Practitioner/COREPRACTITIONER1", "patientId": pid,
                        "draftOrders": carfilzomib_draft(pid)},
            "prefetch": prefetch_for(resources)}


def dump(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def build(out_dir: Path = HERE) -> list[Path]:
    """Write every example under out_dir; returns the paths written."""
    written: list[Path] = []
    built = {name: make() for name, make in PATIENTS.items()}
    for name, p in built.items():
        path = out_dir / "patients" / f"{name}.json"
        dump(path, transaction_bundle(name, p.resources))
        written.append(path)
        path = out_dir / "hooks" / f"patient-view-{name}.json"
        dump(path, patient_view(name, p.pid, p.resources))
        written.append(path)
    path = out_dir / "hooks" / "patient-view-vignette-no-prefetch.json"
    dump(path, patient_view("vignette", built["vignette"].pid, None))
    written.append(path)
    for name in ("cardiac", "len-refractory"):
        path = out_dir / "hooks" / f"order-sign-carfilzomib-{name}.json"
        dump(path, order_sign(name, built[name].pid, built[name].resources))
        written.append(path)
    path = out_dir / "expected.json"
    dump(path, {"asOf": AS_OF, "patients": EXPECTED, "dataGapsMention": DATA_GAPS_MENTION,
                "orderSign": {"order-sign-carfilzomib-cardiac": "warning card about carfilzomib (heart failure)",
                              "order-sign-carfilzomib-len-refractory": "no card about carfilzomib (recent echo, no cardiac disease)"}})
    written.append(path)
    return written


if __name__ == "__main__":
    for p in build():
        print(p.relative_to(HERE.parent))
