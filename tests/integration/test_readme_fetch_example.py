"""The README's newcomer path against the real FHIR test server: the committed sekmet
settings and the no-prefetch example agree on the loopback server, and
`myeloma-cds assess <no-prefetch example> --fetch` reads the demo patient from a running
sekmet and gives the same verdict as the prefetched request."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml  # PyYAML: installed with the test extras (responses, kubernetes-validate)

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "hooks" / "patient-view-vignette-no-prefetch.json"
SETTINGS = REPO / "examples" / "sekmet" / "settings.yaml"
EXPECTED = json.loads((REPO / "examples" / "expected.json").read_text())


def test_the_example_points_at_the_server_of_the_committed_sekmet_settings():
    settings = yaml.safe_load(SETTINGS.read_text())
    assert json.loads(EXAMPLE.read_text())["fhirServer"] == settings["base_url"]
    assert settings["base_url"] == f"http://127.0.0.1:{settings['port']}/fhir"
    assert settings["host"] == "127.0.0.1" and settings["port"] != 8080  # 8080 is the service's
    assert settings["simulator"] == {"enabled": False}
    for key in ("data_dir", "own_private_key_path"):  # sekmet resolves relative paths against
        path = Path(settings[key])                     # the current folder: the checkout
        assert path.is_absolute() and REPO not in path.parents


@pytest.mark.integration
def test_assess_fetch_reads_the_no_prefetch_example_from_a_real_server(fhir_server, tmp_path):
    hook = json.loads(EXAMPLE.read_text())
    hook["fhirServer"] = fhir_server  # the session's sekmet on a free port, demo data loaded
    path = tmp_path / "no-prefetch.json"
    path.write_text(json.dumps(hook))
    proc = subprocess.run(
        [sys.executable, "-m", "cds_service.cli", "assess", str(path), "--fetch",
         "--as-of", EXPECTED["asOf"]],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assessment = json.loads(proc.stdout)
    assert assessment["relapse"]["status"] == EXPECTED["patients"]["vignette"]["relapse.status"]
