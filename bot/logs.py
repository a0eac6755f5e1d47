"""Keep the bot token out of every log line: quiet httpx and redact what slips through."""

from __future__ import annotations

import logging
import re

# `bot<id>:<secret>` is how the token appears in Bot API URLs; a bare `<id>:<secret>` is how
# it appears in a repr or an exception message.
TOKEN_IN_URL = re.compile(r"bot\d+:[A-Za-z0-9_-]+")
BARE_TOKEN = re.compile(r"\b\d{6,}:[A-Za-z0-9_-]{30,}")
REDACTED = "bot<redacted>"

_installed = False


def redact(text: str) -> str:
    """The text with every bot token replaced by a marker."""
    if ":" not in text:
        return text
    return BARE_TOKEN.sub("<redacted>", TOKEN_IN_URL.sub(REDACTED, text))


class TokenRedactingFilter(logging.Filter):
    """Rewrite a log record so neither its message nor its traceback carries a bot token."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place; never drop the record."""
        scrub(record)
        return True


def scrub(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record's message, arguments and exception text."""
    if getattr(record, "_qc_scrubbed", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep the raw parts, redacted
        message = f"{record.msg} {record.args!r}"
    clean = redact(message)
    if clean != message or record.args:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record._qc_scrubbed = True
    return record


def install_log_redaction() -> None:
    """Turn httpx down and redact every record the process creates (idempotent).

    A filter on a logger only sees records logged to that very logger, and handlers added
    later (a test's capture, a hosting platform's) would miss a handler filter; wrapping the
    record factory reaches every record, whichever logger and handler it goes to.
    """
    global _installed
    # httpx logs each request URL at INFO, and that URL carries the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        return scrub(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    redacting = TokenRedactingFilter()
    for name in ("", "telegram", "httpx", "httpcore", "bot"):
        logger = logging.getLogger(name)
        logger.addFilter(redacting)
        for handler in logger.handlers:
            handler.addFilter(redacting)
    _installed = True
