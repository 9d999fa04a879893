"""Start and stop the real FHIR R4 test server (sekmet-fhir 0.1.1) for integration tests.

One server per test session (see conftest.py), on a free loopback port, with its own
temporary data_dir and settings.yaml (simulator disabled, inbound traffic log off). It is
started as a child process in its own session and stopped by its PID only.

Where the binary comes from: env SEKMET_BIN, else <repo>/.venv-sekmet/bin/sekmet.

Behaviour of sekmet 0.1.1 worth knowing (read from its source, checked against the server):
- transaction Bundles: PUT Type/id with urn:uuid fullUrls creates/updates with the given id
  (re-posting the same Bundle answers 200 OK per entry: idempotent); references to urn:uuid
  fullUrls are rewritten; inbound resources are validated with the fhir.resources R4B models.
- search: `patient=<id>` or `patient=Patient/<id>`, `subject=Patient/<id>`, token search with
  `code=<system>|<code>` and comma-OR; `_count` is honoured (default 20, maximum 1000).
- paging: offset links `...?<params>&_count=N&_offset=M` (self, first, next, previous, last);
  links carry only the parameters the server used, so an unknown parameter is silently dropped
  (and reported as a `search.mode=outcome` OperationOutcome entry) unless the request sends
  `Prefer: handling=strict`, which turns it into a 400.
- `GET [base]/metadata` needs no authentication (used here as the readiness probe).
"""
from __future__ import annotations

import atexit
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_PATIENTS_DIR = REPO_ROOT / "examples" / "patients"
STARTUP_TIMEOUT_S = 30.0


class FhirServerError(RuntimeError):
    """The FHIR test server could not be started or did not accept the demo data."""


def sekmet_bin() -> Path:
    """The sekmet executable: $SEKMET_BIN, else the repository's .venv-sekmet."""
    path = Path(os.environ.get("SEKMET_BIN") or REPO_ROOT / ".venv-sekmet" / "bin" / "sekmet")
    if not path.exists():
        raise FhirServerError(
            f"sekmet-fhir not found at {path}. Install it with "
            "`python3 -m venv .venv-sekmet && .venv-sekmet/bin/pip install sekmet-fhir==0.1.1` "
            "or point SEKMET_BIN at its executable.")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class FhirServer:
    """A running sekmet instance. `base_url` ends in /fhir, without a trailing slash."""

    base_url: str
    pid: int
    workdir: Path
    tokens: list[str] = field(default_factory=list)
    _process: subprocess.Popen | None = field(default=None, repr=False)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[0]}"} if self.tokens else {}

    def session(self) -> requests.Session:
        """A requests session that talks FHIR JSON to this server (with its token, if any)."""
        s = requests.Session()
        s.headers.update({"Accept": "application/fhir+json", **self.auth_headers()})
        return s

    def log_tail(self, chars: int = 3000) -> str:
        log = self.workdir / "sekmet.log"
        return log.read_text(errors="replace")[-chars:] if log.exists() else ""

    def stop(self) -> None:
        stop_fhir_server(self)


def _settings_yaml(port: int, data_dir: Path, tokens: list[str] | None) -> str:
    settings = {
        "base_url": f"http://127.0.0.1:{port}/fhir",
        "host": "127.0.0.1",
        "port": port,
        "data_dir": str(data_dir),
        "simulator": {"enabled": False},
        "log_inbound": False,
        "server_auth": {"types": ["bearer"], "tokens": list(tokens)} if tokens else {"types": ["none"]},
    }
    return json.dumps(settings, indent=2)  # JSON is valid YAML


