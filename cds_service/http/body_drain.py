"""Read what is left of a request body before the response goes out.

A request refused before its body was read (a bad `asOf`, a bare 401, an unknown service)
leaves the body in the socket. Gunicorn then answers "keep-alive" but drops the connection,
so the client's next request on it fails (measured with benchmarks/fuzz_gunicorn.py: about 7%
of requests after such a refusal got no answer). Draining the body, within the request size
limit, keeps the connection usable. Larger bodies were refused with a 413 by Werkzeug without
being read; those connections are left to the server to close.
"""
from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

CHUNK = 64 * 1024


def install_body_drain(app: Flask) -> None:
    @app.after_request
    def _drain_unread_body(response):
        if not request.content_length:
            return response
        try:
            stream = request.stream  # a LimitedStream: ends at Content-Length
            while stream.read(CHUNK):
                pass
        except (RequestEntityTooLarge, ClientDisconnected, OSError, ValueError):
            pass  # the server closes this connection
        return response
