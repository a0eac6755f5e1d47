"""Bot test fixtures: settings with a bot token, the fake Bot API (in-process, or served over
HTTP), a movable clock, and a log scan after every test that fails it if a token leaked into
any log line."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import re
import sys

import pytest

import core.platform.db
from bot.testing import FakeTelegram, FakeTelegramServer
from core.kernel.settings import Settings
from tests.bot.support import SECRET, TOKEN
from tests.workflow.conftest import Clock

LEAK = re.compile(r"bot\d+:[A-Za-z0-9_-]{30,}")
BARE = re.compile(re.escape(TOKEN.split(":", 1)[1]))


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    """Settings for one bot test: a token, a webhook secret, its own database and folders."""
    return Settings(database_url=db_url, instance_path=tmp_path / "instance",
                    storage_url=f"file://{tmp_path / 'blobs'}", telegram_token=TOKEN,
                    telegram_webhook_secret=SECRET)


@pytest.fixture
def fake() -> FakeTelegram:
    """The fake Bot API's state."""
    return FakeTelegram(TOKEN)


@pytest.fixture
def api_server(fake):
    """The fake Bot API served over HTTP on 127.0.0.1 (real httpx, forms and multipart)."""
    with FakeTelegramServer(fake) as server:
        yield server


# Modules that read "now" and may not be loaded yet when a test starts: loaded first, so that
# the clock reaches them too.
CLOCKED = ("core.evidence.intake", "notifications.outbox", "notifications.channels", "worker.sweep",
           "worker.inprocess")


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The system's "now" (tests/workflow's Clock), moved by the test so that legal periods
    and reminders come due: utcnow is replaced in every loaded core, api, worker,
    notifications and bot module."""
    for name in CLOCKED:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    real = core.kernel.clock.utcnow
    c = Clock(real)
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in ("core", "api", "worker", "notifications", "bot") \
                and getattr(module, "utcnow", None) is real:
            monkeypatch.setattr(module, "utcnow", c.now)
    return c


@pytest.fixture(autouse=True)
def no_token_in_logs(caplog):
    """Capture every log record at DEBUG; fail the test if any carries the bot token."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.WARNING, logger="sqlalchemy")
    caplog.set_level(logging.INFO, logger="asyncio")
    yield
    leaked = []
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        if LEAK.search(text) or BARE.search(text):
            leaked.append(f"{record.name}: {text[:200]}")
    assert not leaked, f"bot token in {len(leaked)} log lines: {leaked[:3]}"
    assert not LEAK.search(caplog.text) and not BARE.search(caplog.text)
