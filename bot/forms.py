"""/record: a form generated from the record-type catalogue, one field per message, a summary
to confirm, then core.cases.records.add_record."""

from __future__ import annotations

import re
from datetime import date, datetime

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from core.cases import lifecycle as case_service
from core.cases import recordings
from core.cases import records as record_service
from core.cases.commands import AddRecord
from core.evidence import receipt_tasks
from core.kernel.clock import utcnow
from core.kernel.errors import GateRefused, Invalid
from core.kernel.vocab import stage_index
from core.people import officers
from core.rules.catalogue import CATALOGUE, Field, RecordType, record_type, validate_fields

from . import approvals
from .common import (
    BotContext,
    active_case,
    as_officer,
    buttons,
    callback_arg,
    guarded,
    reply,
)
from .dialogs import END, ask, cancel_button, dialog
from .texts import choice_name, t
from .views import next_steps_of, party_text, show_value

PICK_TYPE, PICK_OFFICERS, FIELD, CONFIRM = range(4)
DRAFT = "draft_record"
LIST_SPLIT = re.compile(r"[\n;；、,，]+")
DATETIME_TEXT = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?[ T]*(\d{1,2})[:：时](\d{2})分?")
# Form fields about the party default to the case's party (defaults filled in from the case).
PARTY_FIELDS = {"party_info", "party", "party_name", "applicant", "served_to", "recipient_name"}


def applicable_types(case) -> list[RecordType]:
    """Catalogue types core.cases.records would accept on this case now."""
    # check_applicable is the rule add_record applies; asking it keeps the menu and the
    # service in agreement.
    out = []
    for rtype in CATALOGUE:
        if getattr(rtype, "system_only", False):
            continue
        try:
            record_service.check_applicable(rtype, case)
        except GateRefused:
            continue
        out.append(rtype)
    return out


def _title(rtype: RecordType, lang: str) -> str:
    return rtype.title_en if lang == "en" else rtype.title_zh


def _label(f: Field, lang: str) -> str:
    return f.name.replace("_", " ") if lang == "en" else f.label_zh


@guarded
async def record_start(update: Update, context: BotContext) -> int:
    """/record: offer the record types the active case allows, its current stage first."""
    return await _start(update, context)


@guarded
async def serve_start(update: Update, context: BotContext) -> int:
    """/serve: the service records (A23.1–A28.1), each with its method's own fields."""
    return await _start(update, context, only=lambda r: bool(r.service_method))


@guarded
async def interrupt_start(update: Update, context: BotContext) -> int:
    """/interrupt: record that AV recording stopped, and why (A17.2)."""
    return await _start(update, context, preselect="av_interruption")


async def _start(update: Update, context: BotContext, only=None, preselect: str | None = None
                 ) -> int:
    case_id = active_case(context)
    lang = context.lang
    if case_id is None:
        await reply(update, t(lang, "no_case"))
        return END

    def load(uow, actor):
        view = case_service.case_view(uow, actor, case_id, channel="telegram")
        case = view.case
        types = [(r.name, r.stage) for r in applicable_types(case) if only is None or only(r)]
        records = [(r.id, r.type, r.created_at.astimezone(uow.settings.legal_tz)
                    .strftime("%m-%d %H:%M"))
                   for r in record_service.list_records(uow, actor, case_id)]
        return case.number, case.stage, types, party_text(view.party), records

    number, stage, types, party, records = await as_officer(context, load)
    context.user_data[DRAFT] = {"case_id": case_id, "number": number, "party": party,
                                "types": types, "records": records}
    current = [n for n, s in types if s == stage]
    if preselect is not None:
        if preselect not in [n for n, _ in types]:
            await reply(update, t(lang, "record_none"))
            return END
        return await _chosen(update, context, record_type(preselect))
    if not types:
        await reply(update, t(lang, "serve_none" if only else "record_none"))
        return END
    await reply(update, t(lang, "record_pick", number=number), _type_buttons(
        current or [n for n, _ in types], lang, more=bool(current) and len(current) < len(types)))
    return PICK_TYPE


