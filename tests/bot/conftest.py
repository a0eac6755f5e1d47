"""Bot test fixtures: settings with a bot token, the fake Bot API (in-process, or served over
HTTP), a movable clock, and a log scan after every test that fails it if a token leaked into
any log line."""

from __future__ import annotations

import logging
import re

import pytest

from core.kernel.settings import Settings
from tests.bot.support import SECRET, TOKEN
from tests.support.telegram_fake import FakeTelegram, FakeTelegramServer

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
