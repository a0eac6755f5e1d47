"""The Flask application factory: thin HTTP front over the core services."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, has_request_context, jsonify, request
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
        MAX_CONTENT_LENGTH=settings.max_body_bytes,  # raised per route in api.edge
        JSON_AS_ASCII=False,
    )
    app.config.update({k: v for k, v in test_config.items() if k.isupper()})
    app.extensions["quancheng"] = container
    from . import edge

    edge.init_app(app, settings)
    app.json.ensure_ascii = False

    from . import (
        archive_routes,
        calendar_routes,
        cases,
        catalogue,
        complaint_intake,
        deadline_routes,
        evidence,
        health,
        ledger_routes,
        live,
        officer_admin,
        openapi,
        people,
        telegram_webhook,
        workflow,
    )

    for module in (health, openapi, cases, catalogue, ledger_routes, calendar_routes,
                   deadline_routes, workflow, telegram_webhook, evidence, people,
                   officer_admin, archive_routes, complaint_intake):
        app.register_blueprint(module.bp)
    _register_errors(app)
    from .auth import refuse_unknown_query

    app.before_request(refuse_unknown_query)

    from . import pages

    pages.init_app(app)  # the HTML pages (/u, ...) and their static files

    from .cli import register_cli

    register_cli(app)
    # Browsers may connect from this server's own origin (and PUBLIC_URL's), no other: the
    # Origin check stays on (finding 10); clients without an Origin header still need a token.
    socketio.init_app(app, message_queue=settings.redis_url or None, async_mode="threading",
                      cors_allowed_origins=[settings.public_url] if settings.public_url
                      else None)
    if not test_config.get("CONTAINER"):
        # With REDIS_URL, queued messages go out at once (the rq worker's sweep is nudged), and
        # thumbnails and 送达回证 are rq jobs on the worker: the web process renders nothing
        # itself. The bot's polling process installs the same hooks (bot.__main__).
        from core.queues import install_queue_hooks

        install_queue_hooks(container)
    live.init_app(app, socketio)  # the /live namespace and /api/v1/deliveries
    edge.init_rate_limits(app, settings)
    # httpx logs full request URLs, which carry the bot token: keep it quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return app


HTTP_ZH = {400: "请求格式有误", 401: "未登录或令牌无效：请发送 Authorization: Bearer <令牌>",
           404: "未找到，或您无权查看", 405: "此地址不支持该请求方法",
           408: "请求体发送超时，未保存", 410: "已失效", 413: "请求体超过大小上限，未保存",
           415: "不接受此类型的内容", 429: "尝试过于频繁，请稍后再试"}


def lang() -> str:
    """The language of the answer: English when Accept-Language prefers it, else Chinese."""
    if not has_request_context():
        return "zh"
    return request.accept_languages.best_match(["zh", "en"], default="zh") or "zh"


def error_body(code: str, message: str, missing: list[str] | None = None, *,
               zh: str | None = None, **extra) -> dict:
    """The one error shape of CONTRACT.md: the message in the caller's language, both
    languages alongside, the missing requirement IDs and what else the refusal names."""
    zh = zh or message
    err: dict[str, Any] = {"code": code, "message": message if lang() == "en" else zh,
                           "message_zh": zh, "message_en": message}
    if missing is not None:
        err["missing"] = missing
    err.update(extra)
    return {"error": err}


def _register_errors(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        missing = exc.missing if isinstance(exc, GateRefused) else exc.details.get("missing")
        extra = {k: v for k, v in exc.details.items() if k != "missing"}
        return jsonify(error_body(exc.code, exc.message, missing, zh=exc.chinese(),
                                  **extra)), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        names = {413: "too_large", 415: "unsupported_type", 404: "not_found",
                 405: "method_not_allowed", 401: "unauthorized", 400: "bad_request",
                 408: "request_timeout", 429: "rate_limited"}
        status = exc.code or 400
        code = names.get(status, "http_error")
        message = exc.description or exc.name
        zh = HTTP_ZH.get(status, "请求未被接受")
        if status == 413:
            limit = request.max_content_length if request else None
            message = f"the body is larger than the limit of {limit} bytes"
            zh = f"请求体超过 {limit} 字节的上限，未保存"
        elif status == 401 and exc.description and "revoked" in exc.description:
            zh = "令牌无效或已被撤销"
        response = jsonify(error_body(code, message, zh=zh))
        response.status_code = status
        for name, value in exc.get_headers():
            if name.lower() == "allow":  # a 405 says which methods the path takes
                response.headers["Allow"] = value
        if status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")
        return jsonify(error_body("internal", "an internal error occurred; nothing was "
                                  "recorded by this request",
                                  zh="服务器内部错误，本次请求未记录任何内容")), 500
