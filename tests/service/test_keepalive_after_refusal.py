"""A request refused before its body was read does not break the connection (issue 13).

Under gunicorn an unread body made the next request on the same keep-alive connection fail
with no answer at all (cds_service/http/body_drain.py).
"""
from __future__ import annotations

import http.client
import json

from benchmarks.run import production_gunicorn_args
from benchmarks.servers import Gunicorn


def test_next_request_on_the_connection_is_answered_after_an_early_refusal(tmp_path):
    env = {"CDS_AUTH": "off", "CDS_DATABASE_URL": f"sqlite:///{tmp_path}/k.sqlite", "CDS_LOG_LEVEL": "WARNING"}
    body = json.dumps({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Basic", "id": "x" * 64}}] * 2000})
    with Gunicorn("cds_service.wsgi:app", extra_args=production_gunicorn_args(), env=env, log_dir=tmp_path) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        statuses = []
        for path in ("/assessment?asOf=9999-12-31", "/cds-services/nope", "/healthz"):
            conn.request("POST" if path != "/healthz" else "GET", path, body=body if path != "/healthz" else None,
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            statuses.append(resp.status)
        conn.close()
    assert statuses == [400, 404, 200]
