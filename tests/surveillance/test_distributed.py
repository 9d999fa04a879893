"""The same graph on a Dask distributed cluster (a 2-worker LocalCluster) gives the same worklist."""
from __future__ import annotations

import csv

import pytest

from cds_service.cli import main
from cds_service.surveillance.ndjson import export_files
from cds_service.surveillance.run import run_surveillance

from .conftest import AS_OF, N_PATIENTS

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    # Threads, not processes: light on a shared machine; tcp so that a separate Client (the
    # CLI's --scheduler) can connect to it like to a real scheduler.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp://",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        yield cluster


def _key(rows):
    return [{k: v for k, v in r.items()} for r in rows]


def test_local_cluster_equals_in_process(small_export, cluster):
    paths = export_files(small_export)
    local = run_surveillance(paths, as_of=AS_OF, partition_size="64KiB", scheduler="threads")
    with distributed.Client(cluster, set_as_default=False) as client:
        remote = run_surveillance(paths, as_of=AS_OF, partition_size="64KiB", client=client)
    assert len(remote.rows) == N_PATIENTS
    assert _key(remote.rows) == _key(local.rows)
    assert remote.scheduler.startswith("distributed (2 workers")
    assert remote.files == local.files


def test_cli_scheduler_address(small_export, cluster, tmp_path):
    address = cluster.scheduler_address
    assert address.startswith("tcp://127.0.0.1:")
    for name, extra in (("local", ["--quiet"]), ("cluster", ["--scheduler", address])):  # with progress bar
        rc = main(["surveil", str(small_export), "--as-of", AS_OF.isoformat(), "--out", str(tmp_path / name),
                   "--partition-size", "64KiB", *extra])
        assert rc == 0
    local = (tmp_path / "local" / "worklist.csv").read_text()
    remote = (tmp_path / "cluster" / "worklist.csv").read_text()
    assert remote == local
    assert len(list(csv.DictReader(local.splitlines()))) == N_PATIENTS


def test_unreachable_scheduler_is_a_clear_error(small_export, tmp_path, capsys):
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        rc = main(["surveil", str(small_export), "--out", str(tmp_path / "o"), "--quiet",
                   "--scheduler", f"tcp://127.0.0.1:{port}"])
    assert rc == 3
    err = capsys.readouterr().err
    assert "the run failed" in err and "Traceback" not in err