def _type_buttons(names: list[str], lang: str, more: bool):
    pairs = [(_title(record_type(n), lang), f"rt:{n}") for n in names]
    rows = [[p] for p in pairs]
    if more:
        rows.append([(t(lang, "record_more"), "rt:*")])
    return buttons(rows)


async def record_more(update: Update, context: BotContext) -> int:
    """Show every applicable type, earlier stages included."""
    draft = context.user_data[DRAFT]
    names = [n for n, _ in sorted(draft["types"], key=lambda p: stage_index(p[1]))]
    await ask(update, t(context.lang, "record_pick", number=draft["number"]),
              _type_buttons(names, context.lang, more=False))
    return PICK_TYPE


async def record_type_chosen(update: Update, context: BotContext) -> int:
    """Keep the type; field records first ask who else is present (A14.1)."""
    return await _chosen(update, context, record_type(callback_arg(update)))


async def _chosen(update: Update, context: BotContext, rtype: RecordType) -> int:
    draft = context.user_data[DRAFT]
    draft.update(type=rtype.name, fields={}, i=0, officers=[context.me.id])
    if rtype.field_record:
        return await _ask_officers(update, context)
    return await _ask_field(update, context)


async def _ask_officers(update: Update, context: BotContext) -> int:
    draft = context.user_data[DRAFT]
    me = context.me

    def colleagues(uow, actor):
        return [(o.id, o.name, o.certificate_no or "")
                for o in officers.colleagues(uow.session, actor, certified_only=True)]

    draft["colleagues"] = await as_officer(context, colleagues)
    rtype = record_type(draft["type"])
    if not draft["colleagues"]:
        await ask(update, t(me.lang, "record_officers_none"))
        return await _ask_field(update, context)
    await ask(update, t(me.lang, "record_officers", title=_title(rtype, me.lang)),
              _officer_buttons(draft, me.lang))
    return PICK_OFFICERS


def _officer_buttons(draft: dict, lang: str):
    pairs = [(("✓ " if oid in draft["officers"] else "") + f"{name} {cert}", f"ro:{oid}")
             for oid, name, cert in draft["colleagues"]]
    return buttons([[p] for p in pairs] + [[(t(lang, "done"), "ro:done")]])


async def record_officer_toggle(update: Update, context: BotContext) -> int:
    """Add or remove a colleague on the record."""
    draft = context.user_data[DRAFT]
    oid = callback_arg(update)
    if oid in draft["officers"]:
        draft["officers"].remove(oid)
    else:
        draft["officers"].append(oid)
    from .common import ack

    await ack(update)
    await update.callback_query.edit_message_reply_markup(_officer_buttons(draft, context.lang))
    return PICK_OFFICERS


@guarded
async def record_officers_done(update: Update, context: BotContext) -> int:
    """Officers chosen: A14.1 is checked now (two certified officers on a field record), not
    after the last answer; then the fields."""
    draft = context.user_data[DRAFT]
    await as_officer(context, lambda uow, actor: record_service.check_officers(
        uow, actor, draft["type"], tuple(draft["officers"])))
    return await _ask_field(update, context)


def _field_buttons(f: Field, draft: dict, lang: str):
    rows: list[list[tuple[str, str]]] = []
    if f.type == "enum":
        rows += [[(choice_name(c, lang, f.name), f"rf:c{i}")] for i, c in enumerate(f.choices)]
    elif f.type == "bool":
        rows.append([(t(lang, "yes"), "rf:b1"), (t(lang, "no"), "rf:b0")])
    elif f.type == "date":
        rows.append([(t(lang, "today"), "rf:today")])
    elif f.type == "datetime":
        rows.append([(t(lang, "now"), "rf:now")])
    for i, (_rid, rtype_name, when) in enumerate(draft.get("records", [])):
        if rtype_name in reference_types(f.name):
            rows.append([(f"{_title(record_type(rtype_name), lang)} {when}", f"rf:r{i}")])
    default = _default(f, draft)
    if default:
        rows.append([(default[:40], "rf:def")])
    if not (f.required or _condition(f, draft["fields"]) is True):
        rows.append([(t(lang, "skip"), "rf:skip")])
    return buttons(rows) if rows else None


