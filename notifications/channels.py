"""Choose the channels the settings make available, once per process."""

from __future__ import annotations

from core.bootstrap import Container

from .base import Channel
from .config import NotifyConfig
from .live import Emit, SocketIOChannel, redis_emitter
from .mail import EmailChannel
from .telegram import TelegramChannel
from .webhook import WebhookChannel


def build_channels(container: Container, config: NotifyConfig | None = None, *,
                   emit: Emit | None = None) -> dict[str, Channel]:
    """Channels by name; Socket.IO goes through Redis when REDIS_URL is set, else ``emit``."""
    config = config or NotifyConfig.from_env()
    settings = container.settings
    opts = {"timeout": config.timeout_seconds, "default_lang": config.default_lang}
    channels: dict[str, Channel] = {}
    if settings.telegram_token:
        channels["telegram"] = TelegramChannel(settings.telegram_token,
                                               settings.telegram_api_base_url, **opts)
    if emit is None and settings.redis_url:
        emit = redis_emitter(settings.redis_url)
    if emit is not None:
        channels["socketio"] = SocketIOChannel(emit, default_lang=config.default_lang)
    if config.smtp_url:
        channels["email"] = EmailChannel(config.smtp_url, config.smtp_from, **opts)
    if config.sms_webhook_url:
        channels["webhook"] = WebhookChannel(config.sms_webhook_url, config.sms_webhook_secret,
                                             **opts)
    return channels
