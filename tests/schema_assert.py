"""Assert that a JSON document validates against one of the project's schemas."""
from __future__ import annotations

from cds_service.http import schemas


def assert_valid(instance, schema_name: str) -> None:
    errors = sorted(schemas.validator(schema_name).iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{schemas.json_path(e.absolute_path)}: {e.message[:200]}" for e in errors[:10]]
        raise AssertionError(f"{len(errors)} error(s) against {schema_name}:\n" + "\n".join(lines))


def assert_cds_response(body) -> None:
    assert_valid(body, schemas.RESPONSE)


def assert_operation_outcome(body, *, expression: str | None = None, contains: str | None = None) -> dict:
    """The body is an OperationOutcome; optionally one issue names `expression` / `contains`."""
    assert isinstance(body, dict) and body.get("resourceType") == "OperationOutcome", body
    issues = body.get("issue") or []
    assert issues, "OperationOutcome without issues"
    for issue in issues:
        assert issue.get("severity") in ("fatal", "error", "warning", "information"), issue
        assert issue.get("code"), issue
        assert "Traceback" not in (issue.get("diagnostics") or ""), issue
    if expression is not None:
        assert any(expression in (i.get("expression") or []) for i in issues), (expression, issues)
    if contains is not None:
        assert any(contains in (i.get("diagnostics") or "") for i in issues), (contains, issues)
    return body