def reference_types(field_name: str) -> tuple[str, ...]:
    """Record types a field may point at (record_hooks.REFERENCES), newest records offered."""
    try:
        from core.cases.record_hooks import REFERENCES
    except ImportError:
        return ()
    return REFERENCES.get(field_name, ())


def _default(f: Field, draft: dict) -> str | None:
    if f.type in ("string", "text") and f.name in PARTY_FIELDS and draft.get("party"):
        return draft["party"]
    return None


def asked_fields(rtype: RecordType) -> list[Field]:
    """The fields a person answers: everything but what the system fills in."""
    return [f for f in rtype.fields if not getattr(f, "auto", False)]


def _condition(f: Field, answers: dict) -> bool | None:
    """None: unconditional; True/False: whether a ``required_if`` field is required now."""
    cond = getattr(f, "required_if", None)
    if not cond:
        return None
    return answers.get(cond[0]) == cond[1]


def _current(draft: dict) -> Field:
    return asked_fields(record_type(draft["type"]))[draft["i"]]


async def _ask_field(update: Update, context: BotContext) -> int:
    draft = context.user_data[DRAFT]
    rtype = record_type(draft["type"])
    fields = asked_fields(rtype)
    # A field required only when another answer holds is not asked when it does not.
    while draft["i"] < len(fields) and _condition(fields[draft["i"]], draft["fields"]) is False:
        draft["i"] += 1
    if draft["i"] >= len(fields):
        return await _summary(update, context)
    f = fields[draft["i"]]
    lang = context.lang
    hint = {"int": "hint_int", "list": "hint_list", "date": "hint_date",
            "datetime": "hint_datetime", "enum": "hint_choice", "bool": "hint_choice"
            }.get(f.type, "hint_text")
    required = f.required or _condition(f, draft["fields"]) is True
    text = t(lang, "field_ask", title=_title(rtype, lang), i=draft["i"] + 1,
             n=len(fields), label=_label(f, lang),
             optional="" if required else t(lang, "optional"), hint=t(lang, hint))
    await ask(update, text, _field_buttons(f, draft, lang))
    return FIELD


def parse_answer(f: Field, text: str, tz) -> object:
    """Turn a typed answer into the value the field's type takes (ValueError if it cannot)."""
    text = text.strip()
    if f.type == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError("must be a whole number") from None
    if f.type == "bool":
        if text.lower() in ("是", "yes", "y", "true", "1"):
            return True
        if text.lower() in ("否", "no", "n", "false", "0"):
            return False
        raise ValueError("must be true or false")
    if f.type == "list":
        return [p.strip() for p in LIST_SPLIT.split(text) if p.strip()]
    if f.type == "enum":
        for c in f.choices:
            if text in (c, choice_name(c, "zh", f.name), choice_name(c, "en", f.name)):
                return c
        return text
    if f.type == "date":
        m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
        if not m:
            raise ValueError("must be a date YYYY-MM-DD")
        return date(*map(int, m.groups())).isoformat()
    if f.type == "datetime":
        m = DATETIME_TEXT.fullmatch(text)
        if m:
            return datetime(*map(int, m.groups()), tzinfo=tz).isoformat()
        return text  # an ISO 8601 time with its offset; the catalogue decides
    return text


async def record_field_text(update: Update, context: BotContext) -> int:
    """A typed answer to the current field."""
    draft = context.user_data[DRAFT]
    f = _current(draft)
    try:
        value = parse_answer(f, update.message.text, context.container.settings.legal_tz)
    except ValueError as exc:
        await reply(update, t(context.lang, "field_bad", label=_label(f, context.lang),
                              problem=problem_text(str(exc), context.lang)))
        return FIELD
    return await _keep(update, context, f, value)


