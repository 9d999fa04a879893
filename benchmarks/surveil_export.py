"""A seeded synthetic Bulk Data export (NDJSON, one resource type per file) of a clinic.

Patients are copies of the demo patients (examples/patients/*.json: biochemical relapse on
and off lenalidomide, clinical relapse triple-class refractory, stable remission, myeloma
ruled out, heart failure) under new ids, with every date moved so the record ends shortly
before the as-of date, plus two variants: `suspected` (the vignette without the results
after its first rise, so the rise is not yet confirmed) and `stale` (the stable-remission
patient lost to follow-up: latest results 8-14 months old). Most patients of the clinic have no myeloma (`other`: a few
routine labs and hypertension). A tail of heavy patients (benchmarks/synthetic.py: nine years,
`heavy_observations` Observations each) can be added.

    python -m benchmarks.surveil_export --patients 10000 --out /tmp/export --as-of 2026-11-30

The same (patients, seed, as_of, mix) always gives the same files.
"""
from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from benchmarks.synthetic import heavy_patient

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "patients"
ARCHETYPE_AS_OF = date(2025, 6, 30)  # the date the demo patients' verdicts hold for
DEFAULT_SEED = 15
# Share of each kind in a haematology clinic's export (the rest of MIX sums to 1).
DEFAULT_MIX = {
    "other": 0.55,
    "stable-remission": 0.17,
    "vignette": 0.05,
    "len-refractory": 0.04,
    "cardiac": 0.03,
    "triple-class": 0.03,
    "suspected": 0.04,
    "stale": 0.05,
    "no-myeloma": 0.04,
}
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")
_MARKER_CODES = ("33358-3", "36916-5", "33944-0", "48378-4")  # SPEP, free kappa, lambda, ratio


def _archetype(name: str) -> tuple[str, list[dict]]:
    bundle = json.loads((EXAMPLES / f"{name}.json").read_text())
    resources = [e["resource"] for e in bundle["entry"]]
    pid = next(r["id"] for r in resources if r["resourceType"] == "Patient")
    return pid, resources


def _shift(value, days: int):
    """Every FHIR date/dateTime in `value` moved by `days` (structure otherwise unchanged)."""
    if isinstance(value, dict):
        return {k: _shift(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, days) for v in value]
    if isinstance(value, str):
        m = _DATE.match(value)
        if m and len(value) in (10, 20, 25, 24, 29):
            try:
                moved = date.fromisoformat(m.group(1)) + timedelta(days=days)
            except ValueError:
                return value
            return moved.isoformat() + value[10:]
    return value


def _is_marker(res: dict) -> bool:
    return res["resourceType"] == "Observation" and any(
        c.get("code") in _MARKER_CODES for c in res.get("code", {}).get("coding", []))


def _suspected(resources: list[dict]) -> list[dict]:
    """The vignette before its rise was confirmed: no marker result after 2025-05-01."""
    return [r for r in resources if not (_is_marker(r) and (r.get("effectiveDateTime") or "") >= "2025-05-01")]


class _Templates:
    def __init__(self):
        self.cache: dict[str, tuple[str, str]] = {}

    def get(self, kind: str) -> tuple[str, str]:
        """(archetype patient id, JSON text of its resources) for a kind."""
        if kind not in self.cache:
            name = {"suspected": "vignette", "stale": "stable-remission"}.get(kind, kind)
            pid, resources = _archetype(name)
            if kind == "suspected":
                resources = _suspected(resources)
            self.cache[kind] = (pid, json.dumps(resources))
        return self.cache[kind]


