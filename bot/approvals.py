"""Approvals (A10.1: officer → unit → head), answered with buttons (approve, or return with a
reason) through core.cases.records.approve. The requests and the submitter's news are queued
in the outbox by core (core.notices.approvals), whichever front took the step."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from core.cases import records
from core.cases.commands import Decide
from core.cases.records import ChainState

from .common import BotContext, as_officer, edit_or_reply, guarded, reply
from .dialogs import END, ask, dialog
from .texts import role_names, t

RETURN_REASON = 0
DRAFT = "draft_return"


def _title(chain: ChainState, lang: str) -> str:
    return chain.rtype.title_en if lang == "en" else chain.rtype.title_zh


def _step_label(chain: ChainState, step: str, lang: str) -> str:
    found = next((s for s in chain.rtype.approval_chain if s.step == step), None)
    return step if found is None or lang == "en" else found.label_zh


def submitted_text(chain: ChainState, lang: str) -> str:
    """What the submitter hears at once: who was asked for the next step, or that nobody
    holds its role (core.notices.approvals sends them the request)."""
    if chain.next_step is None:
        return ""
    if chain.candidates:
        sep = ", " if lang == "en" else "、"
        return t(lang, "approval_sent", names=sep.join(o.name for o in chain.candidates))
    return t(lang, "approval_nobody", role=role_names([chain.next_step.role], lang))


async def _decide(context: BotContext, record_id: str, decision: str, opinion: str):
    """Take the step through core.cases.records.approve."""
    def run(uow, actor):
        record = records.approval_state(uow, actor, record_id, channel="telegram").record
        return records.approve(uow, actor, record.case_id, record.id,
                               Decide(decision, opinion))

    return await as_officer(context, run)


@guarded
async def approve_button(update: Update, context: BotContext) -> None:
    """✅: approve this step; core tells the next approver and the submitter."""
    record_id = update.callback_query.data.split(":")[1]
    lang = context.lang
    taken = await _decide(context, record_id, "approve", "同意" if lang == "zh" else "approved")
    chain = taken.chain
    await edit_or_reply(update, t(lang, "approved_by_me",
                                  step=_step_label(chain, taken.approval.step, lang),
                                  title=_title(chain, lang), number=chain.case.number))


async def return_start(update: Update, context: BotContext) -> int:
    """↩: ask the reason for returning the record."""
    context.user_data[DRAFT] = update.callback_query.data.split(":")[1]
    await ask(update, t(context.lang, "return_reason"))
    return RETURN_REASON


@guarded
async def return_reason(update: Update, context: BotContext) -> int:
    """Return the record with the typed reason; core tells the submitter."""
    record_id = context.user_data.get(DRAFT)
    reason = update.message.text.strip()
    lang = context.lang
    taken = await _decide(context, record_id, "return", reason)
    context.user_data.pop(DRAFT, None)
    chain = taken.chain
    await reply(update, t(lang, "returned_by_me",
                          step=_step_label(chain, taken.approval.step, lang),
                          title=_title(chain, lang), number=chain.case.number, reason=reason))
    return END


def handlers(persistent: bool) -> list:
    """Approve buttons and the return-with-reason dialog."""
    return [
        CallbackQueryHandler(approve_button, pattern=r"^ap:[0-9a-f]{32}:a$"),
        dialog("approval_return",
               [CallbackQueryHandler(return_start, pattern=r"^ap:[0-9a-f]{32}:r$")],
               {RETURN_REASON: [MessageHandler(filters.TEXT & ~filters.COMMAND, return_reason)]},
               persistent=persistent),
    ]
