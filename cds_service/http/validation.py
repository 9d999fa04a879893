"""Request parsing and schema validation, turned into 400 OperationOutcomes.

Diagnostics name the JSON path of each problem (`context.patientId`,
`prefetch.observations.entry[3].resource`). Nothing here is logged: messages may quote
request values.
"""
from __future__ import annotations

import json

from jsonschema.exceptions import ValidationError, relevance

from cds_service.http import schemas
from cds_service.http.errors import CdsError, Issue
from cds_service.http.safe_json import JsonRefused, loads_bounded

MAX_ISSUES = 5
MAX_DIAGNOSTIC_CHARS = 300


def parse_json_object(raw: bytes, what: str = "request body") -> dict:
    """The one parse of a client's JSON body (every endpoint): bounded depth and numbers, no
    NaN/Infinity, no lone surrogates or NUL characters (safe_json), else a 400 naming why."""
    if not raw or not raw.strip():
        raise CdsError(400, [Issue(f"The {what} is empty; a JSON object is required.", code="required")])
    try:
        body = loads_bounded(raw)
    except UnicodeDecodeError:
        raise CdsError(400, [Issue(f"The {what} is not UTF-8 text.", code="structure")]) from None
    except json.JSONDecodeError as exc:
        raise CdsError(
            400, [Issue(f"The {what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.", code="structure")]
        ) from None
    except JsonRefused as exc:
        raise CdsError(400, [Issue(f"The {what} is refused: {exc}.", code="structure")]) from None
    except ValueError:  # e.g. an integer too long for int() (digit limit)
        raise CdsError(400, [Issue(f"The {what} holds a number the service cannot read.", code="structure")]) from None
    if not isinstance(body, dict):
        raise CdsError(400, [Issue(f"The {what} must be a JSON object.", code="structure", expression="$")])
    return body


def _issue(error: ValidationError) -> Issue:
    path = schemas.json_path(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [k for k in error.validator_value if k not in error.instance]
        if missing:
            path = f"{path}.{missing[0]}" if path != "$" else missing[0]
            return Issue(f"{path} is required.", code="required", expression=path)
    if error.validator == "dependentRequired":
        return Issue(f"{path}: {error.message}.", code="required", expression=path)
    message = error.message
    if len(message) > MAX_DIAGNOSTIC_CHARS:
        message = message[: MAX_DIAGNOSTIC_CHARS - 3] + "..."
    return Issue(f"{path}: {message}", code="invalid" if error.validator != "type" else "structure", expression=path)


def schema_issues(body: dict, schema_name: str) -> list[Issue]:
    errors = sorted(schemas.validator(schema_name).iter_errors(body), key=relevance)
    issues: list[Issue] = []
    for error in errors:
        issue = _issue(error)
        if issue not in issues:
            issues.append(issue)
        if len(issues) == MAX_ISSUES:
            break
    return issues


def validate_hook_request(body: dict) -> None:
    issues = schema_issues(body, schemas.REQUEST)
    if issues:
        raise CdsError(400, issues)
