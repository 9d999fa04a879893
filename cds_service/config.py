"""Service configuration: one dataclass, filled from environment variables.

Every field has a safe default so `myeloma-cds serve` runs on a laptop with no settings:
loopback only, auth off (the dev server warns loudly about that). Production (the Docker
image) sets CDS_AUTH=jwt. Other modules add fields here additively; read them as
`current_app.config["CDS"]` (see cds_service.get_config).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Mapping

from flask import current_app


def get_config() -> Config:
    """The running app's Config (inside a request or app context)."""
    return current_app.config["CDS"]


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {raw!r}")
    return value


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "on", "yes"):
        return True
    if value in ("0", "false", "off", "no"):
        return False
    raise ValueError(f"{name} must be on or off, got {raw!r}")


def _str(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip()


AUTH_MODES = ("off", "jwt")


@dataclass(frozen=True)
class Config:
    """Runtime settings. Field docs are the README's configuration table."""

    host: str = "127.0.0.1"  # CDS_HOST: bind address of the dev server
    port: int = 8080  # CDS_PORT
    public_base_url: str | None = None  # CDS_PUBLIC_BASE_URL: e.g. https://cds.example.org (JWT aud, links)
    request_deadline_s: float = 2.5  # CDS_REQUEST_DEADLINE_S: whole FHIR fetch for one hook call
    fhir_connect_timeout_s: float = 1.0  # CDS_FHIR_CONNECT_TIMEOUT_S
    fhir_read_timeout_s: float = 2.0  # CDS_FHIR_READ_TIMEOUT_S
    cors_origins: str = "*"  # CDS_CORS_ORIGINS: "*" or a comma-separated list of origins
    app_url: str | None = None  # CDS_APP_URL: SMART timeline app launch URL (card links)
    auth: str = "off"  # CDS_AUTH: "off" (dev only) or "jwt"
    log_level: str = "INFO"  # CDS_LOG_LEVEL
    # -- trust and resilience (issue 5; README "Security model") --
    trusted_clients: str | None = None  # CDS_TRUSTED_CLIENTS: path to the trusted-clients JSON
    database_url: str | None = None  # CDS_DATABASE_URL: default SQLite in the instance folder
    jwt_clock_skew_s: float = 30.0  # CDS_JWT_CLOCK_SKEW_S: leeway on exp/iat
    fhir_max_retries: int = 2  # CDS_FHIR_MAX_RETRIES: GET retries on 5xx/connection errors
    fhir_max_pages: int = 100  # CDS_FHIR_MAX_PAGES: pages followed per search
    fhir_max_entries: int = 50_000  # CDS_FHIR_MAX_ENTRIES: entries accepted per search
    fhir_max_bytes: int = 32 * 1024 * 1024  # CDS_FHIR_MAX_BYTES: bytes read per response
    fhir_max_call_bytes: int = 40 * 1024 * 1024  # CDS_FHIR_MAX_CALL_BYTES: per hook call, all reads
    # -- cards (issue 11; README "Cards") --
    stable_disease_card: bool = False  # CDS_STABLE_DISEASE_CARD: an info card for stable disease
    fhir_page_workers: int = 3  # CDS_FHIR_PAGE_WORKERS: pages of one search fetched at once (1: one by one)

    def __post_init__(self) -> None:
        if self.auth not in AUTH_MODES:
            raise ValueError(f"CDS_AUTH must be one of {AUTH_MODES}, got {self.auth!r}")
        if not 0 < self.port < 65536:
            raise ValueError(f"CDS_PORT out of range: {self.port}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Config":
        env = os.environ if env is None else env
        d = cls()
        return cls(
            host=_str(env, "CDS_HOST", d.host),
            port=_int(env, "CDS_PORT", d.port),
            public_base_url=(_str(env, "CDS_PUBLIC_BASE_URL", None) or "").rstrip("/") or None,
            request_deadline_s=_float(env, "CDS_REQUEST_DEADLINE_S", d.request_deadline_s),
            fhir_connect_timeout_s=_float(env, "CDS_FHIR_CONNECT_TIMEOUT_S", d.fhir_connect_timeout_s),
            fhir_read_timeout_s=_float(env, "CDS_FHIR_READ_TIMEOUT_S", d.fhir_read_timeout_s),
            cors_origins=_str(env, "CDS_CORS_ORIGINS", d.cors_origins),
            app_url=_str(env, "CDS_APP_URL", None),
            auth=(_str(env, "CDS_AUTH", d.auth) or d.auth).lower(),
            log_level=(_str(env, "CDS_LOG_LEVEL", d.log_level) or d.log_level).upper(),
            trusted_clients=_str(env, "CDS_TRUSTED_CLIENTS", None),
            database_url=_str(env, "CDS_DATABASE_URL", None),
            jwt_clock_skew_s=_float(env, "CDS_JWT_CLOCK_SKEW_S", d.jwt_clock_skew_s),
            fhir_max_retries=_int(env, "CDS_FHIR_MAX_RETRIES", d.fhir_max_retries),
            fhir_max_pages=_int(env, "CDS_FHIR_MAX_PAGES", d.fhir_max_pages),
            fhir_max_entries=_int(env, "CDS_FHIR_MAX_ENTRIES", d.fhir_max_entries),
            fhir_max_bytes=_int(env, "CDS_FHIR_MAX_BYTES", d.fhir_max_bytes),
            fhir_max_call_bytes=_int(env, "CDS_FHIR_MAX_CALL_BYTES", d.fhir_max_call_bytes),
            stable_disease_card=_bool(env, "CDS_STABLE_DISEASE_CARD", d.stable_disease_card),
            fhir_page_workers=max(1, _int(env, "CDS_FHIR_PAGE_WORKERS", d.fhir_page_workers)),
        )

    def with_overrides(self, **changes) -> "Config":
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown config fields: {sorted(unknown)}")
        return replace(self, **changes)

    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]
