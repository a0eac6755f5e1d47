"""The bot token never reaches a log line: httpx is turned down and every record is redacted
(including tracebacks); the error handler answers politely."""

from __future__ import annotations

import logging
import re

from bot import binding
from bot.logs import install_log_redaction, redact
from tests.bot.support import TOKEN, play

LEAK = re.compile(r"bot\d+:[A-Za-z0-9_-]{30,}")


def test_redact_url_and_bare_token():
    """Both `bot<token>` in URLs and a bare token are replaced."""
    text = f"POST https://api.telegram.org/bot{TOKEN}/sendMessage and {TOKEN}"
    clean = redact(text)
    assert TOKEN not in clean and TOKEN.split(":")[1] not in clean
    assert "bot<redacted>/sendMessage" in clean


def test_every_logger_is_redacted_even_tracebacks(caplog):
    """Records from any logger, their arguments and exception text carry no token."""
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    assert logging.getLogger("httpx").level == logging.WARNING
    logging.getLogger("some.library").info("calling %s", f"https://x/bot{TOKEN}/getMe")
    try:
        raise RuntimeError(f"connect failed for https://x/bot{TOKEN}/getFile")
    except RuntimeError:
        logging.getLogger("telegram.ext").exception("network error")
    logging.getLogger("httpx").warning("HTTP Request: POST https://x/bot%s/x", TOKEN)
    assert len(caplog.records) == 3
    assert not LEAK.search(caplog.text)
    assert "bot<redacted>" in caplog.text and "RuntimeError" in caplog.text


def test_ptb_debug_lines_and_a_crashing_handler_leak_nothing(container, people, fake,
                                                              caplog, monkeypatch):
    """PTB logs its API URL at DEBUG; a handler that crashes with the URL in its message is
    logged by the error handler, redacted, and the user gets a polite answer."""
    caplog.set_level(logging.DEBUG)

    async def boom(update, context):
        raise RuntimeError(f"failed calling https://api.telegram.org/bot{TOKEN}/sendMessage")

    monkeypatch.setattr(binding, "help_", boom)
    user = fake.user(9001)
    replies = play(container, fake, lambda h: h.say(user, "/help"))
    assert replies == ["抱歉，处理这条消息时出错了，这一步没有记录任何内容。"
                       "请再试一次，或用 /checklist 查看。"]
    messages = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    assert any("Set Bot API URL" in m for m in messages)
    assert any("error while handling an update: RuntimeError" in m for m in messages)
    assert any("bot<redacted>/sendMessage" in m for m in messages)
    assert not any(LEAK.search(m) for m in messages)
