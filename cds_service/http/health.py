"""GET /healthz: liveness for the Docker HEALTHCHECK and load balancers (no data, no auth)."""
from __future__ import annotations

from flask import Blueprint, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})
