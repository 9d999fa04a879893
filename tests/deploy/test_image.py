"""The image is built and run, not only linted: without Docker Hub or a Docker engine, Debian's
podman builds the Dockerfile (`--isolation chroot`, host network) on a Debian base bootstrapped
here with debootstrap (Python and pip from Debian; Node.js and npm added by apt in a first
podman build, for the bundle stage), runs it with the runc
runtime and explicit nofile/nproc limits, and the test calls /healthz and a hook through it.

Marker `image`: `pytest -m image` runs it alone. It needs root, podman, runc and debootstrap
(scripts/setup installs them as root) and takes minutes (debootstrap, pip and npm inside the
build), so a plain local `pytest` skips it; it runs when selected with `-m image` (as .ci/run
does, in a step of its own) or with CDS_IMAGE_TEST=1. Podman's storage lives in a temporary folder removed at the end. Set
CDS_IMAGE_BASE_ROOTFS to a bootstrapped folder to skip debootstrap.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from tests.deploy.prod_stack import free_ports

pytestmark = [pytest.mark.image, pytest.mark.deploy, pytest.mark.timeout(3600)]

REPO = Path(__file__).resolve().parents[2]
VIGNETTE = json.loads((REPO / "examples/hooks/patient-view-vignette.json").read_text())
BASE_TAG = "localhost/myeloma-cds-base:bookworm"
IMAGE_TAG = "localhost/myeloma-cds:test"
NODE_TAG = "localhost/myeloma-cds-node-base:bookworm"
# debootstrap resolves only simple dependency trees: npm's is installed by apt in a build step.
DEBIAN_PACKAGES = "python3,python3-pip,python3-venv,python-is-python3,ca-certificates"
NODE_CONTAINERFILE = f"""FROM {BASE_TAG}
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm \\
    && apt-get clean && rm -rf /var/lib/apt/lists/*
"""
STEP_TIMEOUT_S = 1800


def tools_or_skip(config) -> None:
    wanted = "image" in (config.getoption("markexpr") or "") or os.environ.get("CDS_IMAGE_TEST") == "1"
    if not wanted:
        pytest.skip("the image build takes minutes: run it with -m image (or CDS_IMAGE_TEST=1)")
    missing = [t for t in ("podman", "runc", "debootstrap") if shutil.which(t) is None]
    problem = (f"{', '.join(missing)} not installed" if missing
               else "building needs root" if os.geteuid() != 0 else None)
    if problem:
        pytest.skip(f"{problem} (Debian: apt-get install podman runc debootstrap; scripts/setup does as root)")


@pytest.fixture(scope="module")
def podman(request):
    """`podman` with storage in a temporary folder (nothing left in /var/lib/containers)."""
    tools_or_skip(request.config)
    root = Path(tempfile.mkdtemp(prefix="myeloma-cds-podman-"))
    base = ["podman", "--root", str(root / "storage"), "--runroot", str(root / "run"),
            "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none"]

    def run(*args, timeout=STEP_TIMEOUT_S, **kwargs):
        proc = subprocess.run([*base, *args], capture_output=True, text=True, timeout=timeout, **kwargs)
        assert proc.returncode == 0, f"podman {' '.join(args[:3])}: {proc.stderr[-3000:]}"
        return proc.stdout

    yield run
    subprocess.run([*base, "rm", "--all", "--force"], capture_output=True, timeout=120)
    # vfs storage is plain folders (no mounts, host network): removing them is the reset,
    # minutes faster than `podman system reset`.
    shutil.rmtree(root, ignore_errors=True)


SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def trust_build_hosts_certificates(rootfs: Path) -> None:
    """The base trusts what the build host trusts: networks that inspect TLS (a hospital's
    proxy, this machine's egress) re-sign PyPI and npm with their own CA, installed on the
    host under /usr/local/share/ca-certificates and merged into the system bundle."""
    local = Path("/usr/local/share/ca-certificates")
    target = rootfs / local.relative_to("/")
    target.mkdir(parents=True, exist_ok=True)
    for cert in local.glob("*.crt") if local.is_dir() else []:
        shutil.copyfile(cert, target / cert.name)
    if Path(SYSTEM_CA_BUNDLE).is_file():
        shutil.copyfile(SYSTEM_CA_BUNDLE, rootfs / SYSTEM_CA_BUNDLE.lstrip("/"))


@pytest.fixture(scope="module")
def base_image(podman, tmp_path_factory):
    rootfs = os.environ.get("CDS_IMAGE_BASE_ROOTFS")
    if not rootfs:
        rootfs = str(tmp_path_factory.mktemp("rootfs") / "bookworm")
        proc = subprocess.run(["debootstrap", "--variant=minbase", f"--include={DEBIAN_PACKAGES}",
                               "bookworm", rootfs, "http://deb.debian.org/debian"],
                              capture_output=True, text=True, timeout=STEP_TIMEOUT_S)
        assert proc.returncode == 0, proc.stderr[-3000:]
    trust_build_hosts_certificates(Path(rootfs))
    tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
    # Debian marks its Python "externally managed" (PEP 668); in an image pip owns it. Node's
    # own CA list would ignore the system bundle, so it is pointed there.
    podman("import", "--change", "ENV PIP_BREAK_SYSTEM_PACKAGES=1",
           "--change", f"ENV NODE_EXTRA_CA_CERTS={SYSTEM_CA_BUNDLE}", "--change", f"ENV PIP_CERT={SYSTEM_CA_BUNDLE}",
           "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "-", BASE_TAG, stdin=tar.stdout)
    tar.wait()
    return BASE_TAG


@pytest.fixture(scope="module")
def node_image(podman, base_image, tmp_path_factory):
    folder = tmp_path_factory.mktemp("node-base")
    (folder / "Containerfile").write_text(NODE_CONTAINERFILE)
    podman("build", "--isolation", "chroot", "--network", "host", "-t", NODE_TAG, str(folder))
    return NODE_TAG


@pytest.fixture(scope="module")
def image(podman, base_image, node_image):
    podman("build", "--isolation", "chroot", "--network", "host",
           "--build-arg", f"PYTHON_IMAGE={base_image}", "--build-arg", f"NODE_IMAGE={node_image}",
           "-t", IMAGE_TAG, "-f", str(REPO / "Dockerfile"), str(REPO))
    return IMAGE_TAG


def test_the_image_builds_starts_and_answers_a_hook(podman, image, tmp_path):
    (port,) = free_ports(1)
    name = f"myeloma-cds-test-{port}"
    podman("run", "--detach", "--name", name, "--runtime", "runc", "--network", "host",
           "--ulimit", "nofile=8192:8192", "--ulimit", "nproc=512",
           "-e", "CDS_AUTH=off", "-e", "CDS_HOST=127.0.0.1", "-e", f"CDS_PORT={port}", image, timeout=120)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = requests.get(base + "/healthz", timeout=2)
                if health.status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, podman("logs", name, timeout=30)[-3000:]
            time.sleep(0.5)
        assert health.json() == {"status": "ok"}
        resp = requests.post(base + "/cds-services/myeloma-relapse", json=VIGNETTE, timeout=30)
        assert resp.status_code == 200, resp.text
        topics = {c["source"]["topic"]["code"] for c in resp.json()["cards"]}
        assert "relapse-status" in topics
        # The image's runtime extras: PostgreSQL support is installed (psycopg 3).
        podman("exec", name, "python", "-c", "import psycopg", timeout=60)
        # gunicorn as the non-root user of the image, Prometheus values summed over workers.
        assert "cds_http_requests_total" in requests.get(base + "/metrics", timeout=5).text
        user = podman("exec", name, "id", "-u", timeout=60).strip()
        assert user == "10001"
    finally:
        podman("rm", "--force", name, timeout=120)
