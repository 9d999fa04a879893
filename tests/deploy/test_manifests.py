"""deploy/ is checked without a container engine: the compose file against the Compose
Specification's JSON schema (the copy shipped by check-jsonschema), the Kubernetes manifests
with kubernetes-validate (strict: unknown fields fail), the compose nginx configuration with
`nginx -t`, and the image's settings the README promises (pinned base images as build
arguments, the postgres extra, CDS_HOST/CDS_PORT, the gunicorn options scripts/prod-stack
mirrors)."""
from __future__ import annotations

import json
import re
import shlex
import subprocess
from importlib.resources import files
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.deploy.prod_stack import nginx_or_skip

pytestmark = pytest.mark.deploy

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
KUBERNETES_VERSION = "1.30.0"
EXACT_TAG = re.compile(r"^[a-z0-9./-]+:\d+\.\d+(\.\d+)?-[\w.-]+$|@sha256:[0-9a-f]{64}$")  # version+variant or digest


def compose_schema() -> dict:
    return json.loads(files("check_jsonschema.builtin_schemas.vendor")
                      .joinpath("compose-spec.json").read_text())


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())


def test_compose_file_is_valid_against_the_compose_specification():
    schema = compose_schema()
    jsonschema.validators.validator_for(schema)(schema).validate(compose())


def test_the_schema_check_catches_a_broken_compose_file():
    broken = compose()
    broken["services"]["proxy"]["ports"] = {"8000": "8000"}  # must be a list
    schema = compose_schema()
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validators.validator_for(schema)(schema).validate(broken)


def test_compose_runs_a_proxy_two_or_more_replicas_sharing_postgresql():
    services = compose()["services"]
    replicas = [name for name, s in services.items() if s.get("image", "").startswith("myeloma-cds")]
    assert len(replicas) >= 2
    for name in replicas:
        env = services[name]["environment"]
        assert env["CDS_AUTH"] == "jwt"
        assert env["CDS_DATABASE_URL"].startswith("postgresql://") and "@postgres:" in env["CDS_DATABASE_URL"]
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    nginx = (DEPLOY / "compose" / "nginx.conf").read_text()
    for name in replicas:
        assert f"server {name}:8080" in nginx
    for s in services.values():
        if "image" in s and not s["image"].startswith("myeloma-cds"):
            assert EXACT_TAG.search(s["image"]), s["image"]


def test_the_compose_nginx_configuration_is_accepted_by_nginx(tmp_path):
    nginx = nginx_or_skip()
    text = (DEPLOY / "compose" / "nginx.conf").read_text()
    text = text.replace("/etc/nginx/myeloma-cds/", str(DEPLOY / "nginx") + "/")
    text = re.sub(r"server cds-\d+:8080", "server 127.0.0.1:9", text)  # no compose DNS here
    text = text.replace("pid /tmp/nginx.pid;", f"pid {tmp_path}/nginx.pid;")
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    proc = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-e", "stderr", "-c", str(conf)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr


def kubernetes_documents() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        docs += [(path.name, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


@pytest.mark.parametrize("name, doc", kubernetes_documents(),
                         ids=lambda v: v if isinstance(v, str) else v.get("kind", "?"))
def test_kubernetes_manifest_is_valid(name, doc):
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validator_catches_an_unknown_field():
    (deployment,) = [d for _, d in kubernetes_documents() if d["kind"] == "Deployment"]
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_the_deployment_has_probes_a_database_secret_and_an_autoscaler():
    docs = {d["kind"]: d for _, d in kubernetes_documents()}
    (container,) = docs["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    env = {e["name"]: e for e in container["env"]}
    secret_ref = env["CDS_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert secret_ref["name"] == docs["Secret"]["metadata"]["name"]
    assert secret_ref["key"] in docs["Secret"]["stringData"]
    assert docs["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == \
        docs["Deployment"]["metadata"]["name"]
    assert docs["HorizontalPodAutoscaler"]["spec"]["minReplicas"] >= 2
    assert container["resources"]["requests"]["cpu"]  # the HPA's CPU target needs a request
    routed = {p["path"] for p in docs["Ingress"]["spec"]["rules"][0]["http"]["paths"]}
    assert "/metrics" not in routed and "/" not in routed


def dockerfile_cmd() -> list[str]:
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            return json.loads(line[4:])
    raise AssertionError("no CMD")


def test_the_image_pins_its_bases_installs_postgres_and_honours_host_and_port():
    text = (REPO / "Dockerfile").read_text()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, re.M))
    assert EXACT_TAG.search(args["PYTHON_IMAGE"]) and EXACT_TAG.search(args["NODE_IMAGE"])
    assert "FROM ${PYTHON_IMAGE}" in text and "FROM ${NODE_IMAGE} AS" in text
    assert 'pip install --no-cache-dir ".[postgres]"' in text
    cmd = dockerfile_cmd()
    assert "--bind" not in cmd and "python:cds_service.gunicorn_config" in cmd
    assert "CDS_PORT" in text.split("HEALTHCHECK", 1)[1].split("CMD [\"gunicorn\"", 1)[0]


def test_gunicorn_binds_cds_host_and_port(monkeypatch):
    import importlib

    import cds_service.gunicorn_config as gconf

    monkeypatch.setenv("CDS_HOST", "0.0.0.0")
    monkeypatch.setenv("CDS_PORT", "9123")
    assert importlib.reload(gconf).bind == ["0.0.0.0:9123"]
    monkeypatch.delenv("CDS_HOST")
    monkeypatch.delenv("CDS_PORT")
    assert importlib.reload(gconf).bind == ["127.0.0.1:8080"]


def test_prod_stack_runs_gunicorn_with_the_dockerfiles_options():
    script = (REPO / "scripts" / "prod-stack").read_text()
    block = re.search(r"GUNICORN_OPTS=\((.*?)\)", script, re.S).group(1)
    stack_opts = shlex.split(block.replace("\n", " "))
    cmd = dockerfile_cmd()
    assert stack_opts == cmd[1:-1]
    assert cmd[-1] == "cds_service.wsgi:app"
