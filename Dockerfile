# myeloma-cds: CDS Hooks service, served by gunicorn as a non-root user.
#
# Base images are build arguments with exact tags (the README's "Production" shows how to pin
# a digest or use another registry/mirror):
#   docker build --build-arg PYTHON_IMAGE=python:3.11.11-slim-bookworm -t myeloma-cds .
ARG NODE_IMAGE=node:20.18.1-bookworm-slim
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

# The SMART timeline app's JavaScript/CSS (issue 7): npm ci from the lockfile, bundled by esbuild
# into cds_service/smart_app/static/ (not in git). Only the bundle goes into the image.
FROM ${NODE_IMAGE} AS timeline-app
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/build.mjs ./
COPY frontend/src ./src
RUN npm run build

FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

RUN groupadd --system --gid 10001 cds \
    && useradd --system --uid 10001 --gid cds --home-dir /app --shell /usr/sbin/nologin cds

COPY pyproject.toml README.md ./
COPY cds_service ./cds_service
COPY --from=timeline-app /src/cds_service/smart_app/static ./cds_service/smart_app/static
COPY fhir_mappings ./fhir_mappings
COPY myeloma_model ./myeloma_model
# Demo patients for `myeloma-cds load-demo` inside the container (synthetic data only).
COPY examples/patients ./examples/patients
# Every runtime extra the README documents: PostgreSQL (psycopg 3) for CDS_DATABASE_URL.
# (DL3013: this installs the project itself; its dependencies are bounded in pyproject.toml.)
# hadolint ignore=DL3013
RUN pip install --no-cache-dir ".[postgres]"

# Writable home of the default SQLite database (jti replay store, feedback); mount a volume
# here to keep feedback, or set CDS_DATABASE_URL=postgresql://... (README "Security model").
RUN mkdir -p /app/data /tmp/prometheus && chown 10001:10001 /app/data /tmp/prometheus

# No gunicorn access log: it would print query strings (SMART authorization codes, launch
# ids); the service writes one structured JSON line per request without them.
# Production defaults: JWT auth on, bind all interfaces inside the container.
# CDS_AUTH=jwt refuses to start without CDS_TRUSTED_CLIENTS and CDS_PUBLIC_BASE_URL.
# gunicorn binds CDS_HOST:CDS_PORT (cds_service/gunicorn_config.py); Prometheus values of the
# workers are summed from PROMETHEUS_MULTIPROC_DIR (emptied at start).
ENV CDS_AUTH=jwt \
    CDS_HOST=0.0.0.0 \
    CDS_PORT=8080 \
    CDS_DATABASE_URL=sqlite:////app/data/myeloma-cds.sqlite \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    MYELOMA_CDS_EXAMPLES=/app/examples

USER 10001:10001
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CDS_PORT', '8080'), timeout=4).status == 200 else 1)"]

# Slow clients: put a buffering reverse proxy in front (deploy/nginx, deploy/compose); gunicorn's
# threads are held by a client until its request is read. scripts/prod-stack mirrors these options.
CMD ["gunicorn", "--config", "python:cds_service.gunicorn_config", "--workers", "2", "--threads", "2", "--timeout", "30", "cds_service.wsgi:app"]
