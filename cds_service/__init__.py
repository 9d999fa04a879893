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

    from cds_service.feedback import bp as feedback_bp
    from cds_service.request_log import install_request_log
    from cds_service.security import install_auth

    install_request_log(app)
    from cds_service.metrics import install_metrics
    from cds_service.services import SERVICES

    install_metrics(app, SERVICES)  # GET /metrics, request timing (README "Metrics")
    init_cors(app, config.cors_origin_list())
    # CDS_AUTH=jwt: verify the client JWT before discovery/service/feedback calls.
    # Raises security.AuthConfigError (service must not start) without trusted clients.
    install_auth(app)
    register_error_handlers(app)
    app.register_blueprint(health_bp)
    app.register_blueprint(hooks_bp)
    app.register_blueprint(assessment_bp)
    app.register_blueprint(feedback_bp)
    from cds_service.smart_app import bp as smart_app_bp  # SMART timeline app under /app/ (issue 7)
    app.register_blueprint(smart_app_bp)
    return app
