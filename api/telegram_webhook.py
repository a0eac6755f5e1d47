"""POST /telegram/webhook: Telegram delivers updates here in production (CONTRACT.md)."""

from __future__ import annotations

import hmac
import threading

from flask import Blueprint, current_app, jsonify, request

from .auth import container

bp = Blueprint("telegram_webhook", __name__)
HEADER = "X-Telegram-Bot-Api-Secret-Token"
RUNNER = "telegram_bot_runner"
_start_lock = threading.Lock()


def _error(status: int, code: str, message: str, zh: str):
    from . import error_body

    return jsonify(error_body(code, message, zh=zh)), status


def _runner():
    """The bot runner of this app: injected (tests) or started on the first update."""
    runner = current_app.extensions.get(RUNNER)
    if runner is None:
        with _start_lock:
            runner = current_app.extensions.get(RUNNER)
            if runner is None:
                from bot.runner import runner_for

                runner = current_app.extensions[RUNNER] = runner_for(container())
    return runner


@bp.post("/telegram/webhook")
def telegram_webhook():
    """Check the secret header in constant time, then hand the update to the bot."""
    settings = container().settings
    expected = settings.telegram_webhook_secret.encode()
    given = request.headers.get(HEADER, "").encode()
    # No configured secret means no update can be trusted: refuse them all.
    if not expected or not hmac.compare_digest(given, expected):
        return _error(403, "forbidden", f"missing or wrong {HEADER}", f"缺少或错误的 {HEADER}")
    if not settings.telegram_token:
        return _error(503, "bot_disabled", "TELEGRAM_TOKEN is unset; the bot is off",
                      "未设置 TELEGRAM_TOKEN，机器人未启用")
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return _error(400, "bad_request", "the body must be a Telegram Update object",
                      "请求体须为 Telegram Update 对象")
    _runner().feed(data)
    return jsonify({"ok": True}), 200
