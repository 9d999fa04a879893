"""myeloma-cds: a CDS Hooks 2.0 service for relapsed multiple myeloma (Flask app factory)."""
from __future__ import annotations

import logging

from flask import Flask

# First, so that `from cds_service import get_config` works in modules imported below.
from cds_service.config import Config, get_config
from cds_service.feedback.routes import bp as feedback_bp
from cds_service.hooks.assessment_api import bp as assessment_bp
from cds_service.hooks.routes import bp as hooks_bp
from cds_service.hooks.services import SERVICES
from cds_service.http.body_drain import install_body_drain
from cds_service.http.codesystems import bp as codesystems_bp  # the cards' code systems (issue 11)
from cds_service.http.cors import init_cors
from cds_service.http.errors import register_error_handlers
from cds_service.http.health import bp as health_bp
from cds_service.http.memory_release import install_memory_release
from cds_service.http.request_log import install_request_log
from cds_service.metrics import install_metrics
from cds_service.security import install_auth
from cds_service.smart_app import bp as smart_app_bp  # SMART timeline app under /app/ (issue 7)

__all__ = ["MAX_REQUEST_BYTES", "create_app", "get_config"]

MAX_REQUEST_BYTES = 20 * 1024 * 1024


def create_app(config: Config | None = None) -> Flask:
    """Build the WSGI app. `config` defaults to Config.from_env()."""
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config["CDS"] = config
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.json.sort_keys = False
    logging.getLogger("cds_service").setLevel(config.log_level)

    install_request_log(app)
    install_memory_release(app)  # big calls give their memory back (issue 13)
    install_body_drain(app)  # refusals before the body was read keep the connection usable
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
    app.register_blueprint(codesystems_bp)
    app.register_blueprint(smart_app_bp)
    return app
