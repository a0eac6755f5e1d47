"""Delivery settings read from the environment (core/settings.py knows nothing of channels)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from core.kernel.settings import SettingsError


@dataclass(frozen=True)
class NotifyConfig:
    """Channel endpoints and the outbox retry policy; unset channels are simply not offered."""

    smtp_url: str = ""  # smtp://host:port, smtp+starttls://..., smtps://user:pass@host:465
    smtp_from: str = ""
    sms_webhook_url: str = ""
    sms_webhook_secret: str = ""
    max_attempts: int = 6
    lease_seconds: int = 120  # how long a queued or sending message may stay silent
    backoff_base_seconds: int = 30
    backoff_cap_seconds: int = 6 * 3600
    timeout_seconds: float = 10.0
    default_lang: str = "zh"

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the given number of failed attempts: base × 4^(n-1), capped."""
        seconds = self.backoff_base_seconds * 4 ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, self.backoff_cap_seconds))

    def retry_intervals(self) -> list[int]:
        """The same schedule as seconds, one entry per retry, for rq's Retry."""
        return [int(self.backoff(n).total_seconds()) for n in range(1, self.max_attempts)]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NotifyConfig:
        """Read the delivery settings from the environment (or a given mapping)."""
        env = os.environ if env is None else env

        def get(name: str, default: str = "") -> str:
            return env.get(name, "").strip() or default

        try:
            config = cls(
                smtp_url=get("SMTP_URL"),
                smtp_from=get("SMTP_FROM"),
                sms_webhook_url=get("SMS_WEBHOOK_URL"),
                sms_webhook_secret=get("SMS_WEBHOOK_SECRET"),
                max_attempts=int(get("OUTBOX_MAX_ATTEMPTS", "6")),
                lease_seconds=int(get("OUTBOX_LEASE_SECONDS", "120")),
                backoff_base_seconds=int(get("OUTBOX_BACKOFF_SECONDS", "30")),
                timeout_seconds=float(get("CHANNEL_TIMEOUT_SECONDS", "10")),
                default_lang=get("NOTIFY_LANG", "zh"),
            )
        except ValueError as exc:
            raise SettingsError(f"a numeric delivery setting is not a number: {exc}") from exc
        config.check(production=get("APP_ENV") == "production")
        return config

    def check(self, *, production: bool) -> None:
        """Refuse settings that would deliver unsigned or unsendable messages."""
        problems = []
        if self.max_attempts < 1 or self.lease_seconds < 1 or self.backoff_base_seconds < 1:
            problems.append("OUTBOX_MAX_ATTEMPTS, OUTBOX_LEASE_SECONDS and "
                            "OUTBOX_BACKOFF_SECONDS must be at least 1")
        if self.lease_seconds <= self.timeout_seconds:
            problems.append("OUTBOX_LEASE_SECONDS must exceed CHANNEL_TIMEOUT_SECONDS, or a "
                            "slow send is taken for a dead one and sent twice")
        if self.smtp_url and not self.smtp_from:
            problems.append("SMTP_URL is set but SMTP_FROM is not")
        if self.sms_webhook_url and not self.sms_webhook_secret:
            problems.append("SMS_WEBHOOK_URL is set but SMS_WEBHOOK_SECRET is not (requests "
                            "must be signed)")
        if production and self.sms_webhook_secret and len(self.sms_webhook_secret) < 32:
            problems.append("SMS_WEBHOOK_SECRET is shorter than 32 characters")
        if self.default_lang not in ("zh", "en"):
            problems.append("NOTIFY_LANG must be zh or en")
        if problems:
            raise SettingsError("delivery settings refused: " + "; ".join(problems) + ".")
