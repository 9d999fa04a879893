"""Start and stop scripts/prod-stack (nginx + gunicorn replicas on loopback) for tests.

The script runs as a child in its own session and is stopped by SIGTERM to its PID (it stops
what it started). Missing nginx: skip locally, fail on CI (scripts/setup installs it as root).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "prod-stack"
START_TIMEOUT_S = 90.0


def nginx_or_skip() -> str:
    path = os.environ.get("NGINX_BIN") or shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(path, os.X_OK):
        message = "nginx is not installed (Debian: apt-get install nginx-light)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; on CI scripts/setup installs it")
        pytest.skip(message)
    return path


def free_ports(count: int) -> list[int]:
    """`count` consecutive free loopback ports (replica i listens on CDS_PORT + i)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + count >= 65535:
            continue
        socks = []
        try:
            for port in range(first, first + count):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                socks.append(s)
            return list(range(first, first + count))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free consecutive ports")


@dataclass
class ProdStack:
    front_url: str
    replica_urls: list[str]
    run_dir: Path
    process: subprocess.Popen
    log_path: Path

    def replica_pid(self, index: int) -> int:
        return int((self.run_dir / f"gunicorn-{index}.pid").read_text().strip())

    def access_log(self) -> str:
        path = self.run_dir / "access.log"
        return path.read_text() if path.exists() else ""

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


def start_prod_stack(run_dir: Path, *, replicas: int, env: dict[str, str]) -> ProdStack:
    nginx = nginx_or_skip()
    front, *cds = free_ports(1 + replicas)
    run_dir.mkdir(parents=True, exist_ok=True)
    log_path = run_dir / "prod-stack.log"
    full_env = {**os.environ, **env, "NGINX_BIN": nginx, "FRONT_PORT": str(front),
                "CDS_PORT": str(cds[0]), "CDS_REPLICAS": str(replicas),
                "PROD_STACK_DIR": str(run_dir),
                "PYTHONPATH": str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the stack
    process = subprocess.Popen([str(SCRIPT)], env=full_env, stdout=log, stderr=log,
                               start_new_session=True)
    log.close()
    stack = ProdStack(f"http://127.0.0.1:{front}", [f"http://127.0.0.1:{p}" for p in cds],
                      run_dir, process, log_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prod-stack exited with {process.returncode}:\n{stack.log_tail()}")
        if b"prod-stack: ready" in log_path.read_bytes():
            return stack
        time.sleep(0.2)
    stop_prod_stack(stack)
    raise RuntimeError(f"prod-stack not ready in {START_TIMEOUT_S:.0f} s:\n{stack.log_tail()}")


def stop_prod_stack(stack: ProdStack, timeout: float = 60.0) -> int:
    """SIGTERM to the script; it stops nginx and the replicas. Returns its exit code."""
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGTERM)
        try:
            stack.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(stack.process.pid, signal.SIGKILL)  # its own session: only what it started
            stack.process.wait()
    return stack.process.returncode


def wait_for_exit(pid: int, timeout: float = 40.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def get(url: str, **kwargs) -> requests.Response:
    return requests.get(url, timeout=kwargs.pop("timeout", 5), **kwargs)
