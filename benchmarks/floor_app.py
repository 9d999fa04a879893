"""The floor: the least a Flask CDS endpoint can do with a hook request.

It parses the JSON body (as the real hook must) and answers `{"cards": []}`. The benchmark
runs it under the same gunicorn settings as the service; hook latency divided by this
latency is the overhead the service adds on top of merely reading the request.
Gunicorn entry: `benchmarks.floor_app:app`.

With BENCH_FLOOR_MODELS=1 it also validates every prefetched Bundle with the fhir.resources
R4B models: benchmarks/model_cost.py uses that variant to price model validation per request.

With BENCH_FLOOR_GC_PAUSED=1 it parses and frees the body with the cyclic GC paused, as the
hook does (cds_service/gc_pause.py): the fair floor for the hook, whose own GC pause would
otherwise count as the service being faster than merely reading the request
(benchmarks/hook_vs_floor.py compares the hook with both floors).

With BENCH_FLOOR_PARSER=msgspec it parses with msgspec's untyped decoder, the parser the hook
itself uses (cds_service/http/safe_json.py) and about twice as fast as `request.get_json()`:
the floor for the hook's work after the parse, so a faster parser alone cannot make the hook
look closer to "merely reading the request" than it is.
"""
from __future__ import annotations

import os

import msgspec
from flask import Flask, abort, jsonify, request

from cds_service.http.gc_pause import gc_paused


def create_app(validate_with_models: bool = False, pause_gc: bool = False, parser: str = "flask") -> Flask:
    app = Flask(__name__)
    bundle_model = None
    if validate_with_models:
        from fhir.resources.R4B.bundle import Bundle as bundle_model

    @app.post("/cds-services/<service_id>")
    def hook(service_id: str):
        if pause_gc:
            with gc_paused():  # the parsed tree is also freed inside the pause, as in the hook
                return _answer()
        return _answer()

    def _answer():
        if parser == "msgspec":
            try:
                body = msgspec.json.decode(request.get_data(cache=False))
            except msgspec.DecodeError:
                abort(400)
        else:
            body = request.get_json(silent=True)
        if not isinstance(body, dict):
            abort(400)
        if bundle_model is not None:
            for value in (body.get("prefetch") or {}).values():
                if isinstance(value, dict) and value.get("resourceType") == "Bundle":
                    bundle_model.model_validate(value)
        return jsonify({"cards": []})

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    return app


app = create_app(os.environ.get("BENCH_FLOOR_MODELS") == "1", os.environ.get("BENCH_FLOOR_GC_PAUSED") == "1",
                 os.environ.get("BENCH_FLOOR_PARSER", "flask"))
