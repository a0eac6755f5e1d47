"""Evidence from the chat: files go through capture intake (core.evidence.intake) and come back with
a concrete verdict; what each item proves is asked first, because A31.1 makes it part of
the item and evidence rows are never rewritten. Locations are kept with their accuracy and
checked against the files that follow; forwarded items are marked as not first-hand."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from core.cases import lifecycle as case_service
from core.evidence import intake as evidence_service
from core.evidence import uploads
from core.kernel import texts as core_texts
from core.kernel.clock import utcnow
from core.kernel.errors import DomainError

from .common import (
    BotContext,
    active_case,
    as_officer,
    buttons,
    callback_arg,
    capture_markup,
    error_text,
    guarded,
    reply,
    set_active_case,
)
from .dialogs import END, ask, dialog
from .texts import (
    PROVES,
    STATUS_ICON,
    metres,
    size_text,
    t,
)
from .views import case_line, next_steps

ASK_PROVES, TYPE_PROVES = range(2)
QUEUE = "evidence_queue"
INBOX = "evidence_inbox"  # files kept when the officer cancelled, offered again by /inbox
LOCATION_FRESH = timedelta(minutes=15)
RECENT = 5  # cases offered for a file that came with no case
MEDIA = (filters.Document.ALL | filters.VIDEO | filters.AUDIO | filters.VOICE
         | filters.VIDEO_NOTE | filters.PHOTO)


def describe(message: Message) -> dict | None:
    """What was sent: Telegram file id, size, name, declared type and how it was made."""
    forwarded = message.forward_origin is not None
    if message.document is not None:
        d = message.document
        item = {"file_id": d.file_id, "size": d.file_size, "filename": d.file_name or "file",
                "mime": d.mime_type, "method": "telegram_document"}
    elif message.video is not None:
        v = message.video
        item = {"file_id": v.file_id, "size": v.file_size, "filename": v.file_name or "video.mp4",
                "mime": v.mime_type or "video/mp4", "method": "telegram_video"}
    elif message.audio is not None:
        a = message.audio
        item = {"file_id": a.file_id, "size": a.file_size, "filename": a.file_name or "audio",
                "mime": a.mime_type, "method": "telegram_audio"}
    elif message.voice is not None:
        v = message.voice
        item = {"file_id": v.file_id, "size": v.file_size, "filename": "voice.ogg",
                "mime": v.mime_type or "audio/ogg", "method": "telegram_voice"}
    elif message.video_note is not None:
        v = message.video_note
        item = {"file_id": v.file_id, "size": v.file_size, "filename": "video_note.mp4",
                "mime": "video/mp4", "method": "telegram_video_note"}
    elif message.photo:
        p = message.photo[-1]  # the largest size Telegram kept; EXIF is gone either way
        item = {"file_id": p.file_id, "size": p.file_size, "filename": "photo.jpg",
                "mime": "image/jpeg", "method": "telegram_photo_compressed", "compressed": True}
    else:
        return None
    item["forwarded"] = forwarded
    if forwarded:
        item["method"] += "_forwarded_not_first_hand"
    item["received_at"] = (message.date or utcnow()).isoformat()
    return item


def keep_file(context: BotContext, path: Path) -> str:
    """Put a downloaded file in the blob store (shared by every process, kept across
    restarts) and return its SHA-256: the file waiting for its question lives there and in
    the dialog's database row, not in one process's folder."""
    with path.open("rb") as fh:
        return context.container.blobs.put_stream(fh).sha256


def _spool(context: BotContext) -> Path:
    path = context.container.blobs.tmp_dir / "bot_inbox"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _too_big_error(exc: BadRequest) -> bool:
    return "too big" in str(exc.message).lower()


@guarded
async def file_received(update: Update, context: BotContext) -> int | None:
    """A file: keep it (even with no case chosen yet), then ask what it proves."""
    lang = context.lang
    if context.me is None:
        await reply(update, t(lang, "welcome_public"))
        return END
    item = describe(update.effective_message)
    if item is None:
        return None
    case_id = active_case(context)
    if item["size"] and item["size"] > context.application.download_limit:
        await _too_big(update, context, case_id, item)
        return None
    try:
        tg_file = await context.bot.get_file(item["file_id"])
    except BadRequest as exc:
        if not _too_big_error(exc):
            raise
        await _too_big(update, context, case_id, item)  # the size was not declared
        return None
    safe = "".join(ch for ch in item["filename"] if ch.isalnum() or ch in "._-")[-80:] or "file"
    path = _spool(context) / f"{uuid.uuid4().hex}_{safe}"
    try:
        await tg_file.download_to_drive(path)
        size = path.stat().st_size
        sha = await asyncio.to_thread(keep_file, context, path)
    finally:
        path.unlink(missing_ok=True)
    item.update(sha256=sha, size=size, case_id=case_id)
    queue = context.user_data.setdefault(QUEUE, [])
    queue.append(item)
    if context.application.persistence is not None:
        # A downloaded file must survive a crash before its question is answered.
        context.application.mark_data_for_update_persistence(user_ids=update.effective_user.id)
        await context.application.update_persistence()
    if item.get("compressed"):
        page = capture_markup(context, context.user_data.get("case_number"))
        await reply(update, t(lang, "ev_compressed") + ("\n" + t(lang, "ev_capture_page")
                                                        if page else ""), page)
    if item["forwarded"]:
        await reply(update, t(lang, "ev_forwarded"))
    if len(queue) == 1:
        await _ask_proves(update, context)
    else:
        await reply(update, t(lang, "ev_queued", name=item["filename"], n=len(queue)))
    return ASK_PROVES


async def _recent_cases(context: BotContext) -> list[tuple[str, str]]:
    """The officer's latest cases as (id, label), for a file that came with no case."""
    lang = context.lang

    def load(uow, actor):
        return [(v.case.id, case_line(v.case, lang))
                for v in case_service.list_cases(uow, actor, limit=RECENT)]

    return await as_officer(context, load)


