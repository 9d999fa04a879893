"""Deterministic synthetic heavy myeloma patients as FHIR R4 resources (plain dicts).

One patient followed for about nine years: IgG-kappa myeloma, three lines of therapy
(VRd + ASCT + lenalidomide maintenance, then DPd, then KCd, on which the patient relapses
now), and `n_observations` Observations: marker (SPEP, serum free light chains), renal and
blood panels at every visit, staging labs (b2m, albumin, LDH, IgG) every fourth visit, ECOG
every tenth, one FISH panel at diagnosis. Units are a realistic mix of US and SI units so the
mapping's unit conversion is exercised. The medication history (about 350 resources) does not
grow with N: a heavy patient is heavy in labs.

The same (n, seed, end) always yields the same resources, byte for byte. `end` is the date of
the last visit plus three days; the benchmark passes today's date because the hook assesses
"as of today".
"""
from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable
from urllib.parse import parse_qs

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

DEFAULT_SEED = 20261123
DEFAULT_END = date(2026, 11, 20)
FOLLOW_UP_DAYS = 3260  # diagnosis to `end`: about nine years

# Serum M-protein course in g/L: (day since diagnosis, value); log-linear in between.
# Response to VRd/ASCT, plateau on lenalidomide maintenance, first relapse (day ~1700),
# response to DPd, second relapse (~2680), response to KCd, relapse on KCd now.
M_PROTEIN_COURSE = [
    (0, 38.0), (200, 1.6), (300, 1.2), (1550, 1.3), (1700, 9.0), (1900, 0.8), (2600, 0.9),
    (2680, 8.0), (2900, 2.0), (3100, 2.2), (FOLLOW_UP_DAYS, 12.0),
]


@dataclass(frozen=True)
class Analyte:
    code: str
    display: str
    unit: str | None  # UCUM code; None for valueInteger


# Only codes the service's prefetch asks for, so that all N Observations reach the hook.
CORE_PANEL = [  # every visit: markers, renal, blood
    Analyte("33358-3", "Protein.monoclonal [Mass/volume] in Serum or Plasma by Electrophoresis", "g/dL"),
    Analyte("36916-5", "Kappa light chains.free [Mass/volume] in Serum", "mg/L"),
    Analyte("33944-0", "Lambda light chains.free [Mass/volume] in Serum", "mg/L"),
    Analyte("48378-4", "Kappa light chains.free/Lambda light chains.free [Mass Ratio] in Serum", "{ratio}"),
    Analyte("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL"),
    Analyte("98979-8", "Glomerular filtration rate/1.73 sq M.predicted (CKD-EPI 2021)", "mL/min/{1.73_m2}"),
    Analyte("17861-6", "Calcium [Mass/volume] in Serum or Plasma", "mg/dL"),
    Analyte("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL"),
    Analyte("777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL"),
]
STAGING_PANEL = [  # every fourth visit
    Analyte("1952-1", "Beta-2-Microglobulin [Mass/volume] in Serum or Plasma", "mg/L"),
    Analyte("1751-7", "Albumin [Mass/volume] in Serum or Plasma", "g/dL"),
    Analyte("2532-0", "Lactate dehydrogenase [Enzymatic activity/volume] in Serum or Plasma", "U/L"),
    Analyte("2465-3", "IgG [Mass/volume] in Serum or Plasma", "mg/dL"),
]
ECOG = Analyte("89247-1", "ECOG Performance Status score", None)
FISH = [  # (code, display, detected)
    ("72824-6", "Del(17)(p13) in Blood or Tissue by FISH Nominal", False),
    ("72726-3", "t(4;14)(p16;q32)(FGFR3,IGH) fusion transcript by FISH Nominal", False),
    ("81752-8", "Chromosome region 1q21 duplication in Bone marrow by FISH", True),
]
OBSERVATIONS_PER_VISIT = len(CORE_PANEL) + len(STAGING_PANEL) / 4 + 1 / 10

DRUGS = {  # contract key -> (RxNorm ingredient, display)
    "bortezomib": ("358258", "bortezomib"),
    "lenalidomide": ("342369", "lenalidomide"),
    "dexamethasone": ("3264", "dexamethasone"),
    "daratumumab": ("1721947", "daratumumab"),
    "pomalidomide": ("1369713", "pomalidomide"),
    "carfilzomib": ("1302966", "carfilzomib"),
    "cyclophosphamide": ("3002", "cyclophosphamide"),
    "melphalan": ("6718", "melphalan"),
}


def m_protein(day: float) -> float:
    """Serum M-protein (g/L) on a day since diagnosis, log-linear between course points."""
    for (d0, v0), (d1, v1) in zip(M_PROTEIN_COURSE, M_PROTEIN_COURSE[1:], strict=False):
        if d0 <= day <= d1:
            f = (day - d0) / (d1 - d0)
            return math.exp(math.log(v0) + f * (math.log(v1) - math.log(v0)))
    return M_PROTEIN_COURSE[-1][1]


