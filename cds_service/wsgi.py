"""WSGI entry point for production servers: `gunicorn cds_service.wsgi:app`.

Configuration comes from the environment (see cds_service.config and the README).
"""
from cds_service import create_app

app = create_app()