async def record_field_button(update: Update, context: BotContext) -> int:
    """A button answer to the current field (choice, yes/no, today, now, default, skip)."""
    draft = context.user_data[DRAFT]
    f = _current(draft)
    arg = callback_arg(update)
    tz = context.container.settings.legal_tz
    if arg == "skip" and not (f.required or _condition(f, draft["fields"]) is True):
        draft["i"] += 1
        return await _ask_field(update, context)
    if arg.startswith("c") and f.type == "enum" and arg[1:].isdigit() and \
            int(arg[1:]) < len(f.choices):
        value: object = f.choices[int(arg[1:])]
    elif arg in ("b1", "b0"):
        value = arg == "b1"
    elif arg == "today":
        value = utcnow().astimezone(tz).date().isoformat()
    elif arg == "now":
        value = utcnow().astimezone(tz).replace(microsecond=0).isoformat()
    elif arg == "def":
        value = _default(f, draft)
    elif arg.startswith("r") and arg[1:].isdigit() and int(arg[1:]) < len(draft["records"]):
        value = draft["records"][int(arg[1:])][0]
    else:  # forged, or a button of an earlier question
        await reply(update, t(context.lang, "stale_button"))
        return FIELD
    return await _keep(update, context, f, value)


async def _keep(update: Update, context: BotContext, f: Field, value: object) -> int:
    """Check one answer against the catalogue, keep it and ask the next field."""
    draft = context.user_data[DRAFT]
    rtype = record_type(draft["type"])
    try:
        validate_fields(rtype, {f.name: value})
    except Invalid as exc:
        problem = (exc.details.get("fields") or {}).get(f.name)
        if problem:
            await reply(update, t(context.lang, "field_bad", label=_label(f, context.lang),
                                  problem=problem_text(problem, context.lang)))
            return FIELD
    draft["fields"][f.name] = value
    draft["i"] += 1
    return await _ask_field(update, context)


PROBLEMS_ZH = (
    (re.compile(r"^longer than (\d+) characters"), "超过 {0} 个字"),
    (re.compile(r"^must be a whole number"), "须为整数"),
    (re.compile(r"^must be true or false"), "须为“是”或“否”"),
    (re.compile(r"^must be one of"), "须从选项中选择"),
    (re.compile(r"^must be a list"), "须为若干项文字"),
    (re.compile(r"^must be a date"), "日期格式须为 2026-11-26"),
    (re.compile(r"^must (be an ISO 8601 datetime|carry a time zone)"),
     "时间格式须为 2026-11-26 09:30"),
    (re.compile(r"^must be a string"), "须为文字"),
    (re.compile(r"^required"), "必填"),
)


def problem_text(problem: str, lang: str) -> str:
    """The catalogue's complaint about one answer, in the user's language."""
    if lang == "en":
        return problem
    for pattern, zh in PROBLEMS_ZH:
        if m := pattern.match(problem):
            return zh.format(*m.groups())
    return problem


async def _summary(update: Update, context: BotContext) -> int:
    draft = context.user_data[DRAFT]
    rtype = record_type(draft["type"])
    lang = context.lang
    lines = [f"{_label(f, lang)}: {show_value(f, draft['fields'][f.name], lang)}"
             for f in rtype.fields if f.name in draft["fields"]]
    if len(draft["officers"]) > 1:
        names = [name for oid, name, _ in draft.get("colleagues", []) if oid in draft["officers"]]
        lines.append(("同行人员" if lang == "zh" else "With") + ": " + "、".join(names))
    await ask(update, t(lang, "record_summary", title=_title(rtype, lang), lines="\n".join(lines)),
              buttons([[(t(lang, "confirm"), "rc:ok"), (t(lang, "cancel"), "rc:no")]]))
    return CONFIRM


