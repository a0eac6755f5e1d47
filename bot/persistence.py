"""Dialog state in the database (python-telegram-bot persistence over core.platform.keyvalue),
so that any web process can take the next webhook update of a dialog and a restart loses
nothing.

Write-through, not flushed on a timer: QuanchengBot.process_update loads the dialog of the
update's chat and user from the database before the handlers run (user_data and chat_data by
PTB's refresh hooks, the conversation states of every persistent dialog here) and saves what
changed right after they ran, before the webhook answers Telegram. update_interval is then
irrelevant (kept long; the timer finds nothing left to write).

Two updates of one user handled at the same instant by two processes would each save their
own answer (the last one wins); Telegram sends a chat's updates one after another, and each
process handles one update at a time (bot.runner).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from telegram import Update
from telegram.ext import BasePersistence, ConversationHandler, PersistenceInput

from core.bootstrap import Container
from core.platform import keyvalue

USER, CHAT, BOT, CALLBACK = "tg.user", "tg.chat", "tg.bot", "tg.callback"


def _conversation(name: str) -> str:
    return f"tg.conv:{name}"


def _key(key: tuple) -> str:
    return json.dumps(list(key), separators=(",", ":"))


class DatabasePersistence(BasePersistence):
    """user_data, chat_data, bot_data, callback data and dialog states as database rows."""

    write_through = True

    def __init__(self, container: Container, *, store_bot_data: bool = False):
        # The bot keeps nothing in bot_data; writing it after every update would be waste.
        super().__init__(store_data=PersistenceInput(bot_data=store_bot_data),
                         update_interval=3600)
        self.container = container

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """One short transaction off the event loop."""
        def work():
            with self.container.uow() as uow:
                return fn(uow.session, *args)

        return await asyncio.to_thread(work)

    # --- loaded once at start: nothing but the dialog states (data comes with each update) ---

    async def get_user_data(self) -> dict[int, dict]:
        """Nothing up front: each user's data is read fresh with their update."""
        return {}

    async def get_chat_data(self) -> dict[int, dict]:
        """Nothing up front: each chat's data is read fresh with its update."""
        return {}

    async def get_bot_data(self) -> dict:
        """The bot-wide data."""
        return await self._run(keyvalue.get, BOT, "bot") or {}

    async def get_callback_data(self) -> Any:
        """The arbitrary-callback-data cache, if the bot uses one."""
        return await self._run(keyvalue.get, CALLBACK, "data")

    async def get_conversations(self, name: str) -> dict:
        """Every stored state of one dialog, by its key tuple."""
        rows = await self._run(keyvalue.get_many, _conversation(name))
        return {tuple(json.loads(k)): state for k, state in rows.items()}

    # --- written as the answers come ---------------------------------------------------------

    async def update_conversation(self, name: str, key: tuple, new_state: object | None
                                  ) -> None:
        """Save (or, when the dialog ended, remove) one dialog's state."""
        if new_state is None:
            await self._run(keyvalue.drop, _conversation(name), _key(key))
        else:
            await self._run(keyvalue.put, _conversation(name), _key(key), new_state)

    async def update_user_data(self, user_id: int, data: dict) -> None:
        """Save a user's data (drafts, the active case, files waiting for their question)."""
        await self._run(keyvalue.put, USER, str(user_id), data)

    async def update_chat_data(self, chat_id: int, data: dict) -> None:
        """Save a chat's data."""
        await self._run(keyvalue.put, CHAT, str(chat_id), data)

    async def update_bot_data(self, data: dict) -> None:
        """Save the bot-wide data."""
        await self._run(keyvalue.put, BOT, "bot", data)

    async def update_callback_data(self, data: Any) -> None:
        """Save the arbitrary-callback-data cache."""
        await self._run(keyvalue.put, CALLBACK, "data", data)

    async def drop_user_data(self, user_id: int) -> None:
        """Forget a user's data."""
        await self._run(keyvalue.drop, USER, str(user_id))

    async def drop_chat_data(self, chat_id: int) -> None:
        """Forget a chat's data."""
        await self._run(keyvalue.drop, CHAT, str(chat_id))

    # --- read fresh before each update ---------------------------------------------------

    async def refresh_user_data(self, user_id: int, user_data: dict) -> None:
        """Replace the in-memory data with the database's (another process may have moved
        the dialog on)."""
        fresh = await self._run(keyvalue.get, USER, str(user_id)) or {}
        user_data.clear()
        user_data.update(fresh)

    async def refresh_chat_data(self, chat_id: int, chat_data: dict) -> None:
        """Replace the in-memory chat data with the database's."""
        fresh = await self._run(keyvalue.get, CHAT, str(chat_id)) or {}
        chat_data.clear()
        chat_data.update(fresh)

    async def refresh_bot_data(self, bot_data: dict) -> None:
        """Replace the in-memory bot data with the database's, when it is kept."""
        if self.store_data.bot_data:
            fresh = await self._run(keyvalue.get, BOT, "bot") or {}
            bot_data.clear()
            bot_data.update(fresh)

    async def load_dialog(self, application: Any, update: Update) -> None:
        """Set every persistent dialog's state for this update's chat and user to the stored
        one, in one query, before the handlers decide who takes the update.

        PTB has no public call for this (its conversation states are loaded once at start);
        the private ones used here are those bot.dialogs uses, pinned with the
        python-telegram-bot version in requirements.txt and covered by tests/bot.
        """
        wanted: dict[tuple[str, str], tuple[ConversationHandler, tuple]] = {}
        for handlers in application.handlers.values():
            for handler in handlers:
                if not isinstance(handler, ConversationHandler) or not handler.persistent:
                    continue
                try:
                    key = handler._get_key(update)
                except RuntimeError:  # an update without a chat or user: no dialog
                    continue
                wanted[(_conversation(handler.name), _key(key))] = (handler, key)
        if not wanted:
            return
        stored = await self._run(keyvalue.get_pairs, list(wanted))
        for pair, (handler, key) in wanted.items():
            states = handler._conversations
            if pair in stored:
                states.update_no_track({key: stored[pair]})
            else:  # ended (or never begun) as far as the database knows
                getattr(states, "data", states).pop(key, None)

    async def flush(self) -> None:
        """Nothing is pending: every update was written when it was made."""
        return None
