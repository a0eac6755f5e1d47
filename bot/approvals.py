"""Approval requests (A10.1: officer → unit → head): pushed to whoever takes the next step,
answered with buttons (approve, or return with a reason) through core.cases.records.approve."""

from __future__ import annotations

from sqlalchemy import select
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from core.cases import records as record_service
from core.cases.models import Case, Record
from core.people.access import log_access
from core.people.models import Officer
from core.rules.catalogue import record_type

from .common import BotContext, as_officer, buttons, edit_or_reply, guarded, in_uow, log, reply
from .dialogs import END, ask, dialog
from .texts import t
from .views import next_steps_of, show_value

RETURN_REASON = 0
DRAFT = "draft_return"


def _step_label(step, lang: str) -> str:
    return step.step if lang == "en" else step.label_zh


def _title(rtype, lang: str) -> str:
    return rtype.title_en if lang == "en" else rtype.title_zh


def approval_state(uow, record_id: str) -> dict:
    """Where a record's chain stands: the next step, who can take it, who submitted it."""
    session = uow.session
    record = session.get(Record, record_id)
    rtype = record_type(record.type)
    case = session.get(Case, record.case_id)
    done = record_service.approvals_of(uow, [record.id]).get(record.id, [])
    returned = any(a.decision == "return" for a in done)
    taken = {a.step for a in done if a.decision == "approve"}
    pending = [s for s in rtype.approval_chain if s.step not in taken]
    names = {o.id: o for o in session.execute(
        select(Officer).where(Officer.department_id == case.department_id)).scalars()}
    step = pending[0] if pending and not returned else None
    targets = []
    if step is not None:
        targets = [(o.telegram_user_id, o.lang or "zh", o.name) for o in names.values()
                   if o.active and o.telegram_user_id and step.role in o.roles]
    submitter = names.get(record.created_by)
    return {
        "record": record, "rtype": rtype, "case": case, "step": step, "targets": targets,
        "done": [(a, names.get(a.officer_id)) for a in done],
        "submitter": (submitter.telegram_user_id, submitter.lang or "zh")
        if submitter and submitter.telegram_user_id else None,
    }


def request_text(state: dict, lang: str) -> str:
    """The approval request as its recipient reads it: the form, the steps so far, theirs."""
    rtype, record, case = state["rtype"], state["record"], state["case"]
    lines = [f"{(f.label_zh if lang == 'zh' else f.name)}: "
             f"{show_value(f, record.fields[f.name], lang)}"
             for f in rtype.fields if f.name in record.fields]
    steps = {s.step: s for s in rtype.approval_chain}
    done = "；".join(f"{_step_label(steps[a.step], lang)} {o.name if o else '?'} "
                    f"{'同意' if a.decision == 'approve' else '退回'}"
                    for a, o in state["done"] if a.step in steps) or "—"
    return t(lang, "approval_request", title=_title(rtype, lang), number=case.number,
             case_title=case.title, lines="\n".join(lines), done=done,
             step=_step_label(state["step"], lang))


async def _send(context: BotContext, chat_id: int, text: str, markup=None) -> bool:
    try:
        await context.bot.send_message(chat_id, text, reply_markup=markup)
        return True
    except TelegramError as exc:  # a blocked bot or a deleted account must not undo the step
        log.warning("could not reach chat %s: %s", chat_id, type(exc).__name__)
        return False


async def push_request(context: BotContext, record_id: str, *, notify_submitter: bool) -> None:
    """Send the next step's request to everyone bound who holds its role."""
    lang = context.lang
    state = await in_uow(context.container, approval_state, record_id)
    step = state["step"]
    if step is None:
        return
    reached = []
    for chat_id, their_lang, name in state["targets"]:
        markup = buttons([[(t(their_lang, "approve"), f"ap:{record_id}:a"),
                           (t(their_lang, "return"), f"ap:{record_id}:r")]])
        if await _send(context, chat_id, request_text(state, their_lang), markup):
            reached.append(name)
    if not notify_submitter:
        return
    if reached:
        sep = ", " if lang == "en" else "、"
        await _tell_submitter(context, state, t(lang, "approval_sent", names=sep.join(reached)))
    else:
        from .texts import role_names

        await _tell_submitter(context, state, t(lang, "approval_nobody",
                                                role=role_names([step.role], lang)))


async def _tell_submitter(context: BotContext, state: dict, text: str) -> None:
    if state["submitter"] is not None:
        await _send(context, state["submitter"][0], text)


async def _decide(context: BotContext, record_id: str, decision: str, opinion: str) -> dict:
    """Take the step through core.cases.records.approve; return the chain's state afterwards."""
    def run(uow, actor):
        record = uow.session.get(Record, record_id)
        if record is None:
            from core.kernel.errors import NotFound

            raise NotFound(f"record {record_id} not found")
        approval = record_service.approve(uow, actor, record.case_id, record_id,
                                          {"decision": decision, "opinion": opinion})
        log_access(uow.session, actor, "approve", "record", record_id, channel="telegram")
        state = approval_state(uow, record_id)
        steps = {s.step: s for s in state["rtype"].approval_chain}
        state["taken"] = steps[approval.step]
        sub_lang = state["submitter"][1] if state["submitter"] else "zh"
        state["next_steps"] = next_steps_of(uow, state["case"], sub_lang)
        return state

    return await as_officer(context, run)


@guarded
async def approve_button(update: Update, context: BotContext) -> None:
    """✅: approve this step, then push the next step or tell the submitter it is done."""
    record_id = update.callback_query.data.split(":")[1]
    lang = context.lang
    state = await _decide(context, record_id, "approve", "同意" if lang == "zh" else "approved")
    rtype, case, taken = state["rtype"], state["case"], state["taken"]
    await edit_or_reply(update, t(lang, "approved_by_me", step=_step_label(taken, lang),
                                  title=_title(rtype, lang), number=case.number))
    sub_lang = state["submitter"][1] if state["submitter"] else "zh"
    if state["step"] is not None:
        await _tell_submitter(context, state, t(
            sub_lang, "approval_progress", title=_title(rtype, sub_lang), number=case.number,
            who=context.me.name, step=_step_label(taken, sub_lang)))
        await push_request(context, record_id, notify_submitter=False)
    else:
        await _tell_submitter(context, state, t(sub_lang, "approval_complete",
                                                title=_title(rtype, sub_lang),
                                                number=case.number) + "\n" + state["next_steps"])


async def return_start(update: Update, context: BotContext) -> int:
    """↩: ask the reason for returning the record."""
    context.user_data[DRAFT] = update.callback_query.data.split(":")[1]
    await ask(update, t(context.lang, "return_reason"))
    return RETURN_REASON


@guarded
async def return_reason(update: Update, context: BotContext) -> int:
    """Return the record with the typed reason; tell the submitter."""
    record_id = context.user_data.get(DRAFT)
    reason = update.message.text.strip()
    lang = context.lang
    state = await _decide(context, record_id, "return", reason)
    context.user_data.pop(DRAFT, None)
    rtype, case, taken = state["rtype"], state["case"], state["taken"]
    await reply(update, t(lang, "returned_by_me", step=_step_label(taken, lang),
                          title=_title(rtype, lang), number=case.number, reason=reason))
    sub_lang = state["submitter"][1] if state["submitter"] else "zh"
    await _tell_submitter(context, state, t(sub_lang, "approval_returned",
                                            title=_title(rtype, sub_lang), number=case.number,
                                            who=context.me.name,
                                            step=_step_label(taken, sub_lang), reason=reason))
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
