"""Email over SMTP: smtp://host:port, smtp+starttls://host:587 or smtps://host:465,
optionally with user:password@ (URL-encoded)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from urllib.parse import unquote, urlsplit

from core.notices.models import OutboxMessage

from .base import DeliveryError, text_of

_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class EmailChannel:
    """One SMTP session per message: reminders are few, and a session cannot go stale."""

    name = "email"

    def __init__(self, url: str, sender: str, *, timeout: float = 10.0, default_lang: str = "zh"):
        parts = urlsplit(url)
        if parts.scheme not in _SCHEMES or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://host:port, smtp+starttls://host:port "
                             "or smtps://host:port")
        self.scheme = parts.scheme
        self.host, self.port = parts.hostname, parts.port or _SCHEMES[parts.scheme]
        self._user = unquote(parts.username or "")
        self._password = unquote(parts.password or "")
        self.sender, self.timeout, self.default_lang = sender, timeout, default_lang

    def __repr__(self) -> str:
        return f"EmailChannel({self.scheme}://{self.host}:{self.port})"

    def build(self, message: OutboxMessage) -> EmailMessage:
        """The email for an outbox message; the idempotency key lets a mailbox drop twins."""
        subject, body = text_of(message, self.default_lang)
        addresses = getaddresses([message.recipient])
        if len(addresses) != 1 or not addresses[0][1] or addresses[0][1] != message.recipient:
            # One recipient, exactly as stored: never a list (issue 12, finding 8).
            raise DeliveryError("the recipient is not exactly one e-mail address",
                                retryable=False)
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = subject or "全程 Quancheng"
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = make_msgid(idstring=f"qc{message.id}", domain="quancheng.local")
        email["X-Quancheng-Idempotency-Key"] = message.idempotency_key
        email.set_content(body, charset="utf-8")
        return email

    def send(self, message: OutboxMessage) -> None:
        """Deliver to the SMTP server; 4xx answers and network errors are retryable, 5xx not."""
        email = self.build(message)
        try:
            if self.scheme == "smtps":
                server = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                          context=ssl.create_default_context())
            else:
                server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with server:
                if self.scheme == "smtp+starttls":
                    server.starttls(context=ssl.create_default_context())
                if self._user:
                    server.login(self._user, self._password)
                server.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(f"SMTP refused the recipient ({codes})",
                                retryable=all(400 <= c < 500 for c in codes)) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP answered {exc.smtp_code}: {_text(exc.smtp_error)}",
                                retryable=400 <= exc.smtp_code < 500) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP server unreachable: {type(exc).__name__}",
                                retryable=True) from None


def _text(error: bytes | str) -> str:
    return (error.decode(errors="replace") if isinstance(error, bytes) else error)[:200]
