"""Start and stop the processes the benchmark measures: gunicorn apps and the FHIR server.

Everything binds to 127.0.0.1 on a free port and is stopped by its own PID.
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, path: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before answering {path}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            if status < 500:
                return
            last = status
        except OSError as exc:
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"127.0.0.1:{port}{path} not ready after {timeout}s ({last})")


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(x) for x in text.split()]
    except OSError:
        out = []
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    stat = (d / "stat").read_text()
                    if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d.name))
                except (OSError, ValueError, IndexError):
                    pass
        return out


def proc_status_kb(pid: int, field: str) -> int | None:
    """A `kB` field of /proc/<pid>/status (VmHWM = RSS high-water mark, VmRSS = current)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class Gunicorn:
    """`gunicorn -w 2 -b 127.0.0.1:<free port> <app>`, the production way of running the service."""

    def __init__(self, app: str, *, workers: int = 2, extra_args: list[str] | None = None,
                 env: dict[str, str] | None = None, health_path: str = "/healthz", log_dir: Path | None = None,
                 cwd: Path | None = None):
        self.app = app
        # The folder gunicorn starts in is first on its sys.path, in the master too: another
        # checkout (a benchmark's baseline) must be started from its own folder, or the master
        # imports this checkout's package for `--config python:...` and every worker inherits it.
        self.cwd = Path(cwd) if cwd else REPO
        self.workers = workers
        self.extra_args = list(extra_args or [])
        self.env = {**os.environ, **(env or {})}
        self.health_path = health_path
        self.port = free_port()
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="bench-gunicorn-"))
        self.proc: subprocess.Popen | None = None

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", "gunicorn", "--workers", str(self.workers),
                "--bind", f"127.0.0.1:{self.port}", *self.extra_args, self.app]

    def __enter__(self) -> "Gunicorn":
        log = open(self.log_dir / f"gunicorn-{self.port}.log", "wb")
        self.proc = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        try:
            wait_http(self.port, self.health_path, 30, self.proc)
            deadline = time.monotonic() + 10
            while len(self.worker_pids()) < self.workers and time.monotonic() < deadline:
                time.sleep(0.05)
        except Exception:
            self.stop()
            raise
        return self

    def worker_pids(self) -> list[int]:
        return children(self.proc.pid) if self.proc else []

    def worker_peak_rss_kb(self) -> dict[int, int | None]:
        return {pid: proc_status_kb(pid, "VmHWM") for pid in self.worker_pids()}

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __exit__(self, *exc) -> None:
        self.stop()


class Sekmet:
    """The real FHIR R4 server sekmet-fhir on a free loopback port with a throw-away data dir.

    Started and stopped (by PID) with the integration tests' launcher,
    tests/integration/fhir_server.py. Its uvicorn access log (one line per HTTP request) is
    `self.log_path`; `requests_since(mark)` lists the FHIR requests logged after a mark, which
    is how the benchmark counts the round trips of the fallback path.
    """

    label = "sekmet-fhir 0.1.1"
    max_page = 1000  # sekmet.fhir.search.MAX_COUNT: the largest page it serves

    def __init__(self) -> None:
        self.server = None
        self.port = 0
        self.base_url = ""
        self.log_path = Path()

    def __enter__(self) -> "Sekmet":
        from tests.integration.fhir_server import start_fhir_server

        self.server = start_fhir_server()
        self.base_url = self.server.base_url
        self.port = int(self.base_url.split(":")[2].split("/")[0])
        self.log_path = self.server.workdir / "sekmet.log"
        return self

    def post_json(self, path: str, body: dict, timeout: float = 600) -> dict:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        conn.request("POST", "/fhir" + path, json.dumps(body).encode(),
                     {"Content-Type": "application/fhir+json", "Prefer": "return=minimal"})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        if resp.status >= 300:
            raise RuntimeError(f"POST {path} -> {resp.status}: {data[:500]!r}")
        return json.loads(data) if data else {}

    def log_mark(self) -> int:
        return self.log_path.stat().st_size

    def requests_since(self, mark: int) -> list[str]:
        """Request lines (`GET /fhir/... HTTP/1.1`) logged after `mark`."""
        with open(self.log_path, "rb") as f:
            f.seek(mark)
            text = f.read().decode("utf-8", "replace")
        out = []
        for line in text.splitlines():
            if '"GET /fhir/' in line or '"POST /fhir/' in line:
                out.append(line.split('"', 2)[1])
        return out

    def stop(self) -> None:
        if self.server is not None:
            from tests.integration.fhir_server import stop_fhir_server

            # keep the access log for the report; the launcher deletes the work dir
            keep = Path(tempfile.mkdtemp(prefix="bench-sekmet-")) / "sekmet.log"
            if self.log_path.exists():
                shutil.copyfile(self.log_path, keep)
            stop_fhir_server(self.server)
            self.server, self.log_path = None, keep

    def __exit__(self, *exc) -> None:
        self.stop()


class Hapi(Sekmet):
    """A real HAPI FHIR JPA server (R4, in-memory H2; tests/hapi_server/, built by scripts/setup)
    on a free loopback port, started and stopped (by PID) with the integration tests' launcher,
    tests/integration/hapi_server.py. Pages are at most `max_page` entries (the public HAPI
    test server's maximum); `_getpages` next links. Its Jetty access log has one line per HTTP
    request. Searches are not answered from HAPI's one-minute result cache
    (`--reuse-cached-search-ms 0`): each hook call pays for its searches, as the first view of
    a patient does.
    """

    label = "HAPI FHIR 8.8.0 JPA (H2)"

    def __init__(self) -> None:
        super().__init__()
        from tests.integration.hapi_server import MAX_PAGE_SIZE

        self.max_page = MAX_PAGE_SIZE

    def __enter__(self) -> "Hapi":
        from tests.integration.hapi_server import start_hapi_server

        self.server = start_hapi_server(max_page_size=self.max_page, extra_args=("--reuse-cached-search-ms", "0"))
        self.base_url = self.server.base_url
        self.port = int(self.base_url.split(":")[2].split("/")[0])
        self.log_path = self.server.access_log
        return self

    def requests_since(self, mark: int) -> list[str]:
        """Request lines logged after `mark`, including `GET /fhir?_getpages=...` page fetches."""
        with open(self.log_path, "rb") as f:
            f.seek(mark)
            text = f.read().decode("utf-8", "replace")
        return [line.split('"', 2)[1] for line in text.splitlines()
                if '"GET /fhir' in line or '"POST /fhir' in line]

    def stop(self) -> None:
        if self.server is not None:
            from tests.integration.fhir_server import stop_fhir_server

            keep = Path(tempfile.mkdtemp(prefix="bench-hapi-")) / "access.log"
            if self.log_path.exists():
                shutil.copyfile(self.log_path, keep)
            stop_fhir_server(self.server, grace=20.0)
            self.server, self.log_path = None, keep
