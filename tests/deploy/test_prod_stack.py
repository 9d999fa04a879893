"""The production stack on loopback (scripts/prod-stack): nginx in front of two gunicorn
replicas sharing one PostgreSQL database, with CDS_AUTH=jwt.

- slow clients (one header line per second on 8 connections) do not make /healthz wait;
- a JWT accepted by one replica is refused by the other (one replay store);
- the same feedback posted to both replicas is stored once;
- the proxy spreads calls over both replicas and keeps answering when one is stopped;
- SIGTERM stops everything the script started.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, func, select, text

from cds_service.db import feedback as feedback_table
from cds_service.db import sqlalchemy_url
from tests.deploy.prod_stack import get, start_prod_stack, stop_prod_stack, wait_for_exit
from tests.feedback.postgres_url import postgres_url_or_skip
from tests.security.jwt_clients import SigningClient

pytestmark = [pytest.mark.deploy, pytest.mark.postgres]

SERVICE = "myeloma-relapse"
SLOW_CLIENTS = 8
HEALTH_LIMIT_S = 2.0


@pytest.fixture(scope="module")
def database_url():
    """A database of its own on the PostgreSQL test server, dropped at the end."""
    server_url = postgres_url_or_skip()
    name = f"prodstack_{uuid.uuid4().hex[:12]}"
    admin = create_engine(sqlalchemy_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server_url.rsplit("/", 1)[0] + "/" + name
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def ehr() -> SigningClient:
    return SigningClient("ES384", iss="https://ehr.prod-stack.test")


@pytest.fixture(scope="module")
def stack(tmp_path_factory, database_url, ehr):
    run_dir = tmp_path_factory.mktemp("prod-stack")
    clients = run_dir / "trusted-clients.json"
    clients.write_text(json.dumps({"clients": [{
        "iss": ehr.iss, "jwks": {"keys": [ehr.public_jwk]},
        "fhir_servers": ["https://fhir.prod-stack.test/r4"]}]}))
    # Every replica checks `aud` against the one public base URL, as behind a real load
    # balancer; tokens minted for it are good on the proxy and on each replica alike.
    env = {"CDS_AUTH": "jwt", "CDS_TRUSTED_CLIENTS": str(clients),
           "CDS_DATABASE_URL": database_url, "CDS_LOG_LEVEL": "WARNING",
           "CDS_PUBLIC_BASE_URL": "https://cds.prod-stack.test"}
    stack = start_prod_stack(run_dir, replicas=2, env=env)
    yield stack
    assert stop_prod_stack(stack) == 0, stack.log_tail()


def auth(ehr: SigningClient, path: str) -> dict:
    return {"Authorization": "Bearer " + ehr.token("https://cds.prod-stack.test" + path)}


def test_health_answers_within_2_s_while_8_slow_clients_are_connected(stack):
    stop = threading.Event()
    socks = []

    def drip(sock: socket.socket) -> None:
        try:
            sock.sendall(b"GET /cds-services HTTP/1.1\r\nHost: x\r\n")
            i = 0
            while not stop.wait(1.0):
                sock.sendall(f"X-Slow-{i}: {'a' * 10}\r\n".encode())
                i += 1
        except OSError:
            pass  # the proxy may cut us off: that is its job

    port = int(stack.front_url.rsplit(":", 1)[1])
    threads = []
    for _ in range(SLOW_CLIENTS):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        socks.append(sock)
        threads.append(threading.Thread(target=drip, args=(sock,), daemon=True))
    for t in threads:
        t.start()
    try:
        time.sleep(1.5)  # every slow client has sent a few lines
        timings = []
        for _ in range(4):
            started = time.monotonic()
            resp = get(stack.front_url + "/healthz", timeout=HEALTH_LIMIT_S)
            timings.append(time.monotonic() - started)
            assert resp.status_code == 200 and resp.json() == {"status": "ok"}
            time.sleep(0.5)
        assert max(timings) < HEALTH_LIMIT_S, timings
        # the slow clients are still connected (not merely refused) while health answered
        assert sum(t.is_alive() for t in threads) == SLOW_CLIENTS
    finally:
        stop.set()
        for sock in socks:
            sock.close()


def test_a_jwt_accepted_by_one_replica_is_refused_by_the_other(stack, ehr):
    headers = auth(ehr, "/cds-services")
    first, second = stack.replica_urls
    assert get(first + "/cds-services", headers=headers).status_code == 200
    replay = get(second + "/cds-services", headers=headers)
    assert replay.status_code == 401
    assert replay.content == b""
    # and a fresh token is fine on the second replica: the refusal was the replay
    assert get(second + "/cds-services", headers=auth(ehr, "/cds-services")).status_code == 200


def test_feedback_posted_to_both_replicas_is_stored_once(stack, ehr, database_url):
    path = f"/cds-services/{SERVICE}/feedback"
    card = f"card-{uuid.uuid4()}"
    body = {"feedback": [{"card": card, "outcome": "accepted",
                          "acceptedSuggestions": [{"id": "s-1"}],
                          "outcomeTimestamp": "2026-11-23T10:05:31Z"}]}
    for base in stack.replica_urls:
        resp = requests.post(base + path, json=body, headers=auth(ehr, path), timeout=10)
        assert resp.status_code == 200, resp.text
    engine = create_engine(sqlalchemy_url(database_url))
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(feedback_table)
                              .where(feedback_table.c.card_uuid == card)).scalar_one()
    engine.dispose()
    assert stored == 1


def replica_requests(stack, index: int, route: str, status: str) -> float:
    """cds_http_requests_total of one replica, summed over its gunicorn workers
    (Prometheus multiprocess mode)."""
    resp = get(stack.replica_urls[index] + "/metrics")
    assert resp.status_code == 200
    total = 0.0
    for family in text_string_to_metric_families(resp.text):
        for sample in family.samples:
            if (sample.name == "cds_http_requests_total" and sample.labels["route"] == route
                    and sample.labels["status"] == status):
                total += sample.value
    return total


def test_metrics_are_per_replica_and_not_published_through_the_proxy(stack, ehr):
    assert get(stack.front_url + "/metrics").status_code == 404
    before = replica_requests(stack, 1, "/cds-services", "200")
    for _ in range(6):  # several calls, so both workers of the replica are likely to serve one
        assert get(stack.replica_urls[1] + "/cds-services",
                   headers=auth(ehr, "/cds-services")).status_code == 200
    assert replica_requests(stack, 1, "/cds-services", "200") - before == 6
    assert replica_requests(stack, 1, "/cds-services", "401") >= 1  # the replay above


def upstreams_used(stack, since: int) -> set[str]:
    lines = stack.access_log()[since:].splitlines()
    return {line.rsplit("upstream=", 1)[1] for line in lines if "upstream=" in line}


def test_the_proxy_balances_and_survives_a_stopped_replica(stack, ehr):
    ports = {url.rsplit(":", 1)[1] for url in stack.replica_urls}
    mark = len(stack.access_log())
    for _ in range(8):
        assert get(stack.front_url + "/healthz").status_code == 200
    time.sleep(0.3)  # nginx writes the access log line after the response
    used = upstreams_used(stack, mark)
    assert {u.rsplit(":", 1)[1] for u in used} == ports, used

    pid = stack.replica_pid(0)
    os.kill(pid, 15)
    assert wait_for_exit(pid), "replica 0 did not stop"
    statuses = []
    for _ in range(10):
        statuses.append(get(stack.front_url + "/healthz").status_code)
        path = "/cds-services"
        statuses.append(get(stack.front_url + path, headers=auth(ehr, path)).status_code)
    assert statuses == [200] * 20
    assert stack.process.poll() is None, "the stack must keep running with one replica"
