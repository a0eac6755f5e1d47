"""Each Telegram update is handled at most once: Telegram re-sends an update after a timeout
(webhook) or when an offset was not confirmed (polling), and a re-delivered answer would
otherwise become the answer to the next question. The update_id is claimed in the database
(core.platform.keyvalue.claim) before any handler runs, so every process agrees."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from telegram import Update

from core.kernel.clock import utcnow
from core.platform import keyvalue

from .common import QuanchengBot, log

NAMESPACE = "tg.update"
# Telegram keeps an unconfirmed update for 24 hours; ids older than that never come back.
KEEP = timedelta(days=2)
PRUNE_EVERY = 500  # update ids: one clean-up in that many updates


async def first_delivery(app: QuanchengBot, update: Update) -> bool:
    """Claim the update's id; False when it was handled (or is being handled) already."""
    bot_id = (app.container.settings.telegram_token or "").split(":", 1)[0]
    key = f"{bot_id}:{update.update_id}"

    def claim(uow):
        won = keyvalue.claim(uow.session, NAMESPACE, key)
        if won and update.update_id % PRUNE_EVERY == 0:
            keyvalue.prune(uow.session, NAMESPACE, utcnow() - KEEP)
        return won

    def work():
        with app.container.uow() as uow:
            return claim(uow)

    # Not bot.common.in_uow: claiming an id is not recording anything for the officer.
    won = await asyncio.to_thread(work)
    if not won:
        log.info("update %s was delivered again; already handled, skipped", update.update_id)
    return won
