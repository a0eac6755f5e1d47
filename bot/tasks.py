"""/tasks: the open deadlines of the officer's cases, overdue first; and the "open the case"
button that reminders carry (callback data ``oc:<case id>``)."""

from __future__ import annotations

from datetime import datetime

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from core.deadlines.tracking import open_deadlines

from .common import BotContext, as_officer, buttons, callback_arg, guarded, reply
from .texts import t

MAX_SHOWN = 15


@guarded
async def tasks_command(update: Update, context: BotContext) -> None:
    """/tasks: my deadlines, overdue first, each with a button to open its case."""
    lang = context.lang
    found = await as_officer(context, lambda uow, actor: open_deadlines(
        uow, actor, channel="telegram"))
    if not found:
        await reply(update, t(lang, "tasks_none"))
        return
    lines, rows, seen = [t(lang, "tasks_head")], [], set()
    for d in found[:MAX_SHOWN]:
        due = datetime.fromisoformat(d["due_at"]).strftime("%m-%d %H:%M")
        title = (d.get("title_zh") if lang == "zh" else d.get("title")) or d["rule_id"]
        lines.append(t(lang, "tasks_line", mark="🔴" if d["overdue"] else "⏳", due=due,
                       number=d["case_number"], rule=d["rule_id"], title=title))
        if d["case_id"] not in seen:
            seen.add(d["case_id"])
            rows.append([(f"{t(lang, 'open_case')} {d['case_number']}", f"oc:{d['case_id']}")])
    await reply(update, "\n".join(lines), buttons(rows[:8]))


@guarded
async def open_case_button(update: Update, context: BotContext) -> None:
    """A reminder's or task's button: make that case the active one."""
    from .cases import _activate

    await _activate(update, context, callback_arg(update))


def handlers(persistent: bool) -> list:
    """/tasks and the open-case button."""
    return [CommandHandler("tasks", tasks_command),
            CallbackQueryHandler(open_case_button, pattern=r"^oc:[0-9a-f]{32}$")]