def _die_with_parent() -> None:
    """Runs in the child before exec (Linux): the kernel sends SIGTERM to sekmet when the test
    process dies, however it dies (timeout, SIGKILL), so no server outlives its test run."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _death_signal_is_safe() -> bool:
    """PR_SET_PDEATHSIG fires when the forking *thread* ends: only use it from the main thread."""
    return sys.platform.startswith("linux") and threading.current_thread() is threading.main_thread()


def wait_ready(server, proc: subprocess.Popen, timeout: float, *, name: str = "sekmet",
               request_timeout: float = 1.0, poll_s: float = 0.1) -> None:
    """Wait until `server.base_url`/metadata answers 200; fail with the log tail when the process
    exits or the timeout passes (shared by the sekmet and HAPI fixtures)."""
    deadline = time.monotonic() + timeout
    url = f"{server.base_url}/metadata"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise FhirServerError(f"{name} exited with code {proc.returncode} during start-up:\n{server.log_tail()}")
        try:
            if requests.get(url, timeout=request_timeout).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(poll_s)
    raise FhirServerError(f"{name} did not answer {url} within {timeout:.0f} s:\n{server.log_tail()}")


def start_fhir_server(*, tokens: list[str] | None = None, timeout: float = STARTUP_TIMEOUT_S,
                      attempts: int = 3) -> FhirServer:
    """Start sekmet on a free loopback port and wait until it serves /metadata.

    `tokens`: static bearer tokens the server will demand on every FHIR request (the SMART
    app's tests); without them the server is open. Retries on another port if the chosen one
    was taken between probing and binding.
    """
    binary = sekmet_bin()
    last_error: Exception | None = None
    for _ in range(attempts):
        workdir = Path(tempfile.mkdtemp(prefix="sekmet-test-"))
        port = free_port()
        settings = workdir / "settings.yaml"
        settings.write_text(_settings_yaml(port, workdir / "data", tokens))
        env = {k: v for k, v in os.environ.items()
               if k not in ("SEKMET_CONFIG", "SEKMET_BASE_URL", "SEKMET_DB", "SEKMET_PUBLIC_URL", "SEKMET_PORT")}
        with open(workdir / "sekmet.log", "wb") as log:
            proc = subprocess.Popen(
                [str(binary), "serve", "-c", str(settings), "--host", "127.0.0.1", "--port", str(port)],
                cwd=workdir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                preexec_fn=_die_with_parent if _death_signal_is_safe() else None)
        server = FhirServer(f"http://127.0.0.1:{port}/fhir", proc.pid, workdir, list(tokens or []), proc)
        _RUNNING[server.pid] = server
        try:
            wait_ready(server, proc, timeout)
            return server
        except FhirServerError as e:
            last_error = e
            stop_fhir_server(server)
    raise FhirServerError(f"could not start sekmet after {attempts} attempts: {last_error}")


def stop_fhir_server(server: FhirServer, *, grace: float = 5.0) -> None:
    """Stop the server by its PID (SIGTERM, then SIGKILL after `grace` seconds) and delete its files."""
    proc = server._process
    if proc is not None and proc.poll() is None:
        try:
            os.kill(server.pid, signal.SIGTERM)
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            proc.wait(timeout=grace)
        except ProcessLookupError:
            pass
    _RUNNING.pop(server.pid, None)
    shutil.rmtree(server.workdir, ignore_errors=True)


_RUNNING: dict[int, FhirServer] = {}  # started here and not yet stopped


@atexit.register
def _stop_leftovers() -> None:
    """Safety net: a server whose fixture never reached its teardown is stopped at exit."""
    for server in list(_RUNNING.values()):
        stop_fhir_server(server, grace=2.0)


def demo_bundle_paths() -> list[Path]:
    paths = sorted(DEMO_PATIENTS_DIR.glob("*.json"))
    if not paths:
        raise FhirServerError(f"no demo Bundles in {DEMO_PATIENTS_DIR}; run examples/build_examples.py")
    return paths


def post_transaction(server: FhirServer, bundle: dict) -> dict:
    """POST one transaction Bundle to the server base; returns the transaction-response Bundle."""
    resp = server.session().post(server.base_url, json=bundle,
                                 headers={"Content-Type": "application/fhir+json"}, timeout=30)
    if resp.status_code != 200:
        raise FhirServerError(f"transaction {bundle.get('id')} failed: HTTP {resp.status_code} {resp.text[:2000]}")
    return resp.json()


def load_demo_bundles(server: FhirServer, paths: list[Path] | None = None) -> dict[str, dict]:
    """Load the demo patients by transaction; returns {file stem: transaction-response}."""
    return {p.stem: post_transaction(server, json.loads(p.read_text(encoding="utf-8")))
            for p in (paths or demo_bundle_paths())}


def search_all(server: FhirServer, resource_type: str, params: dict[str, str]) -> list[dict]:
    """Search and follow every next link; returns the matched resources (outcomes dropped)."""
    out: list[dict] = []
    session = server.session()
    url, query = f"{server.base_url}/{resource_type}", params
    while url:
        resp = session.get(url, params=query, timeout=30)
        resp.raise_for_status()
        bundle = resp.json()
        out += [e["resource"] for e in bundle.get("entry", [])
                if e.get("search", {}).get("mode", "match") == "match"]
        url = next((link["url"] for link in bundle.get("link", []) if link["relation"] == "next"), None)
        query = None
    return out