async def _ask_case(update: Update, context: BotContext, prefix: str, text: str) -> None:
    found = await _recent_cases(context)
    lang = context.lang
    if not found:
        await reply(update, text + "\n" + t(lang, "ev_no_cases"))
        return
    await ask(update, text, buttons([[(label, f"{prefix}:{cid}")] for cid, label in found]))


async def _ask_proves(update: Update, context: BotContext) -> None:
    lang = context.lang
    item = context.user_data[QUEUE][0]
    if not item.get("case_id"):
        waiting = sum(1 for i in context.user_data[QUEUE] if not i.get("case_id"))
        await _ask_case(update, context, "pc", t(lang, "ev_pick_case", n=waiting,
                                                  name=item["filename"]))
        return
    choices = [(zh if lang == "zh" else en, f"pv:{i}") for i, (zh, en) in enumerate(PROVES)]
    rows = [choices[i:i + 2] for i in range(0, len(choices), 2)]
    rows.append([(t(lang, "ev_other"), "pv:o")])
    await ask(update, t(lang, "ev_received", name=item["filename"], size=size_text(item["size"]),
                        sha=item["sha256"][:8]), buttons(rows))


@guarded
async def case_for_files(update: Update, context: BotContext) -> int:
    """A case chosen for the files that came without one: they join it, then the question."""
    case_id = callback_arg(update)

    def load(uow, actor):
        return case_service.get_case(uow, actor, case_id, channel="telegram").number

    number = await as_officer(context, load)  # refuses a case the officer may not see
    set_active_case(context, case_id, number)
    queue = context.user_data.get(QUEUE) or []
    for item in queue:
        if not item.get("case_id"):
            item["case_id"] = case_id
    if not queue:
        await ask(update, t(context.lang, "stale_button"))
        return END
    await _ask_proves(update, context)
    return ASK_PROVES


async def _too_big(update: Update, context: BotContext, case_id: str | None, item: dict
                   ) -> None:
    lang = context.lang
    if case_id is None:
        await _ask_case(update, context, "lk", t(lang, "ev_too_big", size=size_text(
            item["size"])) + "\n" + t(lang, "ev_link_pick"))
        return
    await reply(update, t(lang, "ev_too_big", size=size_text(item["size"])))
    await _send_link(update, context, case_id)


async def _send_link(update: Update, context: BotContext, case_id: str) -> None:
    link = await as_officer(context, lambda uow, actor: uploads.issue_upload_link(
        uow, actor, case_id))
    await reply(update, t(context.lang, "ev_link", url=link["url"], expires=_when(link, context)))


@guarded
async def link_for_case(update: Update, context: BotContext) -> None:
    """A case chosen for a file too big for the bot: its one-time upload link."""
    await ask(update, t(context.lang, "ev_link_for"))
    await _send_link(update, context, callback_arg(update))


def _when(link: dict, context: BotContext) -> str:
    """The link's expiry in legal time, as the officer reads it."""
    raw = link.get("expires_at") or ""
    try:
        when = datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        return str(raw)
    if when.tzinfo is None:
        return str(raw)
    return when.astimezone(context.container.settings.legal_tz).strftime("%Y-%m-%d %H:%M")


