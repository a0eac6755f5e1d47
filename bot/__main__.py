"""`python -m bot`: poll Telegram (development). `--set-webhook URL` points Telegram at the
production webhook with the secret; `--delete-webhook` goes back to polling.

Polling records what the webhook records, and queues the same work after each commit: with
REDIS_URL the rq media jobs (thumbnails) and sweep nudges of core.queues, as a web process
does; without it the web process's in-process worker takes the media tasks at its next sweep
(the media_tasks rows are the truth either way)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from telegram import Update

from core.bootstrap import Container, bootstrap
from core.kernel.settings import Settings, SettingsError
from core.queues import install_queue_hooks

from .app import build_application, publish_commands
from .logs import install_log_redaction


async def _webhook(application, url: str | None, secret: str) -> None:
    async with application:
        if url:
            await application.bot.set_webhook(url, secret_token=secret,
                                              allowed_updates=Update.ALL_TYPES)
            await publish_commands(application)
        else:
            await application.bot.delete_webhook()


def polling_container(settings: Settings) -> Container:
    """The container of the polling process, with the queue hooks a web process has."""
    container = bootstrap(settings)
    install_queue_hooks(container)
    return container


def main(argv: list[str] | None = None) -> int:
    """Run the bot by polling, or set or delete the webhook."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--set-webhook", metavar="URL",
                        help="https://host/telegram/webhook (TELEGRAM_WEBHOOK_SECRET is sent)")
    parser.add_argument("--delete-webhook", action="store_true")
    args = parser.parse_args(argv)
    install_log_redaction()
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env()
        container = polling_container(settings)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        return _run(args, settings, container)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    finally:
        container.engine.dispose()  # the dialog state's connections, closed on the way out


def _run(args, settings: Settings, container) -> int:
    # Setting the webhook handles no update: no dialog state to load.
    webhook_only = bool(args.set_webhook or args.delete_webhook)
    application = build_application(container, persistence=not webhook_only)
    if webhook_only:
        if args.set_webhook and not settings.telegram_webhook_secret:
            print("TELEGRAM_WEBHOOK_SECRET is unset", file=sys.stderr)
            return 2
        asyncio.run(_webhook(application, args.set_webhook, settings.telegram_webhook_secret))
        return 0

    async def post_init(app) -> None:
        await app.bot.delete_webhook()  # polling and a webhook exclude each other
        await publish_commands(app)

    application.post_init = post_init
    application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
