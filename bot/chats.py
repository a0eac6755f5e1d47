"""Where the bot answers: officers' commands and evidence only in private chats, and edited
messages never replayed as new answers.

In a work group a bound officer's /cases or a photo would otherwise land case data in the
group or join the officer's private case: a command or a button there gets one polite line
pointing to the private chat, anything else is left alone. An edited message (except a live
location moving) is not an answer: editing an earlier reply must not move a dialog on or start
a new one."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, TypeHandler

from .common import BotContext, log
from .texts import t


def _is_command(update: Update) -> bool:
    message = update.message
    return bool(message and message.text and message.text.startswith("/"))


async def only_private(update: Update, context: BotContext) -> None:
    """Stop edited messages and anything from a group before any handler sees it."""
    if update.edited_message is not None or update.edited_channel_post is not None:
        if update.edited_message is not None and update.edited_message.location is not None:
            return  # a live location moving: bot.evidence keeps the newest
        raise ApplicationHandlerStop
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    lang = "en" if (update.effective_user and (update.effective_user.language_code or "")
                    .startswith("en")) else "zh"
    username = context.bot.username if context.bot else ""
    text = t(lang, "group_private", bot=f"@{username}" if username else "")
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif _is_command(update) and update.message is not None:
        await update.message.reply_text(text)
    log.info("update %s from a %s chat left alone", update.update_id, chat.type)
    raise ApplicationHandlerStop


async def stale(update: Update, context: BotContext) -> None:
    """A button no handler takes (forged, or from a question already answered): refuse it
    plainly; nothing is recorded."""
    log.info("button %r taken by no handler", (update.callback_query.data or "")[:16])
    await update.callback_query.answer()
    await context.bot.send_message(update.effective_chat.id, t(context.lang, "stale_button"))


def stale_handler() -> CallbackQueryHandler:
    """The catch-all for buttons, registered last."""
    return CallbackQueryHandler(stale)


def handler() -> TypeHandler:
    """The chat filter, for group -2 (before the gate)."""
    return TypeHandler(Update, only_private)