@guarded
async def record_confirm(update: Update, context: BotContext) -> int:
    """Record it through records.add_record; push an approval request if it has a chain."""
    draft = context.user_data[DRAFT]
    lang = context.lang
    rtype = record_type(draft["type"])
    cmd = AddRecord(type=rtype.name, fields=draft["fields"], officers=tuple(draft["officers"]))

    def add(uow, actor):
        added = record_service.add_record(uow, actor, draft["case_id"], cmd)
        case = case_service.get_case(uow, actor, draft["case_id"], channel="telegram")
        chain = approvals.submitted_text(added.chain, lang) if added.chain else ""
        receipt = receipt_tasks.queued_notice(uow.session, added.record.id) is not None
        return (added.record.id, dict(added.record.fields), next_steps_of(uow, case, lang),
                chain, added.complaint_ticket, receipt)

    record_id, saved, nxt, chain, ticket, receipt = await as_officer(context, add)
    context.user_data.pop(DRAFT, None)
    lines = [t(lang, "record_saved", title=_title(rtype, lang), number=draft["number"])]
    if ticket:
        # A11.1: the complainant's tracking number and code, shown to the officer once.
        lines.append(t(lang, "complaint_ticket", number=ticket["tracking_no"],
                       code=ticket["code"]))
    if saved.get("served_at"):  # computed by the service rules (N18–N20)
        at = datetime.fromisoformat(saved["served_at"]).astimezone(
            context.container.settings.legal_tz).strftime("%Y-%m-%d %H:%M")
        lines.append(t(lang, "served_at", at=at, rule=saved.get("served_rule", "")))
    if receipt:  # the draft 送达回证, drawn after the commit (issue 12)
        lines.append(t(lang, "receipt_preparing"))
    if rtype.av_required:
        # The next file of the media this record asks for is linked to it (A15.1, A26.1):
        # a recording when it takes one (bot.evidence.av_media), never a photo meanwhile.
        now = utcnow().astimezone(context.container.settings.legal_tz).strftime("%H:%M")
        context.user_data["av_for"] = {"record_id": record_id, "media": list(rtype.av_media),
                                       "case_id": draft["case_id"],
                                       "label": f"{_title(rtype, lang)}（{now}）"}
        moving = any(m in ("video/", "audio/") for m in rtype.av_media)
        lines.append(t(lang, "av_next" if moving else "av_next_photo", rule=rtype.av_rule))
    lines.append(nxt)
    await ask(update, "\n".join(lines))
    if chain:
        await reply(update, chain)
    return END


RESUME = 10


@guarded
async def resume_start(update: Update, context: BotContext) -> int:
    """/resume: AV recording restarts after an interruption; ask about the voice note (A17.2)."""
    case_id = active_case(context)
    lang = context.lang
    if case_id is None:
        await reply(update, t(lang, "no_case"))
        return END
    record_id = await as_officer(context, lambda uow, actor: recordings.open_interruption(
        uow, actor, case_id, channel="telegram"))
    if record_id is None:
        await reply(update, t(lang, "resume_none"))
        return END
    context.user_data["draft_resume"] = {"case_id": case_id, "record_id": record_id,
                                         "at": utcnow().isoformat()}
    await reply(update, t(lang, "resume_voice"),
                buttons([[(t(lang, "yes"), "rs:1"), (t(lang, "no"), "rs:0")]]))
    return RESUME


@guarded
async def resume_voice(update: Update, context: BotContext) -> int:
    """Record the resumption through core (A17.2): the interruption, corrected append-only."""
    draft = context.user_data["draft_resume"]
    lang = context.lang
    explained = callback_arg(update) == "1"
    cmd = recordings.Resume(interruption_id=draft["record_id"], voice_explained=explained,
                            resumed_at=datetime.fromisoformat(draft["at"]))

    def add(uow, actor):
        recordings.resume_recording(uow, actor, draft["case_id"], cmd)
        case = case_service.get_case(uow, actor, draft["case_id"], channel="telegram")
        return next_steps_of(uow, case, lang)

    nxt = await as_officer(context, add)
    context.user_data.pop("draft_resume", None)
    key = "resume_saved" if explained else "resume_saved_no_voice"
    await ask(update, t(lang, key) + "\n" + nxt)
    return END


def resume_dialog(persistent: bool):
    """The /resume dialog."""
    return dialog("resume", [CommandHandler("resume", resume_start)], {
        RESUME: [CallbackQueryHandler(resume_voice, pattern=r"^rs:[01]$")],
    }, persistent=persistent)


