"""How every dialog is built: one ConversationHandler, named, persistent, /cancel everywhere."""

from __future__ import annotations

import functools
import warnings

from telegram import Message, MessageEntity, ReplyKeyboardRemove, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler
from telegram.warnings import PTBUserWarning

from core.kernel.clock import utcnow

from .common import BotContext, ack, buttons, log, remember_question, reply
from .texts import t

END = ConversationHandler.END


async def cancel(update: Update, context: BotContext) -> int:
    """Stop the dialog; nothing is recorded."""
    for key in [k for k in (context.user_data or {}) if k.startswith("draft_")]:
        context.user_data.pop(key, None)
    if update.callback_query is not None:
        await ack(update)
        await drop_buttons(update)
    await reply(update, t(context.lang, "cancelled"), ReplyKeyboardRemove())
    return END


async def cancel_button(update: Update, context: BotContext) -> int:
    """The ✖ button of a summary: same as /cancel."""
    return await cancel(update, context)


def end_other_dialogs(update: Update, context: BotContext, keep: str) -> None:
    """End every other dialog this user is in, so that a new command always wins.

    PTB has no public call for this; the private ones used here are pinned with the
    python-telegram-bot version in requirements.txt and covered by tests/bot.
    """
    for handlers in context.application.handlers.values():
        for handler in handlers:
            if not isinstance(handler, ConversationHandler) or handler.name == keep:
                continue
            if handler.name in NON_EXCLUSIVE:
                continue
            key = handler._get_key(update)
            if key in handler._conversations:
                handler._update_state(END, key)


# Dialogs that never end another and that another never ends: files that wait for their
# object of proof are kept whatever else the officer does (nothing sent is lost).
NON_EXCLUSIVE = {"evidence"}


def other_dialogs(update: Update, context: BotContext, keep: str) -> list[str]:
    """The names of the other (exclusive) dialogs this user is in the middle of."""
    found = []
    for handlers in context.application.handlers.values():
        for handler in handlers:
            if not isinstance(handler, ConversationHandler) or \
                    handler.name in (keep, *NON_EXCLUSIVE):
                continue
            try:
                key = handler._get_key(update)
            except RuntimeError:
                continue
            if handler._conversations.get(key) is not None:
                found.append(handler.name)
    return found


PENDING = "pending_command"


def _exclusive(name: str, callback):
    @functools.wraps(callback)
    async def entry(update: Update, context: BotContext):
        message = update.message
        if message is not None and (message.text or "").startswith("/") and \
                other_dialogs(update, context, name):
            # Typing is never thrown away: a half-filled form is kept until the officer says.
            context.user_data[PENDING] = message.text[:200]
            lang = context.lang
            await reply(update, t(lang, "switch_ask"), buttons([[
                (t(lang, "switch_keep"), "sw:keep"), (t(lang, "switch_drop"), "sw:drop")]]))
            return END
        end_other_dialogs(update, context, name)
        return await callback(update, context)

    return entry


async def switch_keep(update: Update, context: BotContext) -> None:
    """Go on with the half-filled form: its question is still above."""
    context.user_data.pop(PENDING, None)
    await ask(update, t(context.lang, "switch_kept"))


async def switch_drop(update: Update, context: BotContext) -> None:
    """Give the half-filled form up and run the command that was sent meanwhile."""
    command = context.user_data.pop(PENDING, None)
    for key in [k for k in (context.user_data or {}) if k.startswith("draft_")]:
        context.user_data.pop(key, None)
    end_other_dialogs(update, context, "")
    await ask(update, t(context.lang, "switch_dropped"))
    if not command:
        return
    app = context.application
    if app.persistence is not None:  # the replayed command reads the dialog from the database
        app.mark_data_for_update_persistence(user_ids=update.effective_user.id)
        await app.update_persistence()
    message = Message(message_id=update.callback_query.message.message_id, date=utcnow(),
                      chat=update.effective_chat, from_user=update.effective_user, text=command,
                      entities=[MessageEntity(MessageEntity.BOT_COMMAND, 0,
                                              len(command.split()[0]))])
    message.set_bot(context.bot)
    # A negative id: never one Telegram sends, so bot.updates keeps it apart.
    replay = Update(update_id=-update.update_id, message=message)
    replay.set_bot(context.bot)
    await app.process_update(replay)


def switch_handlers() -> list:
    """The answers to "继续填写还是放弃？"."""
    return [CallbackQueryHandler(switch_keep, pattern=r"^sw:keep$"),
            CallbackQueryHandler(switch_drop, pattern=r"^sw:drop$")]


def dialog(name: str, entry_points: list, states: dict, *, persistent: bool,
           fallbacks: list | None = None, allow_reentry: bool = True) -> ConversationHandler:
    """A ConversationHandler for one dialog; starting it ends the user's other dialogs.

    Dialogs are tracked per chat and user, not per message: the buttons of a dialog belong
    to its latest question, so PTB's warning about CallbackQueryHandlers without
    per_message is expected here and silenced for this construction only.
    """
    if name not in NON_EXCLUSIVE:
        for handler in entry_points:
            handler.callback = _exclusive(name, handler.callback)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*per_message=False.*",
                                category=PTBUserWarning)
        return ConversationHandler(
            entry_points=entry_points, states=states,
            fallbacks=[*(fallbacks or []), CommandHandler("cancel", cancel)],
            name=name, persistent=persistent, allow_reentry=allow_reentry)


async def drop_buttons(update: Update) -> None:
    """Take the buttons off the message a press came from; a message that is gone, too old
    or already bare (a forged or repeated press) is no reason to fail the answer."""
    try:
        await update.callback_query.edit_message_reply_markup(None)
    except BadRequest as exc:
        log.info("buttons not removed: %s", exc.message)


async def ask(update: Update, text: str, markup=None) -> None:
    """Ask the next question as a new message (one question per message)."""
    if update.callback_query is not None:
        await ack(update)
        # The answered question keeps its text but loses its buttons: no double taps.
        await drop_buttons(update)
    await reply(update, text, markup)
    remember_question(update, text, markup)
