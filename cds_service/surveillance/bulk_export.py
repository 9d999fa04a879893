"""A FHIR Bulk Data `$export` client: kick-off, status polling, download of the NDJSON files.

Flow (HL7 Bulk Data Access, the asynchronous request pattern):
- kick-off: GET [base]/Group/[id]/$export or [base]/Patient/$export with
  `Accept: application/fhir+json` and `Prefer: respond-async` -> 202 with `Content-Location`
  (the status URL); 4xx/5xx carry an OperationOutcome;
- status: GET the status URL -> 202 while running (`Retry-After`, `X-Progress`), 200 with the
  manifest (`transactionTime`, `request`, `requiresAccessToken`, `output[{type,url}]`,
  `error[{type,url}]`) when done, 4xx/5xx with an OperationOutcome when the job failed; 429
  means "poll less often" (wait `Retry-After`, go on);
- files: GET each output URL (`Accept: application/fhir+ndjson`), streamed to disk;
- afterwards DELETE on the status URL tells the server the files may go (best effort).

Trust (the hooks' rules, security/url_policy.py): the base must be https, or http on a
loopback host; the status URL and every file URL must lie on the base's origin and under its
base path, or on an origin the operator allowed (`file_origins`, e.g. the object store the
server writes to). The bearer token is sent only to the base's origin (never to another
origin, whatever `requiresAccessToken` says) and never appears in a message or a log.
Redirects are not followed. Failures raise BulkExportError with a message for the operator.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Callable
from urllib.parse import urljoin

import requests

from cds_service.security.url_policy import FhirBase, UrlPolicyError, parse_fhir_base, validate_allow_entry

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
NDJSON = "application/fhir+ndjson"
MAX_MANIFEST_BYTES = 8 * 1024 * 1024
DEFAULT_MAX_BYTES = 64 * 1024 ** 3  # all files together
MAX_MESSAGE = 300


class BulkExportError(Exception):
    """The export could not be had; the message says why (no token, no patient data)."""


@dataclass
class ExportSettings:
    token: str | None = None
    file_origins: tuple[str, ...] = ()
    timeout_s: float = 3600.0  # kick-off to last file
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 60.0
    default_wait_s: float = 2.0  # first poll pause when the server sends no Retry-After
    max_wait_s: float = 120.0  # longest pause between polls
    max_bytes: int = DEFAULT_MAX_BYTES
    types: tuple[str, ...] = ()  # _type; empty: what the server exports by default
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def __repr__(self) -> str:  # never show the token
        return f"ExportSettings(token={'***' if self.token else None}, file_origins={self.file_origins!r})"


@dataclass
class ExportManifest:
    transaction_time: str | None
    requires_access_token: bool
    output: list[dict] = field(default_factory=list)
    error: list[dict] = field(default_factory=list)


@dataclass
class DownloadedExport:
    folder: Path
    files: list[Path]
    error_files: list[Path]
    manifest: ExportManifest
    server_errors: int  # OperationOutcome lines in the server's error files


def kickoff_url(base: FhirBase, group: str | None) -> str:
    if group is not None:
        if not group or "/" in group or "?" in group or "#" in group:
            raise BulkExportError("the Group id must be a plain FHIR id")
        return f"{base}/Group/{group}/$export"
    return f"{base}/Patient/$export"


def split_source(url: str) -> tuple[str, str | None]:
    """A SOURCE URL -> (FHIR base, Group id or None): `<base>/Group/<id>[/$export]` names a
    Group export, `<base>[/Patient[/$export]]` a Patient export."""
    trimmed = url.rstrip("/")
    if trimmed.endswith("/$export"):
        trimmed = trimmed[: -len("/$export")]
    if trimmed.endswith("/Patient"):
        return trimmed[: -len("/Patient")], None
    head, sep, tail = trimmed.rpartition("/Group/")
    if sep and tail and "/" not in tail:
        return head, tail
    return trimmed, None


class BulkExportClient:
    """One export from one FHIR server into one folder."""

    def __init__(self, base_url: str, settings: ExportSettings, session: requests.Session | None = None):
        try:
            self.base = validate_allow_entry(base_url)
        except UrlPolicyError as exc:
            raise BulkExportError(f"the FHIR server URL was refused: {exc}") from None
        self.settings = settings
        self.extra_origins = []
        for origin in settings.file_origins:
            try:
                self.extra_origins.append(validate_allow_entry(origin))
            except UrlPolicyError as exc:
                raise BulkExportError(f"the file origin was refused: {exc}") from None
        self.session = session or requests.Session()
        self.deadline = settings.clock() + settings.timeout_s

    # -- URL trust --------------------------------------------------------------------------
    def _check(self, url: str, what: str) -> tuple[str, bool]:
        """(absolute URL, may the token go there) or BulkExportError if it is not allowed."""
        absolute = urljoin(str(self.base) + "/", url)
        try:
            target = parse_fhir_base(absolute, allow_query=True)
        except UrlPolicyError as exc:
            raise BulkExportError(f"the server's {what} URL was refused: {exc}") from None
        if self.base.contains(target):
            return absolute, True
        if any(o.contains(target) for o in self.extra_origins):
            return absolute, False
        raise BulkExportError(
            f"the server's {what} URL is on {target.scheme}://{target.host}:{target.port}, outside the "
            f"FHIR server's origin and base path, and that origin was not allowed (--file-origin); refused")

    def _headers(self, accept: str, token_allowed: bool, prefer: bool = False) -> dict:
        headers = {"Accept": accept}
        if prefer:
            headers["Prefer"] = "respond-async"
        if self.settings.token and token_allowed:
            headers["Authorization"] = f"Bearer {self.settings.token}"
        return headers

    def _left(self) -> float:
        left = self.deadline - self.settings.clock()
        if left <= 0:
            raise BulkExportError(f"the export did not finish within {self.settings.timeout_s:.0f} s")
        return left

    def _request(self, method: str, url: str, headers: dict, *, stream: bool = False) -> requests.Response:
        left = self._left()
        timeout = (min(self.settings.connect_timeout_s, left), min(self.settings.read_timeout_s, left))
        try:
            return self.session.request(method, url, headers=headers, timeout=timeout, stream=stream,
                                        allow_redirects=False)
        except requests.Timeout:
            raise BulkExportError("the FHIR server did not answer in time") from None
        except requests.RequestException as exc:
            raise BulkExportError(f"could not reach the FHIR server ({type(exc).__name__})") from None

    # -- the flow ---------------------------------------------------------------------------
    def kick_off(self, group: str | None) -> str:
        """Start the export; return the status URL."""
        url = kickoff_url(self.base, group)
        if self.settings.types:
            url += "?_type=" + ",".join(self.settings.types)
        attempt = 0
        while True:
            resp = self._request("GET", url, self._headers(FHIR_JSON, True, prefer=True))
            if resp.status_code == 429:
                attempt += 1
                self._wait(resp, attempt)
                continue
            if resp.status_code != 202:
                raise BulkExportError(f"the export kick-off was refused: {_describe(resp)}")
            location = resp.headers.get("Content-Location")
            if not location:
                raise BulkExportError("the export kick-off answered 202 without a Content-Location (status URL)")
            status_url, _ = self._check(location, "status")
            log.info("surveil: export started on %s", self.base.origin)
            return status_url

    def poll(self, status_url: str) -> ExportManifest:
        """Poll until the manifest is there, honouring Retry-After (202 and 429)."""
        self._check(status_url, "status")
        attempt = 0
        while True:
            resp = self._request("GET", status_url, self._headers(FHIR_JSON, True))
            if resp.status_code in (202, 429):
                attempt += 1
                progress = resp.headers.get("X-Progress")
                if progress:
                    log.info("surveil: export in progress (%s)", progress[:80])
                self._wait(resp, attempt)
                continue
            if resp.status_code != 200:
                raise BulkExportError(f"the export failed on the server: {_describe(resp)}")
            return _manifest(resp)

    def download(self, manifest: ExportManifest, folder: Path) -> DownloadedExport:
        folder.mkdir(parents=True, exist_ok=True)
        files, error_files, total = [], [], 0
        for kind, items in (("output", manifest.output), ("error", manifest.error)):
            for i, item in enumerate(items):
                url, token_ok = self._check(item["url"], "file")
                if manifest.requires_access_token and not token_ok:
                    raise BulkExportError("the server wants its access token sent to a file origin other than "
                                          "its own; the token never leaves the FHIR server's origin, refused")
                name = f"{item['type']}.{i + 1:04d}.ndjson" if kind == "output" else f"error.{i + 1:04d}.ndjson"
                path = folder / name
                send_token = token_ok and manifest.requires_access_token
                total += self._fetch_file(url, path, send_token, budget=self.settings.max_bytes - total)
                (files if kind == "output" else error_files).append(path)
        server_errors = sum(1 for p in error_files for line in p.open(encoding="utf-8", errors="replace") if line.strip())
        return DownloadedExport(folder, files, error_files, manifest, server_errors)

    def _fetch_file(self, url: str, path: Path, token_ok: bool, *, budget: int) -> int:
        resp = self._request("GET", url, self._headers(NDJSON, token_ok), stream=True)
        with resp:
            if resp.status_code != 200:
                raise BulkExportError(f"an export file could not be downloaded: {_describe(resp)}")
            size = 0
            with path.open("wb") as fh:
                for chunk in resp.iter_content(1 << 20):
                    size += len(chunk)
                    if size > budget:
                        raise BulkExportError("the export is larger than the limit (--max-export-bytes)")
                    fh.write(chunk)
                    self._left()
        return size

    def delete(self, status_url: str) -> None:
        """Tell the server the files may be removed (best effort: failures are only logged)."""
        try:
            self._request("DELETE", status_url, self._headers(FHIR_JSON, True)).close()
        except BulkExportError as exc:
            log.info("surveil: the export job could not be deleted on the server (%s)", exc)

    def _wait(self, resp: requests.Response, attempt: int) -> None:
        pause = retry_after(resp.headers.get("Retry-After"))
        if pause is None:
            pause = self.settings.default_wait_s * (2 ** min(attempt - 1, 6))
        pause = min(max(pause, 0.0), self.settings.max_wait_s)
        if pause >= self._left():
            raise BulkExportError(f"the export did not finish within {self.settings.timeout_s:.0f} s")
        self.settings.sleep(pause)


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP-date), None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _describe(resp: requests.Response) -> str:
    """`HTTP 4xx` plus the OperationOutcome's text, if the server sent one (bounded)."""
    text = f"HTTP {resp.status_code}"
    try:
        body = json.loads(resp.content[:MAX_MANIFEST_BYTES])
    except ValueError:
        return text
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        notes = []
        for issue in body.get("issue") or []:
            if isinstance(issue, dict):
                note = (issue.get("details") or {}).get("text") or issue.get("diagnostics") or issue.get("code")
                if isinstance(note, str):
                    notes.append(note)
        if notes:
            text += ": " + "; ".join(notes)[:MAX_MESSAGE]
    return text