class _Builder:
    def __init__(self, n_observations: int, seed: int, end: date, patient_id: str):
        self.n = n_observations
        self.rng = random.Random(f"{seed}:{n_observations}")
        self.end = end
        self.diagnosis = end - timedelta(days=FOLLOW_UP_DAYS)
        self.pid = patient_id
        self.subject = {"reference": f"Patient/{patient_id}"}
        self.counter = 0

    def day(self, d: float) -> date:
        return self.diagnosis + timedelta(days=int(d))

    def next_id(self, kind: str) -> str:
        self.counter += 1
        return f"{self.pid}-{kind}{self.counter:05d}"

    def noisy(self, value: float, rel: float) -> float:
        return value * (1.0 + self.rng.uniform(-rel, rel))

    # --- Observations -------------------------------------------------------------------
    def observation(self, analyte: Analyte, when: date, minute: int, value: float,
                    ref_high: float | None = None) -> dict:
        obs = {
            "resourceType": "Observation",
            "id": "",
            "status": "final",
            "category": [{"coding": [{"system": OBS_CATEGORY, "code": "laboratory"}]}],
            "code": {"coding": [{"system": LOINC, "code": analyte.code, "display": analyte.display}]},
            "subject": self.subject,
            "effectiveDateTime": f"{when.isoformat()}T08:{minute % 60:02d}:00Z",
            "valueQuantity": {"value": round(value, 3), "unit": analyte.unit, "system": UCUM,
                              "code": analyte.unit},
        }
        if ref_high is not None:
            obs["referenceRange"] = [{"high": {"value": ref_high, "unit": analyte.unit, "system": UCUM,
                                               "code": analyte.unit}}]
        return obs

    def visit(self, d: float, index: int) -> list[dict]:
        when = self.day(d)
        mp = self.noisy(m_protein(d), 0.04)  # g/L
        years = d / 365.25
        kappa = self.noisy(15.0 + 40.0 * mp, 0.05)
        lam = self.noisy(9.0, 0.15)
        values = {
            "33358-3": mp / 10.0,  # g/dL
            "36916-5": kappa,
            "33944-0": lam,
            "48378-4": kappa / lam,
            "2160-0": self.noisy(0.95 + 0.03 * years, 0.08),
            "98979-8": self.noisy(74.0 - 2.0 * years, 0.06),
            "17861-6": self.noisy(9.4, 0.03),
            "718-7": self.noisy(13.2 - 0.08 * mp, 0.04),
            "777-3": self.noisy(215.0, 0.15),
        }
        out = [self.observation(a, when, index + i, values[a.code]) for i, a in enumerate(CORE_PANEL)]
        if index % 4 == 0:
            staging = {
                "1952-1": (self.noisy(2.6 + 0.08 * mp, 0.08), None),
                "1751-7": (self.noisy(3.9, 0.05), None),
                "2532-0": (self.noisy(185.0, 0.12), 250.0),
                "2465-3": (self.noisy(700.0 + 100.0 * mp, 0.05), None),
            }
            out += [self.observation(a, when, index + 20 + i, staging[a.code][0], staging[a.code][1])
                    for i, a in enumerate(STAGING_PANEL)]
        if index % 10 == 0:
            out.append({
                "resourceType": "Observation", "id": "", "status": "final",
                "category": [{"coding": [{"system": OBS_CATEGORY, "code": "survey"}]}],
                "code": {"coding": [{"system": LOINC, "code": ECOG.code, "display": ECOG.display}]},
                "subject": self.subject,
                "effectiveDateTime": f"{when.isoformat()}T09:00:00Z",
                "valueInteger": 1 if d < FOLLOW_UP_DAYS - 200 else 2,
            })
        return out

    def fish_panel(self) -> list[dict]:
        out = []
        for code, display, detected in FISH:
            out.append({
                "resourceType": "Observation", "id": "", "status": "final",
                "category": [{"coding": [{"system": OBS_CATEGORY, "code": "laboratory"}]}],
                "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                "subject": self.subject,
                "effectiveDateTime": f"{self.day(7).isoformat()}T10:00:00Z",
                "valueCodeableConcept": {"coding": [
                    {"system": SNOMED, "code": "260373001", "display": "Detected"} if detected else
                    {"system": SNOMED, "code": "260415000", "display": "Not detected"}]},
            })
        return out

    def observations(self) -> list[dict]:
        """Exactly n Observations: the FISH panel plus the newest visits' panels."""
        labs_wanted = max(0, self.n - len(FISH))
        visits = math.ceil(labs_wanted / OBSERVATIONS_PER_VISIT) + 2
        last_day = FOLLOW_UP_DAYS - 3
        step = last_day / max(1, visits - 1)
        labs: list[dict] = []
        for i in range(visits):
            labs.extend(self.visit(last_day - step * (visits - 1 - i), i))
        labs = labs[len(labs) - labs_wanted:] if labs_wanted else []
        obs = self.fish_panel()[: self.n] + labs
        for o in obs:
            o["id"] = self.next_id("o")
        return obs

    # --- Conditions, procedures, medications -------------------------------------------
    def conditions(self) -> list[dict]:
        def condition(codings: list[dict], text: str, onset: date) -> dict:
            return {
                "resourceType": "Condition", "id": self.next_id("c"),
                "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                               "code": "active"}]},
                "verificationStatus": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                          "code": "problem-list-item"}]}],
                "code": {"coding": codings, "text": text},
                "subject": self.subject,
                "onsetDateTime": onset.isoformat(),
                "recordedDate": onset.isoformat(),
            }
        return [
            condition([{"system": SNOMED, "code": "109989006", "display": "Multiple myeloma (disorder)"},
                       {"system": SNOMED, "code": "285421005", "display": "IgG myeloma"},
                       {"system": ICD10CM, "code": "C90.02", "display": "Multiple myeloma in relapse"}],
                      "IgG kappa multiple myeloma", self.diagnosis),
            condition([{"system": ICD10CM, "code": "G62.0", "display": "Drug-induced polyneuropathy"}],
                      "Bortezomib-induced peripheral neuropathy, grade 1", self.day(150)),
        ]

    def procedures(self) -> list[dict]:
        return [{
            "resourceType": "Procedure", "id": self.next_id("p"), "status": "completed",
            "code": {"coding": [{"system": SNOMED, "code": "709115004",
                                 "display": "Autologous hematopoietic stem cell transplant"}],
                     "text": "Autologous stem cell transplant (melphalan 200 mg/m2)"},
            "subject": self.subject, "performedDateTime": self.day(220).isoformat(),
        }]

    def medication(self, drug: str) -> dict:
        code, display = DRUGS[drug]
        return {"coding": [{"system": RXNORM, "code": code, "display": display}], "text": display}

    def administrations(self, drug: str, start: int, stop: int, days_in_cycle: Iterable[int], cycle: int,
                        dose: str) -> list[dict]:
        out = []
        days = list(days_in_cycle)
        for c0 in range(start, stop, cycle):
            for dd in days:
                if c0 + dd < stop:
                    out.append({
                        "resourceType": "MedicationAdministration", "id": self.next_id("a"),
                        "status": "completed", "medicationCodeableConcept": self.medication(drug),
                        "subject": self.subject,
                        "effectiveDateTime": f"{self.day(c0 + dd).isoformat()}T11:00:00Z",
                        "dosage": {"text": dose},
                    })
        return out

    def requests(self, drug: str, start: int, stop: int, cycle: int, active_now: bool, dose: str) -> list[dict]:
        out = []
        for c0 in range(start, stop, cycle):
            c1 = min(stop, c0 + cycle - 1)
            current = active_now and c1 >= stop - 1
            out.append({
                "resourceType": "MedicationRequest", "id": self.next_id("r"),
                "status": "active" if current else "completed", "intent": "order",
                "medicationCodeableConcept": self.medication(drug), "subject": self.subject,
                "authoredOn": self.day(c0 - 2).isoformat(),
                "dosageInstruction": [{"text": dose, "timing": {"repeat": {"boundsPeriod": {
                    "start": self.day(c0).isoformat(), "end": self.day(c1).isoformat()}}}}],
            })
        return out

    def statement(self, drug: str, start: int, stop: int | None, dose: str) -> dict:
        period = {"start": self.day(start).isoformat()}
        if stop is not None:
            period["end"] = self.day(stop).isoformat()
        return {
            "resourceType": "MedicationStatement", "id": self.next_id("s"),
            "status": "active" if stop is None else "completed",
            "medicationCodeableConcept": self.medication(drug), "subject": self.subject,
            "effectivePeriod": period, "dosage": [{"text": dose}],
        }

    def medications(self) -> list[dict]:
        now = FOLLOW_UP_DAYS
        out: list[dict] = []
        # Line 1: VRd x 8 cycles, ASCT (melphalan), lenalidomide maintenance to first relapse.
        out += self.administrations("bortezomib", 14, 182, (0, 3, 7, 10), 21, "1.3 mg/m2 SC")
        out += self.requests("lenalidomide", 14, 182, 21, False, "25 mg days 1-14")
        out += self.requests("dexamethasone", 14, 182, 21, False, "20 mg days 1,2,4,5,8,9,11,12")
        out += self.administrations("melphalan", 218, 219, (0,), 1, "200 mg/m2 IV")
        out.append(self.statement("lenalidomide", 300, 1705, "10 mg days 1-21 (maintenance)"))
        out += self.requests("lenalidomide", 300, 1705, 28, False, "10 mg days 1-21")
        # Line 2: daratumumab, pomalidomide, dexamethasone to second relapse.
        out += self.administrations("daratumumab", 1710, 1710 + 56, (0,), 7, "1800 mg SC")
        out += self.administrations("daratumumab", 1766, 1766 + 112, (0,), 14, "1800 mg SC")
        out += self.administrations("daratumumab", 1878, 2685, (0,), 28, "1800 mg SC")
        out += self.requests("pomalidomide", 1710, 2685, 28, False, "4 mg days 1-21")
        out.append(self.statement("dexamethasone", 1710, 2685, "40 mg weekly"))
        # Line 3: carfilzomib, cyclophosphamide, dexamethasone, ongoing.
        out += self.administrations("carfilzomib", 2690, now, (0, 7, 14), 28, "56 mg/m2 IV")
        out += self.requests("cyclophosphamide", 2690, now, 28, True, "300 mg/m2 days 1,8,15")
        out.append(self.statement("dexamethasone", 2690, None, "40 mg weekly"))
        return out

    def patient(self) -> dict:
        return {
            "resourceType": "Patient", "id": self.pid, "active": True,
            "identifier": [{"system": "urn:oid:1.2.3.4.5.1", "value": f"MRN-{self.pid}"}],
            "name": [{"family": "Benchmark", "given": ["Heavy"]}],
            "gender": "female", "birthDate": "1953-04-12",
        }

    def all(self) -> list[dict]:
        return [self.patient(), *self.conditions(), *self.procedures(), *self.observations(),
                *self.medications()]


