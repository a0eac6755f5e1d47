"""HMAC-signed HTTP webhook for an SMS gateway.

The gateway checks ``X-Quancheng-Signature: sha256=<hex>``, where the hex is
HMAC-SHA256(secret, f"{timestamp}.".encode() + body) and ``timestamp`` is the
``X-Quancheng-Timestamp`` header (Unix seconds); it should refuse stale timestamps (replays)
and may drop a second request with the same ``Idempotency-Key``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from core.notices.models import OutboxMessage

from .base import DeliveryError, redact, text_of


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for a body sent at a timestamp."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *,
           tolerance: int = 300, now: float | None = None) -> bool:
    """True when the signature matches and the timestamp is within the tolerance."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookChannel:
    """POST the message as JSON to the SMS gateway; recipient is the phone number."""

    name = "webhook"

    def __init__(self, url: str, secret: str, *, timeout: float = 10.0,
                 default_lang: str = "zh", client: httpx.Client | None = None):
        if not url or not secret:
            raise ValueError("WebhookChannel needs a URL and a secret")
        self._url, self._secret = url, secret
        self._client = client or httpx.Client(timeout=timeout)
        self.default_lang = default_lang

    def __repr__(self) -> str:
        return "WebhookChannel(url=***, secret=***)"

    def send(self, message: OutboxMessage) -> None:
        """Sign and post; 2xx accepts, 408/429/5xx and network errors are retryable."""
        subject, body_text = text_of(message, self.default_lang)
        body = json.dumps({
            "to": message.recipient, "subject": subject, "text": body_text,
            "idempotency_key": message.idempotency_key, "case_id": message.case_id,
        }, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "X-Quancheng-Timestamp": timestamp,
                   "X-Quancheng-Signature": sign(self._secret, timestamp, body),
                   "Idempotency-Key": message.idempotency_key}
        try:
            response = self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            # The URL may carry the gateway's credentials: keep it out of the error.
            raise DeliveryError(f"SMS gateway unreachable: {type(exc).__name__}: "
                                f"{redact(str(exc), self._url, self._secret)}",
                                retryable=True) from None
        if 200 <= response.status_code < 300:
            return
        status = response.status_code
        raise DeliveryError(f"SMS gateway answered {status}: "
                            f"{redact(response.text[:200], self._url, self._secret)}",
                            retryable=status in (408, 429) or status >= 500)
