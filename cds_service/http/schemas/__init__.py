"""JSON Schemas (draft 2020-12) written for this project: CDS Hooks request, response and
discovery. No official JSON Schema exists for CDS Hooks (see docs/cds-hooks.md#schemas)."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from jsonschema import Draft202012Validator

REQUEST = "cds-hooks-request"
RESPONSE = "cds-hooks-response"
DISCOVERY = "cds-hooks-discovery"


@lru_cache(maxsize=None)
def load(name: str) -> dict:
    text = resources.files(__package__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=None)
def validator(name: str) -> Draft202012Validator:
    schema = load(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def json_path(error_path) -> str:
    """jsonschema's deque path -> `context.patientId`, `prefetch.x.entry[2]`."""
    out = ""
    for part in error_path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "$"
