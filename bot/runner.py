"""Run the bot's asyncio application beside a WSGI server: one event loop in one thread,
fed updates from the webhook route."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import TimeoutError as FutureTimeout

from telegram import Update

from core.bootstrap import Container

from .app import build_application
from .common import QuanchengBot, log

PROCESS_TIMEOUT_S = 50.0  # Telegram waits about a minute before retrying a webhook call


class BotRunner:
    """The application, initialised and started on a private event loop."""

    def __init__(self, container: Container, **build_kwargs):
        self.application: QuanchengBot = build_application(container, **build_kwargs)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="telegram-bot",
                                        daemon=True)
        self._thread.start()
        # One lock per chat, made and dropped on the loop's thread (no race); the count says
        # how many updates of the chat hold or wait for it.
        self._locks: dict[object, tuple[asyncio.Lock, int]] = {}
        self._call(self._start())

    def _call(self, coro, timeout: float | None = 30.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _start(self) -> None:
        await self.application.initialize()
        await self.application.start()

    async def _process(self, update: Update) -> None:
        # One update at a time per chat: a dialog's answers must be applied in the order they
        # came. Other chats go on meanwhile: with one lock for all, 200 inspectors syncing at
        # once queued behind each other past Telegram's webhook timeout (bench/load).
        key = _dialog_key(update)
        lock, users = self._locks.get(key, (None, 0))
        lock = lock or asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                await self.application.process_update(update)
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def feed(self, data: dict, timeout: float = PROCESS_TIMEOUT_S) -> bool:
        """Handle one update from the webhook; True when it finished within the timeout."""
        update = Update.de_json(data, self.application.bot)
        future = asyncio.run_coroutine_threadsafe(self._process(update), self.loop)
        try:
            future.result(timeout)
            return True
        except FutureTimeout:
            # Still running: answering 200 avoids Telegram sending it a second time.
            log.warning("update %s still being handled after %.0f s", update.update_id, timeout)
            return False

    def stop(self) -> None:
        """Stop the application (flushing persistence) and the loop."""
        async def _stop():
            if self.application.running:
                await self.application.stop()
            await self.application.shutdown()

        try:
            self._call(_stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()


def _dialog_key(update: Update) -> object:
    """What orders updates: the chat (a dialog lives in one), else the user, else nothing
    (updates without either share one key)."""
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    return ("none",)


_runners: dict[int, BotRunner] = {}
_runners_lock = threading.Lock()


def runner_for(container: Container) -> BotRunner:
    """The process's runner for this container, started on first use."""
    with _runners_lock:
        runner = _runners.get(id(container))
        if runner is None:
            runner = _runners[id(container)] = BotRunner(container)
        return runner


class PollingThread:
    """`make run` with TELEGRAM_TOKEN on embedded defaults: poll in a background thread."""

    def __init__(self, container: Container, **build_kwargs):
        self.application: QuanchengBot = build_application(container, **build_kwargs)
        self.loop = asyncio.new_event_loop()
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="telegram-polling", daemon=True)

    def start(self, timeout: float = 30.0) -> PollingThread:
        """Start polling; return once the first getUpdates is under way."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the bot did not start polling in time")
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._poll())
        self.loop.close()

    async def _poll(self) -> None:
        from .app import publish_commands

        self._stopping = asyncio.Event()
        app = self.application
        async with app:
            await app.bot.delete_webhook()  # polling and a webhook exclude each other
            await publish_commands(app)
            await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            await app.start()
            self._ready.set()
            await self._stopping.wait()
            await app.updater.stop()
            await app.stop()

    def stop(self) -> None:
        """Stop polling and flush the dialog state."""
        if self._stopping is not None:
            self.loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(30)