async def proves_button(update: Update, context: BotContext) -> int:
    """An object of proof chosen with a button (or "other": type it)."""
    arg = update.callback_query.data.split(":", 1)[1]
    lang = context.lang
    queue = context.user_data.get(QUEUE) or []
    if not queue or not queue[0].get("case_id") or not (arg == "o" or (
            arg.isdigit() and int(arg) < len(PROVES))):
        await ask(update, t(lang, "stale_button"))  # pressed twice, or forged
        return ASK_PROVES if queue else END
    if arg == "o":
        await ask(update, t(lang, "ev_type_proves"))
        return TYPE_PROVES
    zh, en = PROVES[int(arg)]
    return await _register(update, context, zh if lang == "zh" else en)


async def proves_text(update: Update, context: BotContext) -> int:
    """An object of proof typed by the officer."""
    return await _register(update, context, update.message.text.strip())


def _reported(context: BotContext) -> dict:
    """The officer's latest location, if recent enough to compare with a file."""
    loc = context.user_data.get("last_location")
    if not loc:
        return {}
    if utcnow() - datetime.fromisoformat(loc["at"]) > LOCATION_FRESH:
        return {}
    return {"lat": loc["lat"], "lon": loc["lon"], "accuracy": loc.get("accuracy")}


async def _register(update: Update, context: BotContext, proves: str) -> int:
    """Hand the head of the queue to core.evidence.intake.intake and answer with its verdict."""
    queue = context.user_data.get(QUEUE) or []
    if not queue:
        return END
    item = queue[0]
    lang = context.lang
    if not item.get("case_id"):  # typed before a case was chosen: the case comes first
        await _ask_proves(update, context)
        return ASK_PROVES
    extra = _reported(context)
    av_for = context.user_data.get("av_for")
    linked = ""
    if av_for and av_for.get("case_id", item["case_id"]) == item["case_id"] and \
            str(item.get("mime") or "").startswith(tuple(av_media(av_for))):
        extra["record_id"] = av_for["record_id"]  # the record that asked for this AV
        linked = av_for.get("label") or ""

    def run(uow, actor):
        with _stored_copy(context, item) as path:
            result = evidence_service.intake(
                uow, actor, item["case_id"], path=path, filename=item["filename"],
                declared_type=item.get("mime"), proves=proves, method=item["method"], **extra)
        return result, next_steps(uow, actor, item["case_id"], lang)

    try:
        verdict, nxt = await as_officer(context, run)
    except DomainError as exc:  # refused (type, size, case): say why, go on
        queue.pop(0)
        await ask(update, error_text(exc, lang))
        return await _next_or_end(update, context)
    queue.pop(0)
    text = verdict_text(verdict, lang)
    if "record_id" in extra:
        context.user_data.pop("av_for", None)
        text += "\n" + t(lang, "ev_linked", record=linked)
    await ask(update, text + "\n" + nxt)
    return await _next_or_end(update, context)


def av_media(av_for: dict) -> tuple[str, ...]:
    """The media an AV request takes: a record asking for a recording takes the next video or
    audio (never a photo sent meanwhile); one asking for photos takes an image."""
    media = tuple(av_for.get("media") or ())
    moving = tuple(m for m in media if m in ("video/", "audio/"))
    return moving or media


@contextlib.contextmanager
def _stored_copy(context: BotContext, item: dict):
    """A path to the waiting file: the blob store's copy (older entries: the spool file)."""
    if item.get("path"):
        yield Path(item["path"])
        return
    with context.container.blobs.local_copy(item["sha256"]) as path:
        yield path


async def _next_or_end(update: Update, context: BotContext) -> int:
    if context.user_data.get(QUEUE):
        await _ask_proves(update, context)
        return ASK_PROVES
    return END


