"""The service's own code systems: card topics and override reasons.

Their canonical URLs live under the service (`<base>/codesystem/card-topic`,
`<base>/codesystem/override-reason`) and resolve to FHIR R4 CodeSystem resources
(cds_service/http/codesystems.py serves them), so a feedback report or an EHR can look a code up.
`<base>` is CDS_PUBLIC_BASE_URL, else the URL the request came in on, else the development
server's default address.
"""
from __future__ import annotations

from flask import has_request_context, request

DEFAULT_BASE = "http://127.0.0.1:8080"  # `myeloma-cds serve` default, for CLI output

CODE_SYSTEMS: dict[str, dict] = {
    "card-topic": {
        "title": "myeloma-cds card topics",
        "description": "What a card is about; feedback is reported per topic.",
        "concepts": {
            "relapse-status": ("Relapse status",
                               "Whether the myeloma is progressing by the IMWG criteria, when no treatment decision "
                               "is due yet (a suspected rise to confirm, or stable disease)."),
            "relapse-treatment": ("Relapse and its treatment",
                                  "The relapse verdict with its values, when to treat, the strategy and the leading "
                                  "regimens."),
            "investigations": ("Investigations before treatment",
                               "Baseline tests missing or out of date before relapse treatment, as one order set."),
            "safety": ("Safety", "On-treatment safety findings (IVIG, blood group before transfusion) and "
                                 "comorbidity cautions for an ordered drug."),
            "treatment-options": ("Choice of the ordered drug",
                                  "An ordered anti-myeloma drug checked against refractoriness and eligibility."),
        },
    },
    "override-reason": {
        "title": "myeloma-cds override reasons",
        "description": "Why a clinician dismissed a card (CDS Hooks overrideReasons).",
        "concepts": {
            "patient-preference": ("Patient preference (e.g. chooses close surveillance)", None),
            "clinical-judgement": ("Clinical judgement: advice not applicable to this patient", None),
            "data-incomplete": ("Record incomplete or incorrect: the data shown are not current", None),
            "already-addressed": ("Already done, ordered or planned elsewhere", None),
            "benefit-outweighs-risk": ("Benefit outweighs the risk for this patient", None),
        },
    },
}
TOPICS = {code: display for code, (display, _) in CODE_SYSTEMS["card-topic"]["concepts"].items()}
OVERRIDE_REASONS = {code: display for code, (display, _) in CODE_SYSTEMS["override-reason"]["concepts"].items()}


def service_base(config=None) -> str:
    """CDS_PUBLIC_BASE_URL, else this request's base URL, else the dev server's address."""
    base = getattr(config, "public_base_url", None)
    if base:
        return base.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return DEFAULT_BASE


def system_url(name: str, config=None) -> str:
    return f"{service_base(config)}/codesystem/{name}"


def topic_coding(code: str, config=None) -> dict:
    return {"system": system_url("card-topic", config), "code": code, "display": TOPICS[code]}


def override_reasons(*codes: str, config=None) -> list[dict]:
    """Codings (system, code, display) for a card's overrideReasons."""
    system = system_url("override-reason", config)
    return [{"system": system, "code": c, "display": OVERRIDE_REASONS[c]} for c in codes]


def code_system_resource(name: str, config=None) -> dict | None:
    """The FHIR R4 CodeSystem for one of the service's code systems (None: unknown name)."""
    cs = CODE_SYSTEMS.get(name)
    if cs is None:
        return None
    concepts = []
    for code, (display, definition) in cs["concepts"].items():
        concept = {"code": code, "display": display}
        if definition:
            concept["definition"] = definition
        concepts.append(concept)
    return {
        "resourceType": "CodeSystem",
        "id": name,
        "url": system_url(name, config),
        "version": "1",
        "name": name.replace("-", "_"),
        "title": cs["title"],
        "status": "active",
        "experimental": False,
        "publisher": "myeloma-cds",
        "description": cs["description"],
        "caseSensitive": True,
        "content": "complete",
        "count": len(concepts),
        "concept": concepts,
    }
