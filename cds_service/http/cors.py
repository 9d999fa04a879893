"""CORS for browser CDS clients such as the CDS Hooks sandbox (docs/cds-hooks.md#discovery).

Allow-Origin comes from Config.cors_origins ("*" or a list; a listed origin is echoed with
`Vary: Origin`). Preflight (OPTIONS) is answered here with 204 before any auth check, since
browsers send no Authorization header on preflight. Credentials (cookies) are not used:
callers authenticate with a Bearer JWT, so Allow-Credentials is not sent.
"""
from __future__ import annotations

from flask import Flask, Response, request

ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = "Content-Type, Authorization"
MAX_AGE_S = "600"


def _allowed_origin(origins: list[str]) -> str | None:
    if "*" in origins:
        return "*"
    origin = request.headers.get("Origin")
    return origin if origin and origin in origins else None


def init_cors(app: Flask, origins: list[str]) -> None:
    @app.before_request
    def _preflight():
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            return Response(status=204)
        return None

    @app.after_request
    def _cors_headers(response: Response) -> Response:
        allowed = _allowed_origin(origins)
        if allowed:
            response.headers["Access-Control-Allow-Origin"] = allowed
            response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
            response.headers["Access-Control-Max-Age"] = MAX_AGE_S
        if allowed != "*":
            response.vary.add("Origin")
        return response
