"""What an HTTP request may cost before it is known who sent it (issue 12, finding 1).

A small body limit for the whole app (MAX_BODY_BYTES, 1 MiB), raised only for the routes that
take files (evidence uploads and tus: MAX_UPLOAD_BYTES; signature and witness images: a few
MiB); a declared length over the route's limit is refused with 413 before authentication or
any read; a body that stops arriving is cut off after BODY_READ_TIMEOUT seconds (408); and an
answer given before the body was read closes the connection, so the server never drains an
unread body to keep the connection alive.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

# Endpoints that take files, and what they may take: None means MAX_UPLOAD_BYTES.
UPLOAD_ENDPOINTS = ("evidence.upload", "evidence.uploads.tus_patch", "uploads.tus_patch")
IMAGE_BYTES = 8 * 1024 * 1024  # signature, seal and witness images (base64 or multipart)
IMAGE_ENDPOINTS = ("workflow.add_signature", "workflow.add_record_refusal",
                   "workflow.add_refusal")


def limit_for(endpoint: str | None, settings) -> int:
    """The body limit of a route: uploads get MAX_UPLOAD_BYTES, image routes a few MiB, every
    other route MAX_BODY_BYTES."""
    if endpoint in UPLOAD_ENDPOINTS:
        return settings.max_upload_bytes
    if endpoint in IMAGE_ENDPOINTS:
        return max(IMAGE_BYTES, settings.max_body_bytes)
    return settings.max_body_bytes


class BodyTimeout:
    """WSGI middleware: the client socket gets a read timeout, so a body that stops arriving
    (a large Content-Length and one byte) frees the thread instead of holding it forever."""

    def __init__(self, app, timeout_s: float):
        self.app, self.timeout_s = app, timeout_s

    def __call__(self, environ: dict, start_response) -> Any:
        sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
        if isinstance(sock, socket.socket) and self.timeout_s > 0:
            with contextlib.suppress(OSError):  # a socket already closed
                sock.settimeout(self.timeout_s)
        return self.app(environ, start_response)


def init_app(app: Flask, settings) -> None:
    """Install the per-route limits, the read timeout and the early close."""
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.wsgi_app = BodyTimeout(app.wsgi_app, settings.body_read_timeout_s)

    @app.before_request
    def _route_limit():
        limit = limit_for(request.endpoint, settings)
        request.max_content_length = limit
        if request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge()

    @app.after_request
    def _close_unread(response):
        # An error answered before the body was read (401, 413, 404, ...): close the
        # connection rather than let the server read the rest of the body to keep it alive.
        if response.status_code >= 400 and request.content_length:
            response.headers["Connection"] = "close"
        return response

    @app.errorhandler(TimeoutError)
    def _timeout(_exc):
        from . import error_body

        response = jsonify(error_body("request_timeout",
                                      f"the body did not arrive within "
                                      f"{settings.body_read_timeout_s:g} s"))
        response.status_code = 408
        response.headers["Connection"] = "close"
        return response

