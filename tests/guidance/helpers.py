"""Small assessment dicts for guidance tests (the model's output shape, built by hand)."""
from __future__ import annotations

from myeloma_model.contract import drug_from_json
from myeloma_model.drug_classes import drug_class
from myeloma_model.fitness import frailty as frailty_of
from myeloma_model.refractoriness import refractory_category, retreatment_signal, triple_class_exposed


def drug(name: str, *, refractory: bool = False, active: bool = False, on: float | None = 12.0,
         off: float | None = 12.0, signal: bool | None = None, first: str = "2020-01-01",
         last: str | None = "2023-01-01", at_relapse: bool | None = None) -> tuple[str, dict]:
    """One `drugs` entry. `active` drugs ran on the relapse date (activeAtRelapse) unless told
    otherwise; the signal follows section 5 (only for a drug stopped before the relapse)."""
    if active:
        off = 0.0
    if at_relapse is None:
        at_relapse = active
    return name, {
        "class": drug_class(name),
        "exposed": True,
        "active": active,
        "refractory": refractory,
        "monthsOnDrug": on,
        "monthsSinceLastDose": off,
        "retreatmentSignal": (retreatment_signal(on, off) and not at_relapse) if signal is None else signal,
        "activeAtRelapse": at_relapse,
        "firstStart": first,
        "lastDose": last,
    }


def assessment(*drug_entries, status: str = "biochemical", relapse_date: str | None = "2024-06-01",
               prior_lines: int = 1, hrc: list[str] | None = None, riss: str = "II", b2m: str = "stable",
               features: list[str] | None = None, age: int | None = 65, ecog: int | None = 1,
               cautions: list[str] | None = None, crab: list[str] | None = None,
               lines: list[dict] | None = None) -> dict:
    drugs = dict(drug_entries)
    typed_drugs = {name: drug_from_json(entry) for name, entry in drugs.items()}
    return {
        "patientId": "p1",
        "asOf": "2024-07-01",
        "inScope": True,
        "relapse": {"status": status, "significantParaproteinRelapse": False,
                    "date": relapse_date if status in ("clinical", "biochemical", "suspected") else None,
                    "criteria": ["serum-m-protein"], "crabFeatures": crab or [], "markers": {}},
        "drugs": drugs,
        "priorLines": prior_lines,
        "refractoryCategory": refractory_category(typed_drugs),
        "tripleClassExposed": triple_class_exposed(typed_drugs),
        "risk": {"highRiskCytogenetics": hrc or [], "iss": "II", "riss": riss, "b2mTrend": b2m,
                 "highRiskRelapseFeatures": features or []},
        "fitness": {"age": age, "ecog": ecog, "frailty": frailty_of(age, ecog), "cautions": cautions or []},
        "dataGaps": [],
        **({"lines": lines} if lines is not None else {}),
    }


def line(number: int, drugs: list[str], best: str | None, months: float | None, *, start: str = "2020-01-01",
         progressed: bool = True) -> dict:
    """A section 3a `lines` entry built by hand (contract names)."""
    return {"number": number, "start": start, "end": None, "drugs": drugs, "transplant": False,
            "bestResponse": best, "durationMonths": months, "progressed": progressed}


def codes(regimens: list[dict]) -> list[str]:
    return [r["code"] for r in regimens]


# Common histories
def len_durable(**kw):
    """VRd then lenalidomide maintenance stopped 400 days before the relapse: not refractory."""
    return assessment(drug("lenalidomide", on=27.0, off=13.0, last="2023-04-28"),
                      drug("bortezomib", on=4.0, off=50.0, last="2020-05-01"), **kw)


def len_refractory(**kw):
    return assessment(drug("lenalidomide", refractory=True, active=True, on=40.0, signal=False),
                      drug("bortezomib", on=4.0, off=50.0, last="2020-05-01"), **kw)


def triple_class_refractory(**kw):
    kw.setdefault("prior_lines", 3)
    return assessment(drug("lenalidomide", refractory=True, signal=False),
                      drug("carfilzomib", refractory=True, signal=False),
                      drug("daratumumab", refractory=True, signal=False),
                      drug("bortezomib", on=4.0, off=80.0), **kw)
