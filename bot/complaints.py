"""Complainants (A11.1): /complain (what, where, photos, contact) into the intake queue,
/confirm (the contact's one-time code) and /status (tracking number + code, through
core.complaints.tickets.checked_status, rate-limited); supervisors accept or reject queued
complaints with the alert's buttons or /intake (core.complaints.intake)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from core.complaints import intake
from core.complaints.public import NoIntakeDepartment, PublicComplaint, submit_public
from core.complaints.tickets import checked_status
from core.kernel.errors import Invalid, NotFound, RateLimited

from .common import BotContext, as_officer, buttons, edit_or_reply, guarded, in_uow, log, reply
from .dialogs import END, ask, cancel_button, dialog
from .evidence import describe, keep_file
from .texts import size_text, t

WHAT, WHERE, PHOTOS, CONTACT, CONFIRM = range(5)
ST_NUMBER, ST_CODE = range(5, 7)
REJECT_REASON = 7
DRAFT = "draft_complaint"
STAFF_ROLES = ("supervisor",)  # who receives a complaint sent to the bot


async def complain_start(update: Update, context: BotContext) -> int:
    """/complain: ask what the problem is."""
    context.user_data[DRAFT] = {"photos": []}
    await reply(update, t(context.lang, "cp_what"))
    return WHAT


async def complain_what(update: Update, context: BotContext) -> int:
    """Keep the description; ask where."""
    context.user_data[DRAFT]["what"] = update.message.text.strip()
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(t(context.lang, "send_location"), request_location=True)]],
        resize_keyboard=True, one_time_keyboard=True)
    await reply(update, t(context.lang, "cp_where"), keyboard)
    return WHERE


async def complain_where(update: Update, context: BotContext) -> int:
    """Keep the place (location or text); ask for photos."""
    draft = context.user_data[DRAFT]
    message = update.message
    if message.location is not None:
        loc = message.location
        draft["where"] = f"{loc.latitude:.6f}, {loc.longitude:.6f}"
        draft["lat"], draft["lon"] = loc.latitude, loc.longitude
    else:
        draft["where"] = message.text.strip()
    await message.reply_text(t(context.lang, "cp_where_kept"), reply_markup=ReplyKeyboardRemove())
    await reply(update, t(context.lang, "cp_photos"),
                buttons([[(t(context.lang, "done"), "cq:done")]]))
    return PHOTOS


async def complain_photo(update: Update, context: BotContext) -> int:
    """Keep a photo or file in the blob store; on submission it becomes evidence of the
    complaint (core.complaints.public), never only a mention."""
    draft = context.user_data[DRAFT]
    item = describe(update.effective_message)
    lang = context.lang
    if item is None:
        return PHOTOS
    if item["size"] and item["size"] > context.application.download_limit:
        await reply(update, t(lang, "cp_photo_too_big", size=size_text(item["size"])))
        return PHOTOS
    try:
        tg_file = await context.bot.get_file(item["file_id"])
    except BadRequest:
        await reply(update, t(lang, "cp_photo_too_big", size=size_text(item["size"])))
        return PHOTOS
    path = context.container.blobs.tmp_dir / f"complaint_{uuid.uuid4().hex}"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        await tg_file.download_to_drive(path)
        sha = await asyncio.to_thread(keep_file, context, path)
    finally:
        path.unlink(missing_ok=True)
    draft["photos"].append({"sha256": sha, "filename": item["filename"],
                            "mime": item.get("mime") or "image/jpeg"})
    await reply(update, t(lang, "cp_photo_ok", n=len(draft["photos"])))
    return PHOTOS


async def complain_photos_done(update: Update, context: BotContext) -> int:
    """No more photos: ask for a contact."""
    lang = context.lang
    await ask(update, t(lang, "cp_contact"), buttons([[(t(lang, "cp_by_telegram"), "cq:tg")]]))
    return CONTACT


async def complain_contact(update: Update, context: BotContext) -> int:
    """Keep the contact (typed, or this Telegram chat); show the summary."""
    draft = context.user_data[DRAFT]
    if update.callback_query is not None:
        draft["contact"] = f"tg:{update.effective_chat.id}"
    else:
        draft["contact"] = update.message.text.strip()
    lang = context.lang
    await ask(update, t(lang, "cp_summary", what=draft["what"], where=draft["where"],
                        photos=len(draft["photos"]), contact=draft["contact"]),
              buttons([[(t(lang, "confirm"), "cq:ok"), (t(lang, "cancel"), "cq:no")]]))
    return CONFIRM


async def complain_confirm(update: Update, context: BotContext) -> int:
    """Submit through core.complaints.public; without a department that takes complaints, say so."""
    draft = context.user_data.pop(DRAFT)
    lang = context.lang
    data = {**draft, "channel": "telegram", "telegram_user_id": update.effective_user.id}
    try:
        # The chat that files it is the one Telegram contact that needs no confirmation.
        cmd = replace(PublicComplaint.parse(data), telegram_chat_id=update.effective_chat.id)
        ticket = await in_uow(context.container, submit_public, cmd)
    except NoIntakeDepartment as exc:
        # No department takes public complaints here. The complaint is never broadcast to
        # other departments' staff (their contact details would leak): the complainant is
        # pointed to the hotline and nothing is kept.
        log.info("public complaint not registered: %s", exc.message)
        await ask(update, t(lang, "cp_nobody"))
        return END
    except RateLimited as exc:  # a few complaints an hour per account and contact
        await ask(update, exc.text(lang))
        return END
    except Invalid as exc:  # a contact that is neither a phone, an e-mail nor this chat
        await ask(update, exc.text(lang))
        return END
    text = t(lang, "cp_sent", tracking_no=ticket["tracking_no"], code=ticket["code"])
    text += "\n" + t(lang, "cp_waiting")
    if not ticket["contact_confirmed"]:
        text += "\n" + t(lang, "cp_confirm_sent", tracking_no=ticket["tracking_no"])
    await ask(update, text)
    return END


async def confirm_command(update: Update, context: BotContext) -> None:
    """/confirm NUMBER CODE: confirm the e-mail or phone the complaint gave (rate-limited)."""
    lang = context.lang
    if not context.args or len(context.args) < 2:
        await reply(update, t(lang, "cf_usage"))
        return
    try:
        done = await asyncio.to_thread(intake.confirm_contact, context.container,
                                       context.args[0], context.args[1],
                                       remote=f"tg:{update.effective_user.id}")
    except NotFound:
        await reply(update, t(lang, "cf_wrong"))
        return
    except RateLimited as exc:
        await reply(update, exc.text(lang))
        return
    await reply(update, t(lang, "cf_done", tracking_no=done["tracking_no"]))


# --- supervisors: the intake queue --------------------------------------------------------

def _kind(kind: str, lang: str) -> str:
    zh, en = intake.REJECT_KINDS.get(kind, (kind, kind))
    return en if lang == "en" else zh


@guarded
async def intake_command(update: Update, context: BotContext) -> None:
    """/intake: each pending complaint of the department with its accept/reject buttons."""
    lang = context.lang

    def run(uow, actor):
        items = intake.pending(uow, actor, channel="telegram")
        return [(i.id, intake.alert_text(uow, i, lang)) for i in items]

    found = await as_officer(context, run)
    if not found:
        await reply(update, t(lang, "ci_none"))
        return
    for item_id, text in found[:20]:
        rows = intake.buttons(item_id, lang)
        await reply(update, text, buttons([[(b["text"], b["data"]) for b in row]
                                           for row in rows]))


@guarded
async def accept_button(update: Update, context: BotContext) -> None:
    """✅ on an intake alert: accept it; the case opens through core."""
    item_id = update.callback_query.data.split(":")[1]

    def run(uow, actor):
        done = intake.accept(uow, actor, item_id, channel="telegram")
        return done.item.tracking_no, done.case_number

    number, case_number = await as_officer(context, run)
    await edit_or_reply(update, t(context.lang, "ci_accepted", tracking_no=number,
                                  number=case_number))


async def reject_start(update: Update, context: BotContext) -> int:
    """✗ with a reason kind: ask the reason."""
    _, item_id, _, kind = update.callback_query.data.split(":")
    context.user_data["draft_intake_reject"] = (item_id, kind)
    await ask(update, t(context.lang, "ci_reason", kind=_kind(kind, context.lang)))
    return REJECT_REASON


@guarded
async def reject_reason(update: Update, context: BotContext) -> int:
    """Reject the item with the typed reason (recorded and ledgered by core)."""
    item_id, kind = context.user_data.get("draft_intake_reject", ("", ""))
    reason = update.message.text.strip()
    item = await as_officer(context, lambda uow, actor: intake.reject(
        uow, actor, item_id, kind, reason, channel="telegram").tracking_no)
    context.user_data.pop("draft_intake_reject", None)
    await reply(update, t(context.lang, "ci_rejected", tracking_no=item,
                          kind=_kind(kind, context.lang), reason=reason))
    return END


async def status_start(update: Update, context: BotContext) -> int:
    """/status: ask the tracking number (or take `/status NUMBER CODE` at once)."""
    if context.args and len(context.args) >= 2:
        await _show_status(update, context, context.args[0], context.args[1])
        return END
    await reply(update, t(context.lang, "st_number"))
    return ST_NUMBER


async def status_number(update: Update, context: BotContext) -> int:
    """Keep the tracking number; ask the code."""
    context.user_data["draft_status"] = update.message.text.strip()
    await reply(update, t(context.lang, "st_code"))
    return ST_CODE


async def status_code(update: Update, context: BotContext) -> int:
    """Look the complaint up with number + code."""
    number = context.user_data.pop("draft_status", "")
    await _show_status(update, context, number, update.message.text.strip())
    return END


async def _show_status(update: Update, context: BotContext, number: str, code: str) -> None:
    lang = context.lang
    # The same lookup limits as the HTTP route and the complainant's page, the Telegram
    # account standing for the caller's address (issue 12, finding 6).
    who = f"tg:{update.effective_user.id}"
    try:
        status = await asyncio.to_thread(checked_status, context.container, number, code,
                                         remote=who)
    except NotFound:
        await reply(update, t(lang, "st_not_found"))
        return
    except RateLimited as exc:  # its sentence says how many minutes to wait
        await reply(update, exc.text(lang))
        return
    extra = ""
    if status.get("case_number"):
        extra = f"（案件 {status['case_number']}）" if lang == "zh" else \
            f" (case {status['case_number']})"
    decision = status.get("decision") or {}
    if decision.get("reason"):
        extra += f"\n{'理由' if lang == 'zh' else 'Reason'}: {decision['reason']}"
    shown = status["status_zh"] if lang == "zh" else status["status"].replace("_", " ")
    await reply(update, t(lang, "st_result", tracking_no=status["tracking_no"], status=shown,
                          extra=extra))


def handlers(persistent: bool) -> list:
    """/complain and /status."""
    text = filters.TEXT & ~filters.COMMAND
    media = filters.PHOTO | filters.Document.IMAGE | filters.VIDEO
    return [
        dialog("complain", [CommandHandler("complain", complain_start)], {
            WHAT: [MessageHandler(text, complain_what)],
            WHERE: [MessageHandler(filters.LOCATION | text, complain_where)],
            PHOTOS: [MessageHandler(media, complain_photo),
                     CallbackQueryHandler(complain_photos_done, pattern=r"^cq:done$")],
            CONTACT: [MessageHandler(text, complain_contact),
                      CallbackQueryHandler(complain_contact, pattern=r"^cq:tg$")],
            CONFIRM: [CallbackQueryHandler(complain_confirm, pattern=r"^cq:ok$"),
                      CallbackQueryHandler(cancel_button, pattern=r"^cq:no$")],
        }, persistent=persistent),
        dialog("status", [CommandHandler("status", status_start)], {
            ST_NUMBER: [MessageHandler(text, status_number)],
            ST_CODE: [MessageHandler(text, status_code)],
        }, persistent=persistent),
        CommandHandler("confirm", confirm_command),
        CommandHandler("intake", intake_command),
        CallbackQueryHandler(accept_button, pattern=r"^ci:[0-9a-f]{32}:a$"),
        dialog("intake_reject", [CallbackQueryHandler(
            reject_start, pattern=r"^ci:[0-9a-f]{32}:r:(spam|duplicate|out_of_scope)$")],
            {REJECT_REASON: [MessageHandler(text, reject_reason)]}, persistent=persistent),
    ]

