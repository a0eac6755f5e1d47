"""The Flask application factory: thin HTTP front over the core services."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from flask_socketio import SocketIO
from werkzeug.exceptions import HTTPException

from core.bootstrap import Container, bootstrap
from core.kernel.errors import DomainError, GateRefused
from core.kernel.settings import Settings

socketio = SocketIO()
log = logging.getLogger("quancheng.api")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``test_config`` may carry a ready ``CONTAINER`` or ``SETTINGS``."""
    app = Flask(__name__, instance_relative_config=False)
    test_config = test_config or {}
    container: Container = test_config.get("CONTAINER") or bootstrap(
        test_config.get("SETTINGS") or Settings.from_env())
    settings = container.settings
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        JSON_AS_ASCII=False,
    )
    app.config.update({k: v for k, v in test_config.items() if k.isupper()})
    app.extensions["quancheng"] = container
    app.json.ensure_ascii = False

    from . import (
        archive_routes,
        calendar_routes,
        cases,
        catalogue,
        deadline_routes,
        evidence,
        health,
        ledger_routes,
        live,
        openapi,
        people,
        telegram_webhook,
        workflow,
    )

    for module in (health, openapi, cases, catalogue, ledger_routes, calendar_routes,
                   deadline_routes, workflow, telegram_webhook, evidence, people,
                   archive_routes):
        app.register_blueprint(module.bp)
    _register_errors(app)

    from . import pages

    pages.init_app(app)  # the HTML pages (/u, ...) and their static files

    from .cli import register_cli

    register_cli(app)
    socketio.init_app(app, message_queue=settings.redis_url or None, async_mode="threading",
                      cors_allowed_origins=[])
    if settings.redis_url and not test_config.get("CONTAINER"):
        # Queued messages (approval requests) go out at once: nudge the rq worker's sweep.
        from worker.config import WorkerConfig
        from worker.cron import sweep_nudger

        container.outbox_hooks.append(sweep_nudger(settings.redis_url, WorkerConfig.from_env()))
        # Thumbnails are rq jobs on the worker; the web process renders nothing itself.
        from worker.cron import media_enqueuer

        container.media_hooks.append(media_enqueuer(settings.redis_url, WorkerConfig.from_env()))
    live.init_app(app, socketio)  # the /live namespace and /api/v1/deliveries
    # httpx logs full request URLs, which carry the bot token: keep it quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return app


def error_body(code: str, message: str, missing: list[str] | None = None, **extra) -> dict:
    """The one error shape of CONTRACT.md."""
    err: dict[str, Any] = {"code": code, "message": message}
    if missing is not None:
        err["missing"] = missing
    err.update(extra)
    return {"error": err}


def _register_errors(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        missing = exc.missing if isinstance(exc, GateRefused) else exc.details.get("missing")
        extra = {k: v for k, v in exc.details.items() if k != "missing"}
        return jsonify(error_body(exc.code, exc.message, missing, **extra)), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        names = {413: "too_large", 415: "unsupported_type", 404: "not_found",
                 405: "method_not_allowed", 401: "unauthorized", 400: "bad_request"}
        code = names.get(exc.code or 400, "http_error")
        message = exc.description or exc.name
        if exc.code == 413:
            message = (f"the body is larger than the limit of "
                       f"{app.config['MAX_CONTENT_LENGTH']} bytes")
        response = jsonify(error_body(code, message))
        response.status_code = exc.code or 400
        if exc.code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")
        return jsonify(error_body("internal", "an internal error occurred; nothing was "
                                  "recorded by this request")), 500
