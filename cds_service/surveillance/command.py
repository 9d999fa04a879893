"""`myeloma-cds surveil SOURCE --as-of DATE --out DIR`: the clinic's worklist from a Bulk export.

SOURCE is a folder of Bulk Data NDJSON files, or a FHIR server URL (`<base>` or
`<base>/Patient` for `Patient/$export`, `<base>/Group/<id>` for a Group export). Writes into
DIR: worklist.csv, worklist-tasks.ndjson (a FHIR Task per patient to review), report.html,
summary.json (counts, unreadable lines by file and line) and, for a URL, export/ (the files).
The bearer token for the server comes from an environment variable (--token-env, default
CDS_BULK_TOKEN), never from the command line (it would show in the process list) and never
in any output.
"""
from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path

from cds_service.config import Config
from cds_service.surveillance.bulk_export import BulkExportError, ExportSettings, export_to_folder, split_source

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_NO_DATA = 3
TOKEN_ENV = "CDS_BULK_TOKEN"
# What the assessment reads (fhir_mappings.build_patient_record): the export's _type.
EXPORT_TYPES = (
    "Patient", "Condition", "Observation", "MedicationStatement", "MedicationRequest",
    "MedicationAdministration", "Medication", "Procedure", "DiagnosticReport",
)


def add_parser(sub, date_type) -> None:
    p = sub.add_parser("surveil", help="worklist of a whole clinic from a Bulk FHIR export (runs on Dask)")
    p.add_argument("source", help="folder of Bulk Data NDJSON files, or a FHIR server URL to $export from")
    p.add_argument("--as-of", type=date_type, help="today's date for every assessment (default: today)")
    p.add_argument("--out", required=True, type=Path, help="output folder (created)")
    p.add_argument("--scheduler", default="threads",
                   help="threads (default, in-process), sync, processes, or a Dask scheduler address tcp://host:8786")
    p.add_argument("--partition-size", default="16MiB", help="bytes of NDJSON per task, e.g. 16MiB (bounds memory per worker)")
    p.add_argument("--token-env", default=TOKEN_ENV, help=f"environment variable holding the bearer token (default {TOKEN_ENV})")
    p.add_argument("--file-origin", action="append", default=[],
                   help="an extra origin export files may be downloaded from (no token is sent there); repeatable")
    p.add_argument("--export-timeout", type=float, default=3600.0, help="seconds from kick-off to the last file")
    p.add_argument("--max-export-bytes", default="64GiB", help="refuse an export larger than this")
    p.add_argument("--app-url", help="SMART timeline launch URL for the report's links (default CDS_APP_URL)")
    p.add_argument("--fhir-base", help="FHIR base URL the timeline app reads (default: SOURCE when it is a URL)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _fail(message: str, code: int) -> int:
    print(f"myeloma-cds surveil: {message}", file=sys.stderr)
    return code


def _download(args, parse_bytes) -> tuple[list[Path], int] | int:
    """Run the $export into OUT/export: (files, server error count), or an exit code."""
    token = os.environ.get(args.token_env) or None
    try:
        max_bytes = parse_bytes(args.max_export_bytes)
    except ValueError:
        return _fail(f"--max-export-bytes is not a size: {args.max_export_bytes!r}", EXIT_BAD_INPUT)
    settings = ExportSettings(token=token, file_origins=tuple(args.file_origin), timeout_s=args.export_timeout,
                            max_bytes=max_bytes, types=EXPORT_TYPES)
    if not args.quiet:
        print("myeloma-cds surveil: running $export on the FHIR server"
              + (" (with a bearer token)" if token else " (no bearer token)"), file=sys.stderr)
    try:
        downloaded = export_to_folder(args.source, args.out / "export", settings)
    except BulkExportError as exc:
        return _fail(f"$export failed: {exc}", EXIT_NO_DATA)
    return list(downloaded.files), downloaded.server_errors


def cmd_surveil(args) -> int:
    """Check the options, get the NDJSON files, assess every patient on Dask, write the outputs."""
    # Imported here to save start-up time: dask and the model load in ~1 s and `serve` never
    # needs them.
    from dask.utils import parse_bytes  # start-up cost, see above

    from cds_service.surveillance.run import run_surveillance  # start-up cost, see above

    as_of = args.as_of or date.today()
    failed = _bad_options(args, parse_bytes)
    if failed is not None:
        return failed
    got = _source_files(args, parse_bytes)
    if isinstance(got, int):
        return got
    paths, server_errors, source_label = got
    try:
        result = run_surveillance(paths, as_of=as_of, partition_size=args.partition_size,
                                  scheduler=args.scheduler, progress=not args.quiet)
    except (OSError, TimeoutError) as exc:  # an unreachable scheduler, an unreadable file
        return _fail(f"the run failed: {type(exc).__name__}: {exc}", EXIT_NO_DATA)
    except ValueError as exc:  # e.g. an unknown scheduler name
        return _fail(str(exc), EXIT_BAD_INPUT)
    summary = _write_outputs(result, args, as_of=as_of, source_label=source_label, server_errors=server_errors)
    print(f"myeloma-cds surveil: {len(result.rows)} patients, {summary['toReview']} to review, "
          f"{len(result.bad_lines)} unreadable line(s), {summary['failedAssessments']} failed assessment(s); "
          f"{result.elapsed_s:.1f} s; wrote {args.out / 'report.html'}", file=sys.stderr)
    return EXIT_OK


def _bad_options(args, parse_bytes) -> int | None:
    """An exit code for an option that cannot work (the output folder is created here)."""
    from cds_service.surveillance.run import LOCAL_SCHEDULERS  # start-up cost, see cmd_surveil

    if args.scheduler not in LOCAL_SCHEDULERS and "://" not in args.scheduler:
        return _fail(f"--scheduler must be one of {', '.join(LOCAL_SCHEDULERS)} or an address like "
                     f"tcp://host:8786, got {args.scheduler!r}", EXIT_BAD_INPUT)
    try:
        parse_bytes(args.partition_size)
    except ValueError:
        return _fail(f"--partition-size is not a size: {args.partition_size!r}", EXIT_BAD_INPUT)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _fail(f"cannot create {args.out}: {exc.strerror}", EXIT_BAD_INPUT)
    return None


def _source_files(args, parse_bytes) -> tuple[list[Path], int, str] | int:
    """(NDJSON files, server error count, how the report names the source), or an exit code."""
    from cds_service.surveillance.ndjson import export_files  # start-up cost, see cmd_surveil

    if _is_url(args.source):
        got = _download(args, parse_bytes)
        if isinstance(got, int):
            return got
        paths, server_errors = got
        label = f"$export from {split_source(args.source)[0]}"
    else:
        folder = Path(args.source)
        if not folder.is_dir():
            return _fail(f"{args.source} is neither a folder of NDJSON files nor an http(s) URL", EXIT_BAD_INPUT)
        paths, server_errors, label = export_files(folder), 0, f"folder {folder.name}"
    if not paths:
        return _fail("the export holds no NDJSON files", EXIT_NO_DATA)
    return paths, server_errors, label


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _write_outputs(result, args, *, as_of: date, source_label: str, server_errors: int) -> dict:
    """worklist.csv, worklist-tasks.ndjson, report.html and summary.json; returns the summary."""
    from cds_service.surveillance.report import describe_row, render_report  # start-up cost, see cmd_surveil
    from cds_service.surveillance.worklist import write_csv, write_tasks  # start-up cost, see cmd_surveil

    config = Config.from_env()
    app_url = args.app_url or config.app_url or (
        config.public_base_url.rstrip("/") + "/app/launch" if config.public_base_url else None)
    fhir_base = args.fhir_base or (split_source(args.source)[0] if _is_url(args.source) else None)
    write_csv(result.rows, args.out / "worklist.csv")
    n_tasks = write_tasks(result.rows, args.out / "worklist-tasks.ndjson", as_of=as_of.isoformat(), describe=describe_row)
    (args.out / "report.html").write_text(render_report(
        result, as_of=as_of.isoformat(), source=source_label, app_url=app_url, fhir_base=fhir_base,
        server_errors=server_errors), encoding="utf-8")
    summary = {
        "asOf": as_of.isoformat(), "patients": len(result.rows), "toReview": n_tasks,
        "failedAssessments": sum(1 for r in result.rows if r["error"]),
        "unreadableLines": len(result.bad_lines),
        "unreadableLinesWithoutPatient": sum(1 for b in result.bad_lines if b.patient_id is None),
        "serverErrors": server_errors, "files": result.files,
        "badLines": [{"file": b.file, "line": b.line, "reason": b.reason, "patientId": b.patient_id}
                     for b in result.bad_lines],
        "scheduler": result.scheduler, "partitions": result.partitions, "seconds": round(result.elapsed_s, 2),
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary
