"""WSGI entry point for production servers: `gunicorn cds_service.wsgi:app`.

Configuration comes from the environment (see cds_service.config and the README).
"""
import sys

from cds_service import create_app
from cds_service.security import AuthConfigError

try:
    app = create_app()
except AuthConfigError as exc:  # e.g. CDS_AUTH=jwt without trusted clients: refuse to start
    sys.exit(f"myeloma-cds refuses to start: {exc}")
