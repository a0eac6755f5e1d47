"""/web: a one-time link that signs the officer in to the web desk (issue 14), from
core.people.web_sessions; the token rides in the link's fragment."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from core.people import web_sessions

from .common import BotContext, as_officer, guarded, reply
from .texts import t


@guarded
async def web_command(update: Update, context: BotContext) -> None:
    """/web: send a sign-in link for the desk, valid for minutes and for one use."""
    link = await as_officer(context, lambda uow, actor: web_sessions.issue_link(
        uow, actor.id, channel="telegram"))
    minutes = int(web_sessions.LINK_TTL.total_seconds() // 60)
    await reply(update, t(context.lang, "web_link", minutes=minutes, url=link.url))


def handlers(persistent: bool) -> list:
    """/web."""
    return [CommandHandler("web", web_command)]
