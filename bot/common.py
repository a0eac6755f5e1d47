"""What every dialog shares: the caller, service calls in a unit of work, error sentences,
buttons and the "what the rules still require" line."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackContext, ExtBot

from core.bootstrap import Container
from core.kernel.errors import (
    AlreadyBound,
    AlreadyDone,
    BindCodeInvalid,
    Conflict,
    DomainError,
    Forbidden,
    GateRefused,
    Invalid,
    NotFound,
)
from core.ledger.models import LedgerEntry
from core.people import officers
from core.people.models import Officer

from .texts import rule_item, t

log = logging.getLogger("bot")
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # what the hosted Bot API lets a bot download


class QuanchengBot(Application):
    """The PTB application with the process's container and the bot's own limits."""

    container: Container
    download_limit: int
    me_cache: dict  # telegram user id -> (expiry, Me | None), see binding.who

    async def process_update(self, update: object) -> None:
        """Each update once (bot.updates: its update_id is claimed in the database, so a
        re-delivery by polling or by the webhook is skipped). With the database persistence
        (bot.persistence), read this dialog's state before the handlers run and write what
        changed right after: any process can take the next update of a dialog, and an answer
        is saved as soon as it is given."""
        from .updates import first_delivery

        if isinstance(update, Update) and not await first_delivery(self, update):
            return
        recorded.set(False)
        current_app.set(self)
        persistence = self.persistence
        write_through = getattr(persistence, "write_through", False)
        if write_through and isinstance(update, Update):
            await persistence.load_dialog(self, update)  # type: ignore[union-attr]
        await super().process_update(update)
        if write_through:
            await self.update_persistence()


@dataclass(frozen=True)
class Me:
    """The bound officer behind an update (a snapshot; services reload the row)."""

    id: str
    name: str
    lang: str
    roles: tuple[str, ...]
    department_id: str


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    """Callback context with the container and the caller."""

    me: Me | None = None

    @property
    def container(self) -> Container:
        """The process's adapters."""
        return self.application.container  # type: ignore[attr-defined]

    @property
    def lang(self) -> str:
        """The caller's language: the officer's setting, or what an unbound user chose."""
        if self.me is not None:
            return self.me.lang
        return (self.user_data or {}).get("lang", "zh")


def me_of(officer: Officer | None) -> Me | None:
    """A snapshot of an officer row."""
    if officer is None:
        return None
    return Me(officer.id, officer.name, officer.lang or "zh", tuple(officer.roles),
              officer.department_id)


# Whether the update being handled has recorded anything (a ledger entry committed): the
# generic error then tells the officer whether the last thing was kept (bot.app.on_error).
recorded: ContextVar[bool] = ContextVar("recorded", default=False)
# The application handling the current update: where ``ask`` keeps the question it asked.
current_app: ContextVar[Application | None] = ContextVar("current_app", default=None)
LAST_QUESTION = "last_question"


def remember_question(update: Update, text: str, markup) -> None:
    """Keep the question just asked, with its buttons, in the user's dialog data (stored in
    the database), so that it can be asked again when its buttons are gone (a restart, an
    old message scrolled away)."""
    app, user = current_app.get(), update.effective_user
    if app is None or user is None:
        return
    data = app.user_data[user.id]
    data[LAST_QUESTION] = {"text": text[:4000], "markup": markup.to_dict()
                           if isinstance(markup, InlineKeyboardMarkup) else None}
    if app.persistence is not None:
        app.mark_data_for_update_persistence(user_ids=user.id)


async def ask_again(update: Update, context: BotContext) -> bool:
    """Ask the remembered question again with its buttons; False when there is none."""
    last = (context.user_data or {}).get(LAST_QUESTION)
    if not last:
        return False
    markup = InlineKeyboardMarkup.de_json(last["markup"], context.bot) if last.get("markup") \
        else None
    await reply(update, t(context.lang, "asked_again") + "\n" + last["text"], markup)
    return True


async def in_uow(container: Container, fn: Callable[..., Any], *args, **kwargs) -> Any:
    """Run a blocking service call in one unit of work, off the event loop."""
    def work():
        wrote: list[bool] = []

        def seen(session, _context) -> None:
            if any(isinstance(row, LedgerEntry) for row in session.new):
                wrote.append(True)

        with container.uow() as uow:
            event.listen(uow.session, "after_flush", seen)
            try:
                out = fn(uow, *args, **kwargs)
                uow.session.flush()
            finally:
                event.remove(uow.session, "after_flush", seen)
        return out, bool(wrote)

    out, wrote = await asyncio.to_thread(work)
    if wrote:
        recorded.set(True)
    return out


async def as_officer(context: BotContext, fn: Callable[..., Any], *args, **kwargs) -> Any:
    """Run ``fn(uow, actor, ...)`` with the caller's officer row loaded in the same session."""
    me = context.me
    if me is None:
        raise Forbidden("not a bound officer")

    def work(uow):
        return fn(uow, officers.active_officer(uow.session, me.id), *args, **kwargs)

    return await in_uow(context.container, work)


