"""Health check, CORS (simple and preflight), configuration from the environment."""
from __future__ import annotations

import pytest

from cds_service import create_app
from cds_service.config import Config


def test_healthz(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/cds-services", "/cds-services/myeloma-relapse", "/assessment"])
def test_cors_preflight(client, path):
    resp = client.options(path, headers={
        "Origin": "https://sandbox.cds-hooks.org",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    })
    assert resp.status_code in (200, 204)
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert set(m.strip() for m in resp.headers["Access-Control-Allow-Methods"].split(",")) == {"GET", "POST", "OPTIONS"}
    allowed = {h.strip().lower() for h in resp.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed


def test_cors_headers_on_normal_and_error_responses(client):
    assert client.get("/cds-services", headers={"Origin": "https://x.org"}).headers["Access-Control-Allow-Origin"] == "*"
    resp = client.post("/cds-services/myeloma-relapse", data=b"{", headers={"Origin": "https://x.org"})
    assert resp.status_code == 400
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_origin_list_echoes_only_listed_origins():
    app = create_app(Config(cors_origins="https://sandbox.cds-hooks.org, https://ehr.example.org"))
    client = app.test_client()
    ok = client.get("/cds-services", headers={"Origin": "https://ehr.example.org"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://ehr.example.org"
    assert "Origin" in ok.headers["Vary"]
    denied = client.get("/cds-services", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in denied.headers


def test_config_defaults_are_safe():
    cfg = Config.from_env({})
    assert cfg.host == "127.0.0.1" and cfg.port == 8080
    assert cfg.request_deadline_s == 2.5
    assert cfg.cors_origins == "*"
    assert cfg.auth == "off"


def test_config_from_env_parses_and_rejects():
    cfg = Config.from_env({"CDS_PORT": "9090", "CDS_REQUEST_DEADLINE_S": "1.5", "CDS_AUTH": "JWT",
                           "CDS_PUBLIC_BASE_URL": "https://cds.example.org/", "CDS_LOG_LEVEL": "debug"})
    assert (cfg.port, cfg.request_deadline_s, cfg.auth) == (9090, 1.5, "jwt")
    assert cfg.public_base_url == "https://cds.example.org"
    assert cfg.log_level == "DEBUG"
    with pytest.raises(ValueError):
        Config.from_env({"CDS_AUTH": "maybe"})
    with pytest.raises(ValueError):
        Config.from_env({"CDS_REQUEST_DEADLINE_S": "-1"})
    with pytest.raises(ValueError):
        Config.from_env({"CDS_PORT": "eighty"})
