"""`myeloma-cds` console script: argument parsing, serve wiring, assess error paths."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from cds_service import cli
from cds_service.config import Config


def test_serve_parses_host_and_port_and_warns_when_auth_off(monkeypatch, capsys):
    seen = {}
    monkeypatch.setattr(cli, "run_server", lambda config: seen.setdefault("config", config))
    monkeypatch.delenv("CDS_AUTH", raising=False)
    assert cli.main(["serve", "--host", "127.0.0.2", "--port", "9099"]) == 0
    cfg = seen["config"]
    assert isinstance(cfg, Config)
    assert (cfg.host, cfg.port, cfg.auth) == ("127.0.0.2", 9099, "off")


def test_serve_defaults_to_loopback(monkeypatch):
    seen = {}
    monkeypatch.setattr(cli, "run_server", lambda config: seen.setdefault("config", config))
    for var in ("CDS_HOST", "CDS_PORT"):
        monkeypatch.delenv(var, raising=False)
    cli.main(["serve"])
    assert (seen["config"].host, seen["config"].port) == ("127.0.0.1", 8080)


def test_run_server_warns_once_about_auth_off(monkeypatch, caplog):
    import flask

    monkeypatch.setattr(flask.Flask, "run", lambda self, **kw: None)
    cli.run_server(Config(auth="off"))
    warnings = [r for r in caplog.records if "CDS_AUTH=off" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"


@pytest.mark.parametrize("argv", [["serve", "--port", "0"], ["serve", "--port", "http"],
                                  ["assess"], ["assess", "x.json", "--as-of", "23/11/2026"], ["load-demo"], []])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2


def test_assess_missing_file_exits_2(tmp_path, capsys):
    assert cli.main(["assess", str(tmp_path / "missing.json")]) == cli.EXIT_BAD_INPUT
    assert "cannot read" in capsys.readouterr().err


def test_assess_invalid_json_prints_operation_outcome(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert cli.main(["assess", str(bad)]) == cli.EXIT_BAD_INPUT
    outcome = json.loads(capsys.readouterr().err)
    assert outcome["resourceType"] == "OperationOutcome"


def test_assess_neither_bundle_nor_hook_is_bad_input(tmp_path, capsys):
    f = tmp_path / "patient.json"
    f.write_text(json.dumps({"resourceType": "Patient", "id": "p"}))
    assert cli.main(["assess", str(f)]) == cli.EXIT_BAD_INPUT


def test_assess_hook_request_without_prefetch_and_no_fetch_exits_3(tmp_path, capsys, monkeypatch):
    f = tmp_path / "hook.json"
    f.write_text(json.dumps({"hook": "patient-view", "hookInstance": "1", "fhirServer": "http://127.0.0.1:9/fhir",
                             "context": {"patientId": "p1"}}))
    assert cli.main(["assess", str(f)]) == cli.EXIT_NO_DATA  # fhirServer is ignored without --fetch
    outcome = json.loads(capsys.readouterr().err)
    assert "fetching was not requested" in outcome["issue"][0]["diagnostics"]


def test_console_script_is_installed():
    exe = shutil.which("myeloma-cds", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert exe, "myeloma-cds not on the venv's PATH (pip install -e .)"
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "serve" in out.stdout and "assess" in out.stdout and "load-demo" in out.stdout
