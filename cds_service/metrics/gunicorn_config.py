"""gunicorn hooks for Prometheus multiprocess mode (`--config python:cds_service.metrics.gunicorn_config`).

The command line still sets workers, threads, timeout and bind (the Dockerfile's CMD); this
module only keeps PROMETHEUS_MULTIPROC_DIR right: emptied when the master starts (stale files
of a previous run would be summed in) and a dead worker's live values retired. It also turns
off gunicorn's (>= 27) control socket: nothing uses it, replicas on one host would share its
default path under $HOME, and the image's home is not writable.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from prometheus_client import multiprocess

control_socket_disable = True  # gunicorn >= 27; older versions ignore unknown names


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
