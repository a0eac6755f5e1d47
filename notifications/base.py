"""What every channel promises: send one outbox message or say why not, with no secret in it."""

from __future__ import annotations

import logging
import re
from typing import Protocol

from core.notices.models import OutboxMessage

from .templates import render

# A Bot API token as it appears in URLs: bot<digits>:<secret>.
_BOT_TOKEN = re.compile(r"bot\d+:[A-Za-z0-9_-]+")


class DeliveryError(Exception):
    """A channel did not accept a message; ``retryable`` says whether trying later may help."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after


class Channel(Protocol):
    """A way to reach people: returns when the far end accepted the message."""

    name: str

    def send(self, message: OutboxMessage) -> None:
        """Hand the message over, or raise DeliveryError."""


def redact(text: str, *secrets: str) -> str:
    """The text with bot tokens and the given secrets replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _BOT_TOKEN.sub("bot***", text)


class RedactingFilter(logging.Filter):
    """Rewrites log records so no bot token reaches a handler (httpx logs full URLs)."""

    def __init__(self, *secrets: str):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, *self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_redaction(*secrets: str) -> None:
    """Put the redacting filter on the HTTP client loggers, once per secret set."""
    for name in ("httpx", "httpcore", "httpcore.connection", "httpcore.http11",
                 "httpcore.http2", "httpcore.proxy"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) and f.secrets == secrets
                   for f in logger.filters):
            logger.addFilter(RedactingFilter(*secrets))


def text_of(message: OutboxMessage, default_lang: str = "zh") -> tuple[str, str]:
    """Subject and body: as stored, or rendered from the payload's template when body is empty."""
    payload = message.payload or {}
    if not message.body and payload.get("template"):
        return render(payload["template"], payload.get("lang", default_lang),
                      **payload.get("context", {}))
    return message.subject or "", message.body or ""
