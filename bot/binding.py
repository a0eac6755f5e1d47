"""Who is talking: the gate before every handler, /start, /bind, /unbind, /lang, /help and
/cancel."""

from __future__ import annotations

import asyncio
import time

from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from core.notices.bindings import bind_telegram, unbind_officer
from core.people import officers
from core.people.access import log_access

from .common import (
    BotContext,
    Me,
    ack,
    as_officer,
    buttons,
    guarded,
    in_uow,
    log,
    me_of,
    reply,
)
from .dialogs import drop_buttons
from .texts import role_names, t

# Commands and button prefixes only a bound officer may use; anything else is public.
OFFICER_COMMANDS = frozenset({"new", "cases", "case", "record", "checklist", "stage", "tasks",
                              "inbox", "sign", "refuse", "serve", "interrupt", "resume",
                              "unbind", "intake"})
OFFICER_CALLBACKS = ("cs:", "rt:", "ro:", "rf:", "rc:", "nk:", "nr:", "np:", "ne:", "nc:",
                     "na:", "ap:", "st:", "pv:", "oc:", "sg:", "so:", "sr:", "sn:", "sm:",
                     "rp:", "rr:", "rn:", "rl:", "rw:", "rv:", "rc2:", "rs:", "pc:", "lk:",
                     "fq:", "nt:", "ns:", "sw:", "rx:", "rz:", "ub:", "ci:")


def command_of(update: Update) -> str | None:
    """The bot command an update starts with, without the slash and the @botname."""
    message = update.message
    if message is None or not message.text or not message.text.startswith("/"):
        return None
    return message.text.split()[0][1:].split("@")[0].lower()


# Who a Telegram account is, for a few seconds: the gate runs on every update, while every
# service call reloads the officer row and refuses an inactive one, so a short cache only
# saves a read. Binding and /lang replace the entry at once.
ME_TTL_S = 10.0