def _other_patient(pid: str, rng: random.Random, as_of: date) -> list[dict]:
    """A clinic patient without myeloma: hypertension and a few routine labs."""
    subject = {"reference": f"Patient/{pid}"}
    born = date(1940 + rng.randrange(50), 1 + rng.randrange(12), 1 + rng.randrange(28))
    out = [{"resourceType": "Patient", "id": pid, "gender": rng.choice(["female", "male"]),
            "birthDate": born.isoformat()},
           {"resourceType": "Condition", "id": f"{pid}-htn", "subject": subject,
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active"}]},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003",
                                 "display": "Hypertensive disorder"}], "text": "Hypertension"},
            "onsetDateTime": (as_of - timedelta(days=400 + rng.randrange(3000))).isoformat()}]
    for i in range(rng.randrange(2, 7)):
        when = as_of - timedelta(days=20 + 90 * i + rng.randrange(30))
        out.append({"resourceType": "Observation", "id": f"{pid}-hb{i}", "status": "final", "subject": subject,
                    "code": {"coding": [{"system": "http://loinc.org", "code": "718-7",
                                         "display": "Hemoglobin [Mass/volume] in Blood"}]},
                    "effectiveDateTime": f"{when.isoformat()}T09:00:00Z",
                    "valueQuantity": {"value": round(rng.uniform(11.5, 16.0), 1), "unit": "g/dL",
                                      "system": "http://unitsofmeasure.org", "code": "g/dL"}})
    return out


def generate(n_patients: int, *, as_of: date, seed: int = DEFAULT_SEED, mix: dict[str, float] | None = None,
             heavy: int = 0, heavy_observations: int = 2000, extra_observations: int = 0):
    """Yield (kind, resources) per patient: n_patients drawn from `mix`, then `heavy` heavy
    ones. `extra_observations` adds that many haemoglobin results to each myeloma patient."""
    rng = random.Random(seed)
    mix = mix or DEFAULT_MIX
    kinds, weights = zip(*mix.items(), strict=True)
    templates = _Templates()
    base_shift = (as_of - ARCHETYPE_AS_OF).days
    for i in range(n_patients):
        # One of each kind first (when there is room), so a small export shows every kind.
        kind = kinds[i] if n_patients >= 4 * len(kinds) and i < len(kinds) else rng.choices(kinds, weights)[0]
        pid = f"p{i:06d}"
        if kind == "other":
            yield kind, _other_patient(pid, rng, as_of)
            continue
        old_pid, text = templates.get(kind)
        shift = base_shift - rng.randrange(0, 21)
        if kind == "stale":
            shift -= 240 + rng.randrange(0, 180)
        resources = _shift(json.loads(text.replace(old_pid, pid)), shift)
        if extra_observations and kind != "no-myeloma":
            resources += _extra_haemoglobin(pid, extra_observations, as_of + timedelta(days=shift - base_shift))
        yield kind, resources
    for j in range(heavy):
        pid = f"h{j:05d}"
        yield "heavy", heavy_patient(heavy_observations, seed=seed + j, end=as_of, patient_id=pid)


def _extra_haemoglobin(pid: str, n: int, last: date) -> list[dict]:
    return [{"resourceType": "Observation", "id": f"{pid}-xhb{k}", "status": "final",
             "subject": {"reference": f"Patient/{pid}"},
             "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]},
             "effectiveDateTime": f"{(last - timedelta(days=7 * k + 30)).isoformat()}T08:00:00Z",
             "valueQuantity": {"value": 12.5, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL"}}
            for k in range(n)]


def write_export(out: Path, n_patients: int, *, as_of: date, seed: int = DEFAULT_SEED, **kwargs) -> Counter:
    """Write <Type>.ndjson files into `out`; return the count of patients per kind."""
    out.mkdir(parents=True, exist_ok=True)
    handles: dict[str, object] = {}
    kinds: Counter = Counter()
    try:
        for kind, resources in generate(n_patients, as_of=as_of, seed=seed, **kwargs):
            kinds[kind] += 1
            for res in resources:
                rtype = res["resourceType"]
                fh = handles.get(rtype)
                if fh is None:
                    fh = handles[rtype] = (out / f"{rtype}.ndjson").open("w", encoding="utf-8")
                fh.write(json.dumps(res, separators=(",", ":")))
                fh.write("\n")
    finally:
        for fh in handles.values():
            fh.close()
    return kinds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date.today())
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--heavy", type=int, default=0, help="heavy patients added as a tail")
    parser.add_argument("--heavy-observations", type=int, default=2000)
    args = parser.parse_args(argv)
    kinds = write_export(args.out, args.patients, as_of=args.as_of, seed=args.seed, heavy=args.heavy,
                         heavy_observations=args.heavy_observations)
    print(json.dumps(dict(sorted(kinds.items()))))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