# ----- the 立案审批表 prefilled from the case (issue 16: fewer taps) -----

PREFILL = "filing_prefill"
DEFAULT_OPINION = ("建议立案调查", "Recommend opening an investigation")


async def offer_filing_form(update: Update, context: BotContext, case_id: str) -> None:
    """Show the 立案审批表 filled in from the case (reason = the subject, the party, the usual
    opinion) with one button to record it, or to go through the fields."""
    lang = context.lang

    def load(uow, actor):
        view = case_service.case_view(uow, actor, case_id, channel="telegram")
        return view.case.title, party_text(view.party)

    title, party = await as_officer(context, load)
    fields = {"reason": title, "party_info": party or ("待调查确定" if lang != "en" else
                                                      "to be established"),
              "officer_opinion": DEFAULT_OPINION[1 if lang == "en" else 0]}
    context.user_data[PREFILL] = {"case_id": case_id, "fields": fields}
    rtype = record_type("filing_form")
    lines = "\n".join(f"{_label(f, lang)}: {fields[f.name]}" for f in rtype.fields
                      if f.name in fields)
    await reply(update, t(lang, "filing_prefilled", lines=lines), buttons([
        [(t(lang, "confirm"), "fq:ok"), (t(lang, "filing_edit"), "fq:edit")]]))


@guarded
async def filing_prefilled_confirm(update: Update, context: BotContext) -> None:
    """Record the prefilled 立案审批表; core asks the approvers (A10.1)."""
    lang = context.lang
    kept = context.user_data.get(PREFILL)
    if not kept:
        await ask(update, t(lang, "stale_button"))
        return
    rtype = record_type("filing_form")
    cmd = AddRecord(type=rtype.name, fields=dict(kept["fields"]), officers=(context.me.id,))

    def add(uow, actor):
        added = record_service.add_record(uow, actor, kept["case_id"], cmd)
        case = case_service.get_case(uow, actor, kept["case_id"], channel="telegram")
        chain = approvals.submitted_text(added.chain, lang) if added.chain else ""
        return case.number, next_steps_of(uow, case, lang), chain

    number, nxt, chain = await as_officer(context, add)
    context.user_data.pop(PREFILL, None)
    await ask(update, t(lang, "record_saved", title=_title(rtype, lang), number=number) + "\n"
              + nxt)
    if chain:
        await reply(update, chain)


@guarded
async def filing_prefilled_edit(update: Update, context: BotContext) -> int:
    """Go through the 立案审批表's fields one by one instead."""
    context.user_data.pop(PREFILL, None)
    return await _start(update, context, preselect="filing_form")


def record_dialog(persistent: bool):
    """The /record dialog."""
    text = filters.TEXT & ~filters.COMMAND
    return dialog("record", [CommandHandler("record", record_start),
                             CommandHandler("serve", serve_start),
                             CommandHandler("interrupt", interrupt_start),
                             CallbackQueryHandler(filing_prefilled_edit, pattern=r"^fq:edit$")], {
        PICK_TYPE: [CallbackQueryHandler(record_more, pattern=r"^rt:\*$"),
                    CallbackQueryHandler(record_type_chosen, pattern=r"^rt:[a-z_]+$")],
        PICK_OFFICERS: [CallbackQueryHandler(record_officers_done, pattern=r"^ro:done$"),
                        CallbackQueryHandler(record_officer_toggle, pattern=r"^ro:[0-9a-f]{32}$")],
        FIELD: [MessageHandler(text, record_field_text),
                CallbackQueryHandler(record_field_button, pattern=r"^rf:")],
        CONFIRM: [CallbackQueryHandler(record_confirm, pattern=r"^rc:ok$"),
                  CallbackQueryHandler(cancel_button, pattern=r"^rc:no$")],
    }, persistent=persistent)


def handlers(persistent: bool) -> list:
    """/record (with /serve and /interrupt) and /resume."""
    return [record_dialog(persistent), resume_dialog(persistent),
            CallbackQueryHandler(filing_prefilled_confirm, pattern=r"^fq:ok$")]

