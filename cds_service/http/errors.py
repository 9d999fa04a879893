"""FHIR OperationOutcome errors and the Flask handlers that turn every failure into one.

Bad input -> 400, unknown service -> 404, required data unobtainable -> 412, anything
unexpected -> 500 with a generic OperationOutcome. No handler ever puts a stack trace,
exception text of an unexpected error, a token or a patient id into a response body.
"""
from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome.issue. `expression` is a JSON path into the request body."""

    diagnostics: str
    code: str = "invalid"  # FHIR issue-type: invalid, structure, required, not-found, ...
    severity: str = "error"
    expression: str | None = None

    def to_fhir(self) -> dict:
        issue = {"severity": self.severity, "code": self.code, "diagnostics": self.diagnostics}
        if self.expression:
            issue["expression"] = [self.expression]
        return issue


def operation_outcome(issues: list[Issue]) -> dict:
    return {"resourceType": "OperationOutcome", "issue": [i.to_fhir() for i in issues]}


@dataclass
class CdsError(Exception):
    """An error the client should see: HTTP status plus the issues that explain it."""

    status: int
    issues: list[Issue] = field(default_factory=list)

    def __str__(self) -> str:  # for logs; never includes request data beyond diagnostics
        return f"{self.status}: " + "; ".join(i.diagnostics for i in self.issues)


def bad_request(diagnostics: str, expression: str | None = None, code: str = "invalid") -> CdsError:
    return CdsError(400, [Issue(diagnostics, code=code, expression=expression)])


def not_found(diagnostics: str) -> CdsError:
    return CdsError(404, [Issue(diagnostics, code="not-found")])


def precondition_failed(issues: list[Issue]) -> CdsError:
    return CdsError(412, issues)


def outcome_response(status: int, issues: list[Issue]) -> Response:
    return Response(json.dumps(operation_outcome(issues)), status=status, mimetype=FHIR_JSON)


def _handle_cds_error(err: CdsError) -> Response:
    log.info("request refused: %s", err.status)
    return outcome_response(err.status, err.issues)


def _handle_http_exception(err: HTTPException) -> Response:
    # werkzeug's 404/405/413/415...: keep the status, replace the HTML body.
    code = {404: "not-found", 405: "not-supported", 413: "too-costly", 415: "not-supported"}.get(
        err.code or 500, "processing"
    )
    response = outcome_response(err.code or 500, [Issue(err.name, code=code)])
    if err.code == 405 and getattr(err, "valid_methods", None):
        response.headers["Allow"] = ", ".join(err.valid_methods)
    return response


def _handle_unexpected(err: Exception) -> Response:
    # Type and frames only: exception messages may quote request data (patient ids).
    log.error(
        "unexpected %s while handling a request:\n%s",
        type(err).__name__,
        "".join(traceback.format_tb(err.__traceback__)),
    )
    return outcome_response(
        500, [Issue("Internal error; the request could not be processed.", code="exception", severity="fatal")]
    )


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CdsError, _handle_cds_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)
