"""Generated hostile requests over every endpoint never get a 5xx (issue 13).

Each example is one request from benchmarks/hostile_requests.py (a real request for the
endpoint with hostile values spliced in, damaged bytes, hostile query strings and JWTs), its
seed drawn by hypothesis. 1,000 examples against CDS_AUTH=off on SQLite (every body reaches
the parser, the schema, the mappings and the model), 150 against CDS_AUTH=jwt on SQLite and
150 on PostgreSQL (hostile tokens against the verifier and the replay store, feedback stored
in the real database). The same generator drives tens of thousands of requests against
gunicorn in benchmarks/fuzz_gunicorn.py.
"""
from __future__ import annotations

import json
import random
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.hostile_requests import generate
from cds_service import create_app
from cds_service.config import Config
from tests.feedback.postgres_url import postgres_url_or_skip
from tests.security.jwt_clients import PUBLIC_BASE, SigningClient, clients_document

EXAMPLES = 1000
JWT_EXAMPLES = 150
# 1,000 requests take about 10 s on a quiet 2-core machine; a busy one can be ten times slower
# than that, so the module gets a longer time limit than the suite's 120 s per test.
pytestmark = pytest.mark.timeout(600)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def make_app(auth: str, database_url: str):
    extra = {}
    if auth == "jwt":
        path = tempfile.mkdtemp(prefix="myeloma-cds-fuzz-") + "/clients.json"
        signers = [SigningClient("ES384", iss=f"https://fuzz-{i}.example.test") for i in range(3)]
        with open(path, "w") as fh:
            json.dump(clients_document(*signers), fh)
        extra = {"trusted_clients": path, "public_base_url": PUBLIC_BASE}
    app = create_app(Config(auth=auth, database_url=database_url, **extra))
    app.config.update(TESTING=True)
    return app.test_client()


OFF = make_app("off", f"sqlite:///{tempfile.mkdtemp(prefix='myeloma-cds-fuzz-')}/off.sqlite")
JWT_SQLITE = make_app("jwt", f"sqlite:///{tempfile.mkdtemp(prefix='myeloma-cds-fuzz-')}/jwt.sqlite")


def send(client, seed: int, *, with_auth_headers: bool) -> None:
    req = generate(random.Random(seed), with_auth_headers=with_auth_headers)
    resp = client.open(req.path, method=req.method, data=req.body, headers=req.headers)
    assert resp.status_code < 500, (seed, req.method, req.path, resp.status_code, resp.get_data()[:300])
    if resp.status_code == 401:
        assert resp.get_data() == b"", "a 401 is bare"
    elif resp.status_code >= 400 and req.method == "POST" and resp.status_code != 405:
        assert resp.get_json(silent=True, force=True)["resourceType"] == "OperationOutcome"


@FUZZ
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_generated_hostile_requests_on_every_endpoint_never_get_a_5xx(seed):
    send(OFF, seed, with_auth_headers=False)


@settings(FUZZ, max_examples=JWT_EXAMPLES)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_generated_hostile_tokens_get_a_bare_401_on_sqlite(seed):
    send(JWT_SQLITE, seed, with_auth_headers=True)


@pytest.fixture(scope="module")
def jwt_postgres():
    return make_app("jwt", postgres_url_or_skip())


@settings(FUZZ, max_examples=JWT_EXAMPLES)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_generated_hostile_tokens_get_a_bare_401_on_postgres(jwt_postgres, seed):
    send(jwt_postgres, seed, with_auth_headers=True)


def test_the_generator_reaches_every_endpoint_and_every_class():
    rng = random.Random(13)
    requests = [generate(rng) for _ in range(2000)]
    paths = {r.path.split("?")[0] for r in requests}
    assert {"/cds-services/myeloma-relapse", "/cds-services/myeloma-order-sign", "/cds-services/myeloma-order-select",
            "/cds-services/myeloma-relapse/feedback", "/assessment", "/app/api/timeline", "/cds-services",
            "/healthz", "/app/launch", "/app/"} <= paths
    bodies = b"\n".join(r.body for r in requests)
    for marker in (b"[" * 100, b"9" * 4301, b"NaN", b"\\ud800", b"\\u0000", b"9999-12-31", b"1e309"):
        assert marker in bodies, marker