def verdict_text(v: dict, lang: str) -> str:
    """Distance, capture time, device, hash prefix and assurance, in words (ARCHITECTURE.md)."""
    checks = {c["name"]: c for c in v.get("checks") or []}
    md = v.get("metadata") or {}

    def detail(c: dict) -> str:
        return c.get("detail_zh") or c.get("detail", "") if lang == "zh" else c.get("detail", "")

    lines = []
    if "gps_distance" in checks:
        c = checks["gps_distance"]
        lines.append(STATUS_ICON.get(c["status"], "") + " " + t(lang, "ev_gps", detail=detail(c)))
    if "capture_time" in checks:
        c = checks["capture_time"]
        text = detail(c)
        taken = md.get("taken_at")
        if taken and not any(w in text for w in ("前", "ago", "before")):
            try:
                minutes = (utcnow() - datetime.fromisoformat(taken)).total_seconds() // 60
                text += (f"（{minutes:.0f} 分钟前）" if lang == "zh"
                         else f" ({minutes:.0f} min ago)")
            except (TypeError, ValueError):
                pass
        lines.append(STATUS_ICON.get(c["status"], "") + " " + t(lang, "ev_time", detail=text))
    device = " ".join(x for x in (md.get("make"), md.get("model")) if x)
    lines.append(t(lang, "ev_device", device=device) if device else t(lang, "ev_device_unknown"))
    for name, c in checks.items():
        if name in ("gps_distance", "capture_time") or c["status"] == "pass":
            continue
        label = core_texts.label("check", name, lang)
        lines.append(STATUS_ICON.get(c["status"], "") + " "
                     + t(lang, "ev_check", name=label, detail=detail(c)))
    lines.append(t(lang, "ev_hash", sha=str(v.get("sha256", ""))[:8]))
    if any(c["status"] == "fail" for c in checks.values()):
        lines.append(t(lang, "ev_failed_hint"))
    level = v.get("assurance", "")
    shown = core_texts.label("assurance", level, lang)
    icon = {"verified": "✅", "captured_in_app": "✅", "partial": "⚠", "unverified": "⚠",
            "failed": "❌"}.get(level, "ℹ")
    return t(lang, "ev_verdict", icon=icon, assurance=shown, lines="\n".join(lines))


@guarded
async def inbox(update: Update, context: BotContext) -> int | None:
    """/inbox: offer again the files kept when a dialog was cancelled."""
    kept = context.user_data.get(INBOX) or []
    lang = context.lang
    if not kept:
        await reply(update, t(lang, "inbox_empty"))
        return END
    await reply(update, t(lang, "inbox_retry", n=len(kept)))
    context.user_data[INBOX] = []
    context.user_data.setdefault(QUEUE, []).extend(kept)
    await _ask_proves(update, context)
    return ASK_PROVES


async def location_received(update: Update, context: BotContext) -> None:
    """A location or live location: keep it with its accuracy for the files that follow."""
    message = update.effective_message
    loc = message.location
    live = bool(loc.to_dict().get("live_period"))  # the attribute warns of a type change
    context.user_data["last_location"] = {
        "lat": loc.latitude, "lon": loc.longitude, "accuracy": loc.horizontal_accuracy,
        "live": live, "at": utcnow().isoformat(), "forwarded": message.forward_origin is not None}
    if update.edited_message is not None:
        return  # a live location moving: keep the newest quietly
    lang = context.lang
    text = t(lang, "location_saved", acc=metres(loc.horizontal_accuracy, lang),
             live=t(lang, "live") if live else "")
    if message.forward_origin is not None:
        text += "\n" + t(lang, "ev_forwarded")
    await reply(update, text)


async def forwarded_text(update: Update, context: BotContext) -> None:
    """Forwarded text is not first-hand; say so rather than record it."""
    await reply(update, t(context.lang, "forward_text"))


async def evidence_cancel(update: Update, context: BotContext) -> int:
    """/cancel while files wait: keep them for /inbox rather than drop them."""
    queue = context.user_data.pop(QUEUE, None) or []
    context.user_data.setdefault(INBOX, []).extend(queue)
    await reply(update, t(context.lang, "ev_cancelled", n=len(queue)))
    return END


def evidence_dialog(persistent: bool):
    """Files → what they prove → intake, one after the other."""
    text = filters.TEXT & ~filters.COMMAND
    return dialog("evidence", [MessageHandler(MEDIA, file_received),
                               CommandHandler("inbox", inbox)], {
        ASK_PROVES: [CallbackQueryHandler(proves_button, pattern=r"^pv:"),
                     CallbackQueryHandler(case_for_files, pattern=r"^pc:"),
                     MessageHandler(text, proves_text), MessageHandler(MEDIA, file_received)],
        TYPE_PROVES: [MessageHandler(text, proves_text), MessageHandler(MEDIA, file_received)],
    }, persistent=persistent, allow_reentry=False,
        fallbacks=[CommandHandler("cancel", evidence_cancel)])


def handlers(persistent: bool) -> list:
    """The evidence dialog, locations and forwarded text."""
    return [
        evidence_dialog(persistent),
        # The answer to a waiting file still counts when the dialog state was lost (a crash
        # between the file's arrival and the next flush): the queue itself was flushed.
        CallbackQueryHandler(proves_button, pattern=r"^pv:\d+$"),
        CallbackQueryHandler(case_for_files, pattern=r"^pc:"),
        CallbackQueryHandler(link_for_case, pattern=r"^lk:"),
        MessageHandler(filters.LOCATION & ~filters.UpdateType.EDITED, location_received),
        MessageHandler(filters.LOCATION & filters.UpdateType.EDITED_MESSAGE, location_received),
        MessageHandler(filters.FORWARDED & filters.TEXT, forwarded_text),
    ]
