"""Start and stop a real HAPI FHIR JPA server (R4, in-memory H2) for the tests marked `hapi`.

The server is the launcher in tests/hapi_server/ (HAPI's published 8.x artifacts, embedded
Jetty), built once by scripts/setup into tests/hapi_server/target/hapi-test-server.jar
($HAPI_SERVER_JAR overrides). Like sekmet (fhir_server.py) it runs as a child process on a
free loopback port with its own temporary directory, is ready when `/fhir/metadata` answers,
and is stopped by its PID. JVM start-up plus HAPI's Spring/Hibernate boot takes 30-90 s on
two cores, so the fixtures start one server per test session.

HAPI's behaviour the tests rely on (and which differs from sekmet):
- paging by `?_getpages=<search id>&_getpagesoffset=N&_count=M` links on the base URL
  (`[base]?_getpages=...`, not `[base]/Type?...`), out of a search cached in the database;
- `_count` above the maximum page size is clamped silently (default 20, maximum 500 as on the
  public HAPI test server; see HapiTestServer.java);
- transactions enforce referential integrity; client-assigned ids must not be purely numeric;
- unknown search parameters are a 400 with `Prefer: handling=strict`, ignored otherwise.
Every HTTP request is one line of Jetty's NCSA access log (`access.log` in the work dir), so a
test counts round trips with `log_mark()` / `requests_since(mark)`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


from tests.integration.fhir_server import (
    _RUNNING, FhirServer, FhirServerError, _death_signal_is_safe, _die_with_parent, free_port, stop_fhir_server,
    wait_ready,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_JAR = REPO_ROOT / "tests" / "hapi_server" / "target" / "hapi-test-server.jar"
STARTUP_TIMEOUT_S = 240.0  # HAPI JPA boots in 30-90 s on 2 cores; more when the machine is busy
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 500  # the public HAPI test server's maximum (hapi-fhir-jpaserver-uhnfhirtest)
JVM_OPTIONS = ("-Xms256m", "-Xmx2g", "-XX:+UseParallelGC")


def hapi_jar() -> Path:
    path = Path(os.environ.get("HAPI_SERVER_JAR") or DEFAULT_JAR)
    if not path.exists():
        raise FhirServerError(
            f"the HAPI FHIR test server is not built ({path} missing): run scripts/setup, or "
            "`mvn -q -f tests/hapi_server/pom.xml package` (needs a JDK >= 17 and Maven), "
            "or point HAPI_SERVER_JAR at the jar.")
    return path


def java_bin() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise FhirServerError("java not found: the HAPI FHIR test server needs a JDK >= 17 (scripts/setup installs one)")
    return found


@dataclass
class HapiServer(FhirServer):
    """A running HAPI JPA server; `base_url` ends in /fhir. Adds access-log round-trip counting."""

    max_page_size: int = MAX_PAGE_SIZE

    @property
    def access_log(self) -> Path:
        return self.workdir / "access.log"

    def log_tail(self, chars: int = 3000) -> str:
        log = self.workdir / "hapi.log"
        return log.read_text(errors="replace")[-chars:] if log.exists() else ""

    def log_mark(self) -> int:
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def requests_since(self, mark: int, settle_s: float = 0.2) -> list[str]:
        """Request lines (`GET /fhir/Observation?... HTTP/1.1`) logged after `mark`. Jetty
        writes a line when the response is complete; wait until the log stops growing."""
        last, deadline = -1, time.monotonic() + 5
        while time.monotonic() < deadline:
            size = self.log_mark()
            if size == last:
                break
            last = size
            time.sleep(settle_s)
        with open(self.access_log, "rb") as f:
            f.seek(mark)
            text = f.read().decode("utf-8", "replace")
        return [line.split('"', 2)[1] for line in text.splitlines() if '"' in line]


def start_hapi_server(*, timeout: float = STARTUP_TIMEOUT_S, max_page_size: int = MAX_PAGE_SIZE,
                      extra_args: tuple[str, ...] = (), attempts: int = 2) -> HapiServer:
    """Start HAPI on a free loopback port and wait until it serves /metadata. `extra_args`
    go to the launcher (e.g. `--reuse-cached-search-ms 0`)."""
    jar, java = hapi_jar(), java_bin()
    last_error: Exception | None = None
    for _ in range(attempts):
        workdir = Path(tempfile.mkdtemp(prefix="hapi-test-"))
        port = free_port()
        cmd = [java, *JVM_OPTIONS, "-jar", str(jar), "--host", "127.0.0.1", "--port", str(port),
               "--default-page-size", str(DEFAULT_PAGE_SIZE), "--max-page-size", str(max_page_size),
               "--access-log", str(workdir / "access.log"), *extra_args]
        with open(workdir / "hapi.log", "wb") as log:
            proc = subprocess.Popen(cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    preexec_fn=_die_with_parent if _death_signal_is_safe() else None)
        server = HapiServer(f"http://127.0.0.1:{port}/fhir", proc.pid, workdir, [], proc, max_page_size=max_page_size)
        _RUNNING[server.pid] = server
        try:
            wait_ready(server, proc, timeout, name="HAPI", request_timeout=30, poll_s=1.0)
            return server
        except FhirServerError as e:
            last_error = e
            stop_fhir_server(server, grace=20.0)
    raise FhirServerError(f"could not start HAPI after {attempts} attempts: {last_error}")