async def who(context: BotContext, telegram_user_id: int) -> Me | None:
    """The bound officer behind a Telegram account, or None."""
    cache = context.application.me_cache
    now = time.monotonic()
    hit = cache.get(telegram_user_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    me = await in_uow(context.container,
                      lambda uow: me_of(officers.officer_by_telegram(uow.session,
                                                                     telegram_user_id)))
    if len(cache) > 10_000:
        cache.clear()
    cache[telegram_user_id] = (now + ME_TTL_S, me)
    return me


def remember(context: BotContext, telegram_user_id: int, me: Me | None) -> None:
    """Replace the cached identity after binding or a language change."""
    context.application.me_cache[telegram_user_id] = (time.monotonic() + ME_TTL_S, me)


async def gate(update: Update, context: BotContext) -> None:
    """Load the caller; refuse and log an unbound user's officer command (A37.1)."""
    user = update.effective_user
    if user is None:
        return
    context.me = await who(context, user.id)
    if context.me is not None:
        return
    command = command_of(update)
    data = update.callback_query.data if update.callback_query else None
    if command in OFFICER_COMMANDS or (data and data.startswith(OFFICER_CALLBACKS)):
        what = f"/{command}" if command else f"button {data.split(':', 1)[0]}"
        log.warning("refused %s from unbound Telegram user %s", what, user.id)

        def record(uow):
            log_access(uow.session, None, "refused", "bot_command",
                       f"{what} tg:{user.id}"[:64], channel="telegram")

        await in_uow(context.container, record)
        await reply(update, t(context.lang, "officer_only"))
        raise ApplicationHandlerStop


STAFF_ONLY = frozenset({"supervisor", "legal_reviewer", "head"})


def _menu(context: BotContext) -> str:
    # Supervisors, legal reviewers and heads approve and watch deadlines; they do not open
    # cases in the field, so their menu lists what they do.
    roles = set(context.me.roles) if context.me else set()
    if roles & STAFF_ONLY and "officer" not in roles:
        return t(context.lang, "staff_menu")
    return t(context.lang, "officer_menu")


async def start(update: Update, context: BotContext) -> None:
    """Greet: the officer menu, or the public menu; `/start CODE` binds like /bind."""
    if context.args and context.me is None:
        await bind(update, context)
        return
    me = context.me
    if me is None:
        await reply(update, t(context.lang, "welcome_public"))
    else:
        await reply(update, t(me.lang, "welcome_officer", name=me.name,
                              roles=role_names(me.roles, me.lang), menu=_menu(context)))


@guarded
async def bind(update: Update, context: BotContext) -> None:
    """Bind this Telegram account to an officer with a one-time code."""
    if not context.args:
        await reply(update, t(context.lang, "bind_usage"))
        return
    code = context.args[0]
    user_id = update.effective_user.id
    # Wrong codes count against the code and the account even though the answer is an error.
    me = await asyncio.to_thread(bind_telegram, context.container, code, user_id, me_of)
    context.me = me
    remember(context, user_id, me)
    log.info("officer %s bound a Telegram account", me.id)
    await reply(update, t(me.lang, "bound", name=me.name, roles=role_names(me.roles, me.lang),
                          menu=_menu(context)))


async def unbind(update: Update, context: BotContext) -> None:
    """/unbind: ask the officer to confirm ending this account's binding (issue 12, finding 3:
    the only way to move a binding to another account)."""
    lang = context.lang
    await reply(update, t(lang, "unbind_ask", name=context.me.name),
                buttons([[(t(lang, "unbind_yes"), "ub:ok"), (t(lang, "cancel"), "ub:no")]]))


@guarded
async def unbind_button(update: Update, context: BotContext) -> None:
    """Confirmed: end the binding through core.notices.bindings (ledgered; the chat is told
    through the outbox too); declined: nothing changes."""
    lang = context.lang
    await ack(update)
    await drop_buttons(update)
    if update.callback_query.data != "ub:ok":
        await reply(update, t(lang, "unbind_kept"))
        return
    await as_officer(context, lambda uow, actor: unbind_officer(uow, actor, actor.id))
    user_id = update.effective_user.id
    log.info("officer %s unbound their Telegram account", context.me.id)
    context.me = None
    remember(context, user_id, None)
    await reply(update, t(lang, "unbound_self"))


async def help_(update: Update, context: BotContext) -> None:
    """List what the caller can do."""
    if context.me is None:
        await reply(update, t(context.lang, "welcome_public"))
    else:
        await reply(update, _menu(context))


async def lang(update: Update, context: BotContext) -> None:
    """Switch language: `/lang en`, `/lang zh`, or buttons."""
    if context.args and context.args[0].lower() in ("en", "zh"):
        await _set_lang(update, context, context.args[0].lower())
        return
    await reply(update, t(context.lang, "lang_pick"),
                buttons([[("中文", "lang:zh"), ("English", "lang:en")]]))


async def lang_button(update: Update, context: BotContext) -> None:
    """Apply the language chosen with a button."""
    await _set_lang(update, context, update.callback_query.data.split(":", 1)[1])


async def _set_lang(update: Update, context: BotContext, code: str) -> None:
    context.user_data["lang"] = code
    me = context.me
    if me is not None:
        def store(uow):
            return me_of(officers.set_language(uow.session, me.id, code))

        context.me = await in_uow(context.container, store)
        remember(context, update.effective_user.id, context.me)
    await reply(update, t(code, "lang_set"))


async def cancel_idle(update: Update, context: BotContext) -> None:
    """/cancel outside any dialog."""
    await reply(update, t(context.lang, "nothing_to_cancel"))


async def unknown(update: Update, context: BotContext) -> None:
    """Anything no dialog is waiting for: show the menu."""
    if context.me is None:
        await reply(update, t(context.lang, "welcome_public"))
    else:
        await reply(update, t(context.lang, "unknown", menu=_menu(context)))


def gate_handler() -> TypeHandler:
    """The gate, for group -1."""
    return TypeHandler(Update, gate)


def handlers() -> list:
    """The commands of this module, in group 0."""
    return [
        CommandHandler("start", start),
        CommandHandler("bind", bind),
        CommandHandler("unbind", unbind),
        CallbackQueryHandler(unbind_button, pattern=r"^ub:(ok|no)$"),
        CommandHandler("help", help_),
        CommandHandler("lang", lang),
        CallbackQueryHandler(lang_button, pattern=r"^lang:(zh|en)$"),
    ]


def fallback_handlers() -> list:
    """Catch-alls registered last."""
    return [CommandHandler("cancel", cancel_idle),
            MessageHandler(filters.TEXT | filters.COMMAND, unknown)]
