"""myeloma-cds: a CDS Hooks 2.0 service for relapsed multiple myeloma (Flask app factory)."""
from __future__ import annotations

import logging

from flask import Flask, current_app

from cds_service.config import Config

MAX_REQUEST_BYTES = 20 * 1024 * 1024


def get_config() -> Config:
    """The running app's Config (inside a request or app context)."""
    return current_app.config["CDS"]


def create_app(config: Config | None = None) -> Flask:
    """Build the WSGI app. `config` defaults to Config.from_env()."""
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config["CDS"] = config
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.json.sort_keys = False
    logging.getLogger("cds_service").setLevel(config.log_level)

    from cds_service.assessment_api import bp as assessment_bp
    from cds_service.cors import init_cors
    from cds_service.errors import register_error_handlers
    from cds_service.health import bp as health_bp
    from cds_service.hooks import bp as hooks_bp

    init_cors(app, config.cors_origin_list())
    register_error_handlers(app)
    app.register_blueprint(health_bp)
    app.register_blueprint(hooks_bp)
    app.register_blueprint(assessment_bp)
    return app