def error_text(exc: DomainError, lang: str) -> str:
    """A domain error as a plain sentence in the user's language, naming the missing RULES.md
    IDs with their words; chosen by the error's type, never by matching its text."""
    if isinstance(exc, GateRefused):
        reqs = exc.details.get("requirements") or []
        if reqs:
            items = [rule_item(r["id"], lang, r.get("text_zh", ""), r.get("text", ""))
                     for r in reqs]
        else:
            items = [rule_item(i, lang) for i in exc.missing]
        if not items:
            return t(lang, "err_gate_plain", ids=exc.text(lang))
        sep = "; " if lang == "en" else "；"
        return t(lang, "err_gate", items=sep.join(items))
    if isinstance(exc, BindCodeInvalid):
        return t(lang, "err_bind")
    if isinstance(exc, AlreadyBound):
        return t(lang, "err_bind_taken")
    if isinstance(exc, AlreadyDone):
        return t(lang, "err_already_done", what=exc.text(lang) if lang == "en" or exc.zh else "")
    if isinstance(exc, Invalid):
        named = exc.details.get("fields_zh" if lang != "en" else "fields") or {}
        missing = exc.details.get("missing") or []
        sep = "; " if lang == "en" else "；"
        items = sep.join(f"{k}：{v}" if lang != "en" else f"{k}: {v}" for k, v in named.items())
        items = items or exc.text(lang)
        if missing and lang != "en":
            items += "（" + "、".join(missing) + "）"
        return t(lang, "err_invalid", items=items)
    if isinstance(exc, NotFound):
        return t(lang, "err_not_found")
    if isinstance(exc, Forbidden):
        return t(lang, "err_forbidden") + _why(exc, lang)
    if isinstance(exc, Conflict):
        return t(lang, "err_conflict") + _why(exc, lang)
    return exc.text(lang)


def _why(exc: DomainError, lang: str) -> str:
    """The error's own words after a generic sentence, when worded in the user's language."""
    if lang == "en":
        return f" ({exc.message})"
    return f"（{exc.zh}）" if exc.zh else ""


def guarded(fn):
    """Answer a domain error with a plain sentence and keep the dialog where it was."""
    @functools.wraps(fn)
    async def wrapper(update: Update, context: BotContext, *args, **kwargs):
        try:
            return await fn(update, context, *args, **kwargs)
        except DomainError as exc:
            log.info("refused %s: %s %s", fn.__name__, type(exc).__name__, exc.message)
            await reply(update, error_text(exc, context.lang))
            return None

    return wrapper


_answered: OrderedDict[str, None] = OrderedDict()


async def ack(update: Update, text: str | None = None) -> None:
    """Answer a button press once (Telegram refuses a second answer to the same press)."""
    query = update.callback_query
    if query is None or query.id in _answered:
        return
    _answered[query.id] = None
    if len(_answered) > 1000:
        _answered.popitem(last=False)
    await query.answer(text)


async def reply(update: Update, text: str, markup=None) -> None:
    """Answer in the chat the update came from (message or button)."""
    await ack(update)
    message = update.effective_message
    if message is not None:
        await message.reply_text(text, reply_markup=markup)
    elif update.effective_chat is not None:
        await update.get_bot().send_message(update.effective_chat.id, text, reply_markup=markup)


async def edit_or_reply(update: Update, text: str, markup=None) -> None:
    """Replace the question a button belonged to, or answer a typed message."""
    query = update.callback_query
    if query is not None:
        await ack(update)
        try:
            await query.edit_message_text(text, reply_markup=markup)
            return
        except BadRequest as exc:  # the message is gone or too old: say it anew
            log.info("could not edit the question: %s", exc.message)
        await reply(update, text, markup)
    else:
        await reply(update, text, markup)


def buttons(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """Inline buttons from rows of (label, callback data)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)
                                  for label, data in row] for row in rows])


def column(pairs: list[tuple[str, str]], width: int = 2) -> InlineKeyboardMarkup:
    """Buttons laid out ``width`` per row."""
    return buttons([pairs[i:i + width] for i in range(0, len(pairs), width)])


def capture_markup(context: BotContext, number: str | None) -> InlineKeyboardMarkup | None:
    """The button that opens the capture page inside Telegram (/m/capture, a Mini App) for
    a case: photos taken there keep their time and place, unlike Telegram's own photo path.
    Telegram opens Mini Apps only over HTTPS, so without an https PUBLIC_URL there is none."""
    base = context.container.settings.public_url
    if not number or not base.startswith("https://"):
        return None
    from urllib.parse import quote

    from telegram import WebAppInfo

    url = f"{base}/m/capture?case={quote(number)}"
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        "📷 拍照取证" if context.lang != "en" else "📷 Take evidence photos",
        web_app=WebAppInfo(url))]])


def active_case(context: BotContext) -> str | None:
    """The id of the case the officer is working on."""
    return (context.user_data or {}).get("case_id")


def set_active_case(context: BotContext, case_id: str, number: str) -> None:
    """Make a case the active one for the next steps."""
    context.user_data["case_id"] = case_id
    context.user_data["case_number"] = number


def callback_arg(update: Update) -> str:
    """The part of a button's data after its prefix."""
    return update.callback_query.data.split(":", 1)[1]
