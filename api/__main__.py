"""`python -m api`: serve the web app with Socket.IO, the in-process worker on embedded
defaults, and the bot when TELEGRAM_TOKEN is set."""

from __future__ import annotations

import logging

from . import create_app, socketio


def main() -> None:
    """Start everything for `make run`."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app()
    container = app.extensions["quancheng"]
    settings = container.settings
    if not settings.redis_url:
        # Embedded defaults: sweep and deliver in a thread of this process (no Redis).
        from notifications.live import server_emitter
        from worker.inprocess import start_inprocess_worker

        start_inprocess_worker(container, emit=server_emitter(socketio))
    if settings.telegram_token and not settings.production:
        # Development: poll Telegram beside the web app; production uses the webhook route.
        from bot.runner import PollingThread

        PollingThread(container).start()
    logging.getLogger("quancheng").info(
        "Quancheng on http://127.0.0.1:%s (%s)", settings.port,
        "embedded defaults" if not settings.database_url else "configured services")
    socketio.run(app, host="127.0.0.1", port=settings.port, allow_unsafe_werkzeug=True)


if __name__ == "__main__":
    main()
