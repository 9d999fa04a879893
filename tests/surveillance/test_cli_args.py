"""Bad arguments: one clear line on stderr and exit code 2 (3 when there is no data), no traceback."""
from __future__ import annotations

import pytest

from cds_service.cli import main


@pytest.mark.parametrize("extra, code, message", [
    (["--scheduler", "fast"], 2, "--scheduler must be one of"),
    (["--partition-size", "big"], 2, "--partition-size is not a size"),
])
def test_bad_options(small_export, tmp_path, capsys, extra, code, message):
    assert main(["surveil", str(small_export), "--out", str(tmp_path / "o"), "--quiet", *extra]) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_missing_folder_and_empty_folder(tmp_path, capsys):
    assert main(["surveil", str(tmp_path / "nope"), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "neither a folder of NDJSON files nor an http(s) URL" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["surveil", str(tmp_path / "empty"), "--out", str(tmp_path / "o"), "--quiet"]) == 3
    assert "no NDJSON files" in capsys.readouterr().err
