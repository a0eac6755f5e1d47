"""The HTTP edge: what a request may cost before it is known who sent it (issue 12, finding
1), and who sent it when a reverse proxy stands in front (finding 10).

A small body limit for the whole app (MAX_BODY_BYTES, 1 MiB), raised only for the routes that
take files (evidence uploads and tus: MAX_UPLOAD_BYTES; signature and witness images: a few
MiB); a declared length over the route's limit is refused with 413 before authentication or
any read; a body that stops arriving is cut off after BODY_READ_TIMEOUT seconds (408); and an
answer given before the body was read closes the connection, so the server never drains an
unread body to keep the connection alive. Behind PROXY_HOPS trusted proxies, the client's
address and scheme come from X-Forwarded-For/-Proto (werkzeug's ProxyFix), so the access log
(A33.1) names the caller, not the proxy.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
from typing import Any

from flask import Flask, request
from flask_limiter import Limiter
from werkzeug.exceptions import RequestEntityTooLarge, RequestTimeout
from werkzeug.middleware.proxy_fix import ProxyFix

from core.kernel.errors import RateLimited
from core.people.access import log_access
from core.platform import ratelimit

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


class _Input:
    """wsgi.input that counts what was read and turns a stalled read into 408 (werkzeug would
    call any OSError a client disconnect)."""

    def __init__(self, stream):
        self.stream, self.read_bytes = stream, 0

    def _count(self, data):
        self.read_bytes += len(data or b"")
        return data

    def read(self, *args):
        try:
            return self._count(self.stream.read(*args))
        except TimeoutError:
            raise RequestTimeout("the body stopped arriving") from None

    def readline(self, *args):
        try:
            return self._count(self.stream.readline(*args))
        except TimeoutError:
            raise RequestTimeout("the body stopped arriving") from None

    def __iter__(self):
        return iter(self.readline, b"")


class BodyGuard:
    """WSGI middleware: the client socket gets a read timeout, so a body that stops arriving (a
    large Content-Length and one byte) frees the thread instead of holding it; an error
    answered before the body was read shuts the socket's read side, so the server does not
    read the rest of the body to keep the connection alive (gunicorn ignores an application's
    Connection: close)."""

    def __init__(self, app, timeout_s: float):
        self.app, self.timeout_s = app, timeout_s

    def __call__(self, environ: dict, start_response) -> Any:
        sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
        # Socket.IO's long-lived connections keep the server's own timing (pings).
        if not isinstance(sock, socket.socket) or environ.get("PATH_INFO", "").startswith(
                "/socket.io"):
            return self.app(environ, start_response)
        if self.timeout_s > 0:
            with contextlib.suppress(OSError):  # a socket already closed
                sock.settimeout(self.timeout_s)
        declared = _declared(environ)
        counted = environ["wsgi.input"] = _Input(environ["wsgi.input"])

        def starting(status: str, headers, exc_info=None):
            if declared and status[:1] in "45" and counted.read_bytes < declared:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RD)
                headers = [(k, v) for k, v in headers if k.lower() != "connection"]
                headers.append(("Connection", "close"))
            return start_response(status, headers, exc_info) if exc_info \
                else start_response(status, headers)

        return self.app(environ, starting)


def _declared(environ: dict) -> int:
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


# Public or guessable entry points and their limits per client address (finding 6).
# Complaint status lookups are limited in core (core.platform.ratelimit.LIMITS), for
# the JSON route and the complainant's page alike.
ROUTE_RATES = {
    "evidence.link_page": "60/minute",
    "upload_link.link_status": "60/minute",
    "evidence.uploads.tus_create": "60/minute",
}
# Secrets that may appear in a request line, kept out of every server log (finding 8).
_SECRET_IN_URL = re.compile(r"((?:[?&](?:token|code)=)|(?:/upload-links/))[^&\s\"]+")


def redact(text: str) -> str:
    """A request line or path with link tokens and complaint codes blanked."""
    return _SECRET_IN_URL.sub(r"\1***", text)


class RedactSecrets(logging.Filter):
    """Blank link tokens and complaint codes in werkzeug's and gunicorn's request logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):  # gunicorn's access log atoms
            record.args = {k: redact(v) if isinstance(v, str) else v
                           for k, v in record.args.items()}
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def _install_redaction() -> None:
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())


def _client() -> str:
    return request.remote_addr or "?"


def init_rate_limits(app: Flask, settings) -> None:
    """Once every route is registered: Flask-Limiter on the public routes; failed bearer
    tokens counted per address (429 once over), each failure in the access log (A33.1)."""
    limiter = Limiter(key_func=_client, app=app, storage_uri=settings.redis_url or "memory://",
                      headers_enabled=True, strategy="moving-window")
    for endpoint, rate in ROUTE_RATES.items():
        view = app.view_functions.get(endpoint)
        if view is not None:
            app.view_functions[endpoint] = limiter.limit(rate)(view)
    app.extensions["limiter"] = limiter

    @app.before_request
    def _bad_token_lockout():
        if request.headers.get("Authorization") and not ratelimit.allowed(
                settings.redis_url, "bad_token", _client()):
            raise RateLimited("too many failed tokens from this address; wait a "
                                        "minute", zh="此地址令牌错误次数过多，请稍后再试。")

    @app.after_request
    def _count_bad_token(response):
        if response.status_code == 401 and request.headers.get("Authorization"):
            ratelimit.count(settings.redis_url, "bad_token", _client())
            with app.extensions["quancheng"].uow() as uow:
                log_access(uow.session, None, "bad_token", "http",
                           redact(request.path)[:64], channel="api", remote=_client())
        return response


def init_app(app: Flask, settings) -> None:
    """Install the per-route limits, the read timeout and the early close."""
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.wsgi_app = BodyGuard(app.wsgi_app, settings.body_read_timeout_s)
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops,
                                x_proto=settings.proxy_hops)

    _install_redaction()

    @app.before_request
    def _route_limit():
        limit = limit_for(request.endpoint, settings)
        request.max_content_length = limit
        if request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge()
