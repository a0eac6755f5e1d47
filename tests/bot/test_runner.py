"""The webhook's bot runner under many dialogs at once (issue 13 item 6, found by the load
test): updates of one chat stay in order, other chats' updates do not wait behind them."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from bot.runner import BotRunner
from tests.support.telegram_fake import FakeRequest
from tests.worker.support import wait_for


def test_other_chats_do_not_wait_behind_a_slow_update(container, fake):
    """With chat A's first update still running, chat B's update finishes at once, while A's
    second update waits for A's first; no per-chat lock is left behind."""
    runner = BotRunner(container, request=FakeRequest(fake), persistence=False)
    release = threading.Event()
    order: list[tuple[str, str]] = []

    async def slow(update):
        text = update.effective_message.text
        order.append(("start", text))
        if text == "a1":
            await asyncio.to_thread(release.wait, 20)
        order.append(("end", text))

    runner.application.process_update = slow
    a, b = fake.user(9001), fake.user(9002)
    try:
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(runner.feed, fake.text(a, "a1"))
            wait_for(lambda: ("start", "a1") in order, 10, what="a1 to start")
            second = pool.submit(runner.feed, fake.text(a, "a2"))
            assert runner.feed(fake.text(b, "b1"), timeout=5) is True
            assert ("start", "a2") not in order  # the same chat waits its turn
            release.set()
            assert first.result(20) is True and second.result(20) is True
    finally:
        release.set()
        runner.stop()
    assert order.index(("end", "b1")) < order.index(("end", "a1")) < order.index(("start", "a2"))
    assert runner._locks == {}