def _manifest(resp: requests.Response) -> ExportManifest:
    if len(resp.content) > MAX_MANIFEST_BYTES:
        raise BulkExportError("the export manifest is larger than the client accepts")
    try:
        body = json.loads(resp.content)
    except ValueError:
        raise BulkExportError("the export manifest is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("output"), list):
        raise BulkExportError("the export manifest has no output list")

    def items(key: str) -> list[dict]:
        out = []
        for item in body.get(key) or []:
            if not (isinstance(item, dict) and isinstance(item.get("url"), str) and isinstance(item.get("type"), str)):
                raise BulkExportError(f"the export manifest has a malformed {key} entry")
            if not item["type"].isalpha():
                raise BulkExportError(f"the export manifest names an unusable resource type in {key}")
            out.append(item)
        return out

    return ExportManifest(
        transaction_time=body.get("transactionTime") if isinstance(body.get("transactionTime"), str) else None,
        requires_access_token=body.get("requiresAccessToken") is True,
        output=items("output"), error=items("error"),
    )


def export_to_folder(source_url: str, folder: Path, settings: ExportSettings,
                     session: requests.Session | None = None) -> DownloadedExport:
    """Run one `$export` of SOURCE (base, `<base>/Group/<id>` or `<base>/Patient`) into `folder`."""
    base_url, group = split_source(source_url)
    client = BulkExportClient(base_url, settings, session=session)
    status_url = client.kick_off(group)
    manifest = client.poll(status_url)
    downloaded = client.download(manifest, folder)
    client.delete(status_url)
    return downloaded
