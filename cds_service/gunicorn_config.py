"""gunicorn settings of the service (`gunicorn --config python:cds_service.gunicorn_config`).

- bind: `CDS_HOST:CDS_PORT` (defaults 127.0.0.1:8080, as the dev server; the image sets
  0.0.0.0); a `--bind` on the command line wins (scripts/prod-stack).
- Prometheus multiprocess mode: PROMETHEUS_MULTIPROC_DIR emptied when the master starts (stale
  files of a previous run would be summed in) and a dead worker's live values retired.
- gunicorn's (>= 27) control socket off: nothing uses it, replicas on one host would share
  its default path under $HOME, and the image's home is not writable.
- header lines up to 16 KiB (an oversized token gets the service's bare 401, not gunicorn's 431).
Workers, threads and timeout stay on the command line (the Dockerfile's CMD).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from prometheus_client import multiprocess

bind = [f"{os.environ.get('CDS_HOST') or '127.0.0.1'}:{os.environ.get('CDS_PORT') or '8080'}"]
control_socket_disable = True  # gunicorn >= 27; older versions ignore unknown names
# One header line may be 16 KiB, as the proxy allows (deploy/nginx/proxy-http.conf): an oversized
# bearer token (the service refuses any over 8,192 characters) then reaches the service and gets
# its bare 401; only header lines beyond 16 KiB are refused by gunicorn itself (431, never a 5xx).
limit_request_field_size = 16384


def on_starting(server) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    for entry in path.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