def heavy_patient(n_observations: int, *, seed: int = DEFAULT_SEED, end: date = DEFAULT_END,
                  patient_id: str | None = None) -> list[dict]:
    """All resources of one heavy patient with exactly `n_observations` Observations."""
    return _Builder(n_observations, seed, end, patient_id or f"bench-{n_observations}").all()


def transaction_bundle(resources: list[dict]) -> dict:
    """A transaction Bundle that PUTs every resource under its own id (stable ids on the server)."""
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, r['resourceType'] + '/' + r['id'])}",
         "resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
        for r in resources]}


def searchset(resources: list[dict], base: str = "http://bench.local/fhir") -> dict:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources), "entry": [
        {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
        for r in resources]}


def _codes_of(resource: dict) -> set[str]:
    codes = set()
    for key in ("code", "medicationCodeableConcept"):
        for c in (resource.get(key) or {}).get("coding", []):
            codes.add(c.get("code"))
            codes.add(f"{c.get('system')}|{c.get('code')}")
    return codes


def satisfy_template(template: str, resources: list[dict], patient_id: str):
    """What a CDS client would prefetch for one template: a resource for a read, a searchset
    Bundle for a search (only the resource type and a `code` token list are honoured; other
    parameters are assumed not to narrow this patient's data), None when a read finds nothing."""
    template = template.replace("{{context.patientId}}", patient_id)
    path, _, query = template.partition("?")
    parts = path.strip("/").split("/")
    rtype = parts[0]
    if len(parts) == 2 and not query:  # read
        hit = [r for r in resources if r["resourceType"] == rtype and r["id"] == parts[1]]
        return hit[0] if hit else None
    params = parse_qs(query)
    wanted = None
    for key in ("code", "code:in"):
        if key in params:
            wanted = {tok for v in params[key] for tok in v.split(",")}
    chosen = [r for r in resources if r["resourceType"] == rtype
              and (wanted is None or _codes_of(r) & wanted)]
    return searchset(chosen)


def hook_request(resources: list[dict], patient_id: str, prefetch_templates: dict[str, str] | None,
                 *, fhir_server: str | None = None, seed: int = DEFAULT_SEED) -> dict:
    """A patient-view hook request; `prefetch_templates` None sends no prefetch (fallback path)."""
    body: dict = {
        "hook": "patient-view",
        "hookInstance": str(uuid.UUID(int=random.Random(f"{seed}:{patient_id}").getrandbits(128), version=4)),
        "context": {"userId": "Practitioner/bench-user", "patientId": patient_id},
    }
    if fhir_server:
        body["fhirServer"] = fhir_server
    if prefetch_templates is not None:
        body["prefetch"] = {k: satisfy_template(t, resources, patient_id) for k, t in prefetch_templates.items()}
    return body


def count_observations(body: dict) -> int:
    """Observations actually carried in a hook request's prefetch (templates may filter codes)."""
    n = 0
    for value in (body.get("prefetch") or {}).values():
        if isinstance(value, dict) and value.get("resourceType") == "Bundle":
            n += sum(1 for e in value.get("entry", []) if e.get("resource", {}).get("resourceType") == "Observation")
    return n
