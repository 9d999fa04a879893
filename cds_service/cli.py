"""Console script `myeloma-cds`: serve, assess, load-demo.

- `serve [--host --port]`: the Flask development server on loopback with the embedded default
  configuration (environment variables still apply). Production uses gunicorn (Dockerfile).
- `assess FILE [--as-of DATE] [--fetch] [--cards]`: print the assessment JSON
  (docs/assessment-contract.md) for a FHIR Bundle or a CDS Hooks request; `--fetch` lets it
  read missing prefetch keys from the request's fhirServer; `--cards` prints instead the
  patient-view response body (`{"cards": [...]}`) for that record on that date. `-` reads stdin.
- `load-demo --fhir-server URL`: post the demo patients as transaction Bundles.
- `surveil SOURCE --out DIR [--as-of DATE] [--scheduler tcp://...]`: the clinic's worklist
  from a Bulk FHIR export (cds_service/surveillance/command.py).
- `feedback-report [--json]`: accept/override rates per card topic and override reasons, from
  the feedback store (CDS_DATABASE_URL; see README "Security model").
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler

from cds_service import create_app
from cds_service.cards import render_patient_view
from cds_service.cards.contract_words import assessment_json
from cds_service.config import Config
from cds_service.demo import DemoLoadError, load_demo
from cds_service.http.errors import CdsError, operation_outcome
from cds_service.feedback.report import run_feedback_report
from cds_service.hooks.pipeline import evaluate_input, today
from cds_service.security import AuthConfigError
from cds_service.http.validation import parse_json_object
from cds_service.surveillance import command as surveil

EXIT_BAD_INPUT = 2
EXIT_NO_DATA = 3

def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"port out of range: {port}")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="myeloma-cds", description="CDS Hooks service for relapsed multiple myeloma")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the development server (loopback by default)")
    serve.add_argument("--host", help="bind address (default CDS_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="port (default CDS_PORT or 8080)")

    assess = sub.add_parser("assess", help="print the assessment JSON for a Bundle or hook request")
    assess.add_argument("file", help="FHIR Bundle or CDS Hooks request JSON file, or - for stdin")
    assess.add_argument("--as-of", type=_date, help="today's date for the assessment (default: today)")
    assess.add_argument("--fetch", action="store_true", help="fetch missing prefetch keys from fhirServer")
    assess.add_argument("--cards", action="store_true",
                        help="print the patient-view response body {\"cards\": [...]} instead of the assessment")

    demo = sub.add_parser("load-demo", help="load the demo patients into a FHIR server")
    demo.add_argument("--fhir-server", required=True, help="FHIR base URL, e.g. http://127.0.0.1:8081/fhir")
    report = sub.add_parser("feedback-report", help="accept/override rates per card topic, override reasons")
    report.add_argument("--json", action="store_true", help="print JSON instead of text")
    surveil.add_parser(sub, _date)
    return parser


class _QuietRequestHandler(WSGIRequestHandler):
    """The dev server's own access line would repeat the service's JSON request line (and
    print query strings, where SMART authorization codes travel): one line per request."""

    def log_request(self, code="-", size="-") -> None:
        pass


def run_server(config: Config) -> None:
    """The development server. With CDS_AUTH=off the app logs the warning (once, at start)."""
    try:
        app = create_app(config)
    except AuthConfigError as exc:
        raise SystemExit(f"myeloma-cds refuses to start: {exc}") from None
    app.run(host=config.host, port=config.port, threaded=True, use_reloader=False,
            request_handler=_QuietRequestHandler)


def cmd_serve(args) -> int:
    config = Config.from_env()
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    run_server(config.with_overrides(**overrides))
    return 0


def cmd_assess(args) -> int:
    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        print(f"myeloma-cds assess: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    config = Config.from_env()
    try:
        body = parse_json_object(raw, what=f"file {args.file}")
        assessment = evaluate_input(body, config=config, as_of=args.as_of or today(), fetch=args.fetch)
    except CdsError as err:
        json.dump(operation_outcome(err.issues), sys.stderr, indent=2)
        print(file=sys.stderr)
        return EXIT_NO_DATA if err.status == 412 else EXIT_BAD_INPUT
    if args.cards:
        json.dump({"cards": render_patient_view(assessment, config=config)}, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    json.dump(assessment_json(assessment), sys.stdout, indent=2)
    print()
    return 0


def cmd_load_demo(args) -> int:
    try:
        result = load_demo(args.fhir_server)
    except DemoLoadError as exc:  # unreachable server, refused transaction: say so, no traceback
        print(f"myeloma-cds load-demo: {exc}", file=sys.stderr)
        return EXIT_NO_DATA
    if result is not None:
        json.dump(result, sys.stdout, indent=2, default=str)
        print()
    return 0


def cmd_feedback_report(args) -> int:
    return run_feedback_report(Config.from_env(), as_json=args.json)


COMMANDS = {"serve": cmd_serve, "assess": cmd_assess, "load-demo": cmd_load_demo,
            "feedback-report": cmd_feedback_report, "surveil": surveil.cmd_surveil}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ValueError as exc:  # bad configuration from the environment
        print(f"myeloma-cds: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
