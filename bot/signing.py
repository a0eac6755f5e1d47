"""/sign (a photo of the signed page, fingerprint or seal, per signer role, A13.2) and
/refuse (a refusal to sign with witnesses or a video, A22.2; a refusal of investigation or
evidence, A13.3), through core.cases.signatures."""

from __future__ import annotations

import base64

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from core.cases import lifecycle as case_service
from core.cases import signatures as sig_service
from core.cases.commands import Refuse, Sign
from core.evidence import intake, receipt_tasks
from core.kernel import texts
from core.kernel.errors import TooLarge
from core.rules.catalogue import NO_REFUSAL_ROLES

from .common import BotContext, active_case, as_officer, buttons, guarded, reply
from .dialogs import END, ask, cancel_button, dialog
from .texts import rule_item, t
from .views import next_steps_of

(PICK, ROLE, NAME, METHOD, IMAGE, R_PICK, R_ROLE, R_NAME, R_REASON, R_PLACE, R_PROOF,
 W_NAME, W_ID, W_RELATION, W_SIGN, W_MORE, R_VIDEO, R_CONFIRM) = range(18)
DRAFT = "draft_sign"
IMAGES = filters.PHOTO | filters.Document.IMAGE
METHODS = (("signature", "签名", "Signature"), ("fingerprint", "指印", "Fingerprint"),
           ("seal", "盖章", "Seal"))
MAX_RECORDS = 8


def _role_label(role: str, lang: str) -> str:
    return texts.label("signer_role", role, lang)


def open_records(uow, actor, case_id: str) -> list[dict]:
    """The case's newest records that still lack a signature or a refusal (A13.2), as the
    dialog keeps them."""
    tz = uow.settings.legal_tz
    return [{"id": w.record.id, "type": w.record.type, "title": w.title_zh,
             "title_en": w.title_en, "officers": list(w.officers), "roles": list(w.roles),
             "servers": list(w.servers), "defaults": w.defaults, "place": w.place,
             "at": w.record.created_at.astimezone(tz).strftime("%H:%M")}
            for w in sig_service.awaiting_signatures(uow, actor, case_id, limit=MAX_RECORDS,
                                                     channel="telegram")]


async def _pick(update: Update, context: BotContext, prefix: str) -> list[dict] | None:
    case_id = active_case(context)
    lang = context.lang
    if case_id is None:
        await reply(update, t(lang, "no_case"))
        return None
    found = await as_officer(context, open_records, case_id)
    context.user_data[DRAFT] = {"case_id": case_id, "records": found}
    return found


def _record_buttons(found: list[dict], prefix: str, lang: str, extra=None):
    # A record is told apart by its time, never by an internal id.
    rows = [[((r["title"] if lang == "zh" else r["title_en"]) + " " + r.get("at", ""),
              f"{prefix}:{i}")] for i, r in enumerate(found)]
    return buttons(rows + (extra or []))


# ----- /sign -----

@guarded
async def sign_start(update: Update, context: BotContext) -> int:
    """/sign: which record is being signed."""
    found = await _pick(update, context, "sg")
    if found is None:
        return END
    lang = context.lang
    if not found:
        await reply(update, t(lang, "sign_nothing"))
        return END
    if len(found) == 1:
        return await _sign_roles(update, context, 0)
    await reply(update, t(lang, "sign_pick"), _record_buttons(found, "sg", lang))
    return PICK


async def sign_record(update: Update, context: BotContext) -> int:
    """A record chosen: who signs."""
    return await _sign_roles(update, context, int(update.callback_query.data.split(":")[1]))


async def _sign_roles(update: Update, context: BotContext, index: int) -> int:
    draft = context.user_data[DRAFT]
    record = draft["records"][index]
    draft["record"] = index
    lang = context.lang
    rows = [[(f"{_role_label('officer', lang)} {name}", f"so:{i}")]
            for i, (_, name) in enumerate(record["officers"])]
    for role in record["roles"]:
        if role == "server":
            rows += [[(f"{_role_label(role, lang)} {name}", f"sv:{i}")]
                     for i, (_, name) in enumerate(record.get("servers") or [])]
        else:
            rows.append([(_role_label(role, lang), f"sr:{role}")])
    await ask(update, t(lang, "sign_who", title=record["title"] if lang == "zh"
                        else record["title_en"]), buttons(rows))
    return ROLE


async def sign_role(update: Update, context: BotContext) -> int:
    """A signer chosen: an officer or server signs as themselves; anyone else gives a name."""
    draft = context.user_data[DRAFT]
    record = draft["records"][draft["record"]]
    kind, arg = update.callback_query.data.split(":", 1)
    lang = context.lang
    if kind in ("so", "sv"):
        role, people = ("officer", record["officers"]) if kind == "so" \
            else ("server", record["servers"])
        officer_id, name = people[int(arg)]
        draft.update(role=role, signer_officer_id=officer_id, signer_name=name)
        return await _ask_method(update, context)
    draft.update(role=arg, signer_officer_id=None)
    default = record["defaults"].get(arg)
    markup = buttons([[(default, "sn:d")]]) if default else None
    await ask(update, t(lang, "sign_name", role=_role_label(arg, lang)), markup)
    return NAME


async def sign_name(update: Update, context: BotContext) -> int:
    """The signer's name (typed or the one on the record)."""
    draft = context.user_data[DRAFT]
    if update.callback_query is not None:
        draft["signer_name"] = draft["records"][draft["record"]]["defaults"][draft["role"]]
    else:
        draft["signer_name"] = update.message.text.strip()
    return await _ask_method(update, context)


async def _ask_method(update: Update, context: BotContext) -> int:
    lang = context.lang
    await ask(update, t(lang, "sign_method"), buttons([[
        (zh if lang == "zh" else en, f"sm:{code}") for code, zh, en in METHODS]]))
    return METHOD


async def sign_method(update: Update, context: BotContext) -> int:
    """Signature, fingerprint or seal: ask for the photo of it."""
    context.user_data[DRAFT]["method"] = update.callback_query.data.split(":")[1]
    await ask(update, t(context.lang, "sign_photo"))
    return IMAGE


async def _image_bytes(update: Update, context: BotContext, name: str) -> bytes:
    """The photo or image file sent, refused before download when Telegram says it is over
    the byte limit, and after download on its header (type, pixel dimensions: a decompression
    bomb is refused here, issue 12 finding 2) before anything decodes it."""
    message = update.message
    item = message.photo[-1] if message.photo else message.document
    if (item.file_size or 0) > sig_service.MAX_IMAGE_BYTES:
        mb = sig_service.MAX_IMAGE_BYTES // (1024 * 1024)
        raise TooLarge(f"{name}: the image is larger than {mb} MB", zh=f"{name}：图片超过 {mb} MB")
    tg_file = await context.bot.get_file(item.file_id)
    data = bytes(await tg_file.download_as_bytearray())
    sig_service.sniff_image(data, name)
    return data


@guarded
async def sign_image(update: Update, context: BotContext) -> int:
    """The photo of the signature: record it through core.cases.signatures.add_signature."""
    draft = context.user_data[DRAFT]
    record = draft["records"][draft["record"]]
    image = await _image_bytes(update, context, t(context.lang, "field_sign_image"))
    lang = context.lang
    cmd = Sign(role=draft["role"], method=draft["method"], image=image,
               signer_name=draft.get("signer_name"),
               signer_officer_id=draft.get("signer_officer_id"),
               # The officer picked a colleague's name: captured on their behalf (A13.2).
               on_behalf=bool(draft.get("signer_officer_id")))

    def add(uow, actor):
        sig = sig_service.add_signature(uow, actor, draft["case_id"], record["id"], cmd)
        status = sig_service.record_status(uow, actor, draft["case_id"], record["id"],
                                           channel="telegram")
        case = case_service.get_case(uow, actor, draft["case_id"], channel="telegram")
        return (sig.signer_name, status, next_steps_of(uow, case, lang),
                _receipt_line(uow, record["id"], lang))

    name, status, nxt, receipt = await as_officer(context, add)
    context.user_data.pop(DRAFT, None)
    await reply(update, t(lang, "sign_saved", name=name, role=_role_label(cmd.role, lang))
                + "\n" + _record_gaps(status, lang) + receipt + nxt)
    return END


def _receipt_line(uow, record_id: str | None, lang: str) -> str:
    """A line saying the 送达回证 this act queued is being prepared (drawn after the commit,
    issue 12), and where it appears; empty when none was queued."""
    if record_id and receipt_tasks.queued_notice(uow.session, record_id):
        return t(lang, "receipt_preparing") + "\n"
    return ""


def _record_gaps(status: dict, lang: str) -> str:
    gaps = status.get("missing") or []
    if not gaps:
        return t(lang, "record_complete") + "\n"
    sep = "; " if lang == "en" else "；"
    return t(lang, "record_gaps", items=sep.join(gap_text(g, lang) for g in gaps)) + "\n"


def gap_text(gap: dict, lang: str) -> str:
    """One thing a record lacks (core.cases.facts.Gap), in the user's language."""
    if lang == "en":
        return f"{gap['text']} ({gap['rule']})"
    return f"{gap.get('text_zh') or rule_item(gap['rule'], lang)}（{gap['rule']}）"


# ----- /refuse -----

@guarded
async def refuse_start(update: Update, context: BotContext) -> int:
    """/refuse: a refusal to sign one of the records, or of investigation (A13.3)."""
    found = await _pick(update, context, "rp")
    if found is None:
        return END
    lang = context.lang
    found = [r for r in found if [x for x in r["roles"] if x not in NO_REFUSAL_ROLES]]
    context.user_data[DRAFT]["records"] = found
    # Who refuses which record, in one tap, when the record names the person (fewer taps).
    quick = [[(t(lang, "refuse_quick", name=r["defaults"][role], role=_role_label(role, lang),
                 title=(r["title"] if lang == "zh" else r["title_en"]) + " " + r.get("at", "")),
               f"rx:{i}:{role}")]
             for i, r in enumerate(found) for role in r["roles"]
             if role not in NO_REFUSAL_ROLES and r["defaults"].get(role)]
    extra = [[(t(lang, "refuse_investigation"), "rp:investigation")],
             [(t(lang, "refuse_evidence"), "rp:evidence")]]
    markup = _record_buttons(found, "rp", lang, extra)
    if quick:
        markup = buttons(quick + [[(b.text, b.callback_data) for b in row]
                                  for row in markup.inline_keyboard])
    await reply(update, t(lang, "refuse_pick"), markup)
    return R_PICK


async def refuse_quick(update: Update, context: BotContext) -> int:
    """A refusal to sign by the person the record names, chosen in one tap; then the reason
    (the usual ones as buttons)."""
    draft = context.user_data[DRAFT]
    parts = update.callback_query.data.split(":")
    records = draft.get("records") or []
    if len(parts) != 3 or not parts[1].isdigit() or int(parts[1]) >= len(records) or \
            not records[int(parts[1])]["defaults"].get(parts[2]):
        await ask(update, t(context.lang, "stale_button"))
        return R_PICK
    record = records[int(parts[1])]
    draft.update(refused="sign", record=int(parts[1]), role=parts[2], witnesses=[],
                 person_name=record["defaults"][parts[2]], quick=True)
    return await _ask_reason(update, context)


REASONS = (("未说明理由", "no reason given"), ("对笔录内容有异议", "disputes the record"))


async def _ask_reason(update: Update, context: BotContext) -> int:
    lang = context.lang
    await ask(update, t(lang, "refuse_reason"), buttons([[
        (zh if lang == "zh" else en, f"rz:{i}")] for i, (zh, en) in enumerate(REASONS)]))
    return R_REASON


async def refuse_reason_button(update: Update, context: BotContext) -> int:
    """One of the usual reasons, chosen with a button."""
    arg = update.callback_query.data.split(":")[1]
    if not arg.isdigit() or int(arg) >= len(REASONS):
        await ask(update, t(context.lang, "stale_button"))
        return R_REASON
    zh, en = REASONS[int(arg)]
    return await _keep_reason(update, context, zh if context.lang == "zh" else en)


async def refuse_record(update: Update, context: BotContext) -> int:
    """What is refused: signing a record (then who), or investigation / evidence."""
    draft = context.user_data[DRAFT]
    arg = update.callback_query.data.split(":")[1]
    lang = context.lang
    draft["witnesses"] = []
    if arg in ("investigation", "evidence"):
        draft.update(refused=arg, record=None, role="party")
        await ask(update, t(lang, "refuse_name"))
        return R_NAME
    draft.update(refused="sign", record=int(arg))
    record = draft["records"][int(arg)]
    roles = [r for r in record["roles"] if r not in NO_REFUSAL_ROLES]
    await ask(update, t(lang, "refuse_role"),
              buttons([[(_role_label(r, lang), f"rr:{r}")] for r in roles]))
    return R_ROLE


async def refuse_role(update: Update, context: BotContext) -> int:
    """Who refuses; their name next (the one on the record offered)."""
    draft = context.user_data[DRAFT]
    draft["role"] = update.callback_query.data.split(":")[1]
    record = draft["records"][draft["record"]]
    default = record["defaults"].get(draft["role"])
    await ask(update, t(context.lang, "refuse_name"),
              buttons([[(default, "rn:d")]]) if default else None)
    return R_NAME


async def refuse_name(update: Update, context: BotContext) -> int:
    """The person's name; then the reason they give."""
    draft = context.user_data[DRAFT]
    if update.callback_query is not None:
        draft["person_name"] = draft["records"][draft["record"]]["defaults"][draft["role"]]
    else:
        draft["person_name"] = update.message.text.strip()
    await ask(update, t(context.lang, "refuse_reason"))
    return R_REASON


async def refuse_reason(update: Update, context: BotContext) -> int:
    """The reason; then the place (the record's or the site's offered)."""
    return await _keep_reason(update, context, update.message.text.strip())


async def _keep_reason(update: Update, context: BotContext, reason: str) -> int:
    draft = context.user_data[DRAFT]
    draft["reason"] = reason
    place = draft["records"][draft["record"]]["place"] if draft["record"] is not None else ""
    draft["default_place"] = place
    if place and draft.get("quick"):  # the record's place, shown in the summary to confirm
        draft["place"] = place
        return await _ask_proof(update, context)
    await reply(update, t(context.lang, "refuse_place"),
                buttons([[(place[:40], "rl:d")]]) if place else None)
    return R_PLACE


async def refuse_place(update: Update, context: BotContext) -> int:
    """The place; then the proof: witnesses or a video (A22.2)."""
    draft = context.user_data[DRAFT]
    draft["place"] = draft["default_place"] if update.callback_query is not None \
        else update.message.text.strip()
    return await _ask_proof(update, context)


async def _ask_proof(update: Update, context: BotContext) -> int:
    lang = context.lang
    draft = context.user_data[DRAFT]
    rows = [[(t(lang, "proof_witness"), "rw:add")], [(t(lang, "proof_video"), "rw:video")]]
    if draft["witnesses"]:
        rows = [[(t(lang, "proof_witness_more"), "rw:add")], [(t(lang, "done"), "rw:done")]]
    elif draft["refused"] != "sign":
        rows.append([(t(lang, "proof_none"), "rw:done")])
    text = t(lang, "refuse_proof") if not draft["witnesses"] else \
        t(lang, "witness_saved", n=len(draft["witnesses"]))
    if draft.get("quick") and not draft["witnesses"]:
        # The case's videos straight away: the one that shows the refusal is one tap.
        found = await as_officer(context, _videos, draft["case_id"])
        draft["videos"] = found
        rows = [[(f"🎥 {name} {sha}…", f"rv:{i}")] for i, (_, name, sha) in
                enumerate(found[:4])] + [rows[0]]
    await ask(update, text, buttons(rows))
    return R_PROOF


def _videos(uow, actor, case_id: str) -> list:
    return [(e.id, e.filename, e.sha256[:8]) for e in
            intake.videos_of_case(uow, actor, case_id, channel="telegram")]


async def proof_choice(update: Update, context: BotContext) -> int:
    """Add a witness, pick a video, or finish."""
    arg = update.callback_query.data.split(":")[1]
    lang = context.lang
    if arg == "add":
        context.user_data[DRAFT]["witness"] = {}
        await ask(update, t(lang, "witness_name"))
        return W_NAME
    if arg == "video":
        return await _ask_video(update, context)
    return await _refuse_summary(update, context)


async def witness_name(update: Update, context: BotContext) -> int:
    """A witness's name; then their ID number."""
    context.user_data[DRAFT]["witness"]["name"] = update.message.text.strip()
    await reply(update, t(context.lang, "witness_id"))
    return W_ID


async def witness_id(update: Update, context: BotContext) -> int:
    """The ID number; then how they relate to the matter."""
    context.user_data[DRAFT]["witness"]["id_number"] = update.message.text.strip()
    await reply(update, t(context.lang, "witness_relation"))
    return W_RELATION


async def witness_relation(update: Update, context: BotContext) -> int:
    """The relation; then the photo of their signature."""
    context.user_data[DRAFT]["witness"]["relation"] = update.message.text.strip()
    await reply(update, t(context.lang, "witness_sign"))
    return W_SIGN


@guarded
async def witness_sign(update: Update, context: BotContext) -> int:
    """The witness's signature photo (checked now, not when the refusal is saved); another
    witness or done."""
    draft = context.user_data[DRAFT]
    image = await _image_bytes(update, context, t(context.lang, "field_witness_image"))
    witness = draft.pop("witness")
    witness["signature_image_base64"] = base64.b64encode(image).decode()
    draft["witnesses"].append(witness)
    return await _ask_proof(update, context)


async def _ask_video(update: Update, context: BotContext) -> int:
    draft = context.user_data[DRAFT]
    lang = context.lang

    def videos(uow, actor):
        return [(e.id, e.filename, e.sha256[:8]) for e in
                intake.videos_of_case(uow, actor, draft["case_id"], channel="telegram")]

    found = await as_officer(context, videos)
    if not found:
        await ask(update, t(lang, "proof_no_video"))
        return await _ask_proof(update, context)
    draft["videos"] = found
    await ask(update, t(lang, "proof_pick_video"),
              buttons([[(f"{name} {sha}…", f"rv:{i}")] for i, (_, name, sha) in
                       enumerate(found)]))
    return R_VIDEO


async def video_choice(update: Update, context: BotContext) -> int:
    """The video that shows the refusal."""
    draft = context.user_data[DRAFT]
    arg = update.callback_query.data.split(":")[1]
    videos = draft.get("videos") or []
    if not arg.isdigit() or int(arg) >= len(videos):
        await ask(update, t(context.lang, "stale_button"))
        return R_PROOF
    draft["video_evidence_id"] = videos[int(arg)][0]
    return await _refuse_summary(update, context)


async def _refuse_summary(update: Update, context: BotContext) -> int:
    draft = context.user_data[DRAFT]
    lang = context.lang
    what = t(lang, f"refused_{draft['refused']}")
    if draft["record"] is not None:
        record = draft["records"][draft["record"]]
        what += " · " + (record["title"] if lang == "zh" else record["title_en"])
    witnesses = "、".join(f"{w['name']}（{w['relation']}）" for w in draft["witnesses"]) or "—"
    video = "✓" if draft.get("video_evidence_id") else "—"
    await ask(update, t(lang, "refuse_summary", what=what, name=draft["person_name"],
                        role=_role_label(draft["role"], lang), reason=draft["reason"],
                        place=draft["place"], witnesses=witnesses, video=video),
              buttons([[(t(lang, "confirm"), "rc2:ok"), (t(lang, "cancel"), "rc2:no")]]))
    return R_CONFIRM


@guarded
async def refuse_confirm(update: Update, context: BotContext) -> int:
    """Record the refusal through core.cases.signatures.add_refusal."""
    draft = context.user_data[DRAFT]
    lang = context.lang
    record_id = draft["records"][draft["record"]]["id"] if draft["record"] is not None else None
    data = {"refused": draft["refused"], "role": draft["role"],
            "person_name": draft["person_name"], "reason": draft["reason"],
            "place": draft["place"], "witnesses": draft["witnesses"] or None,
            "video_evidence_id": draft.get("video_evidence_id")}

    def add(uow, actor):
        sig_service.add_refusal(uow, actor, draft["case_id"], Refuse.parse(data, record_id))
        gaps = ""
        if record_id:
            gaps = _record_gaps(sig_service.record_status(uow, actor, draft["case_id"],
                                                          record_id, channel="telegram"), lang)
            gaps += _receipt_line(uow, record_id, lang)
        case = case_service.get_case(uow, actor, draft["case_id"], channel="telegram")
        return gaps, next_steps_of(uow, case, lang)

    gaps, nxt = await as_officer(context, add)
    context.user_data.pop(DRAFT, None)
    await ask(update, t(lang, "refuse_saved", n=len(draft["witnesses"])) + "\n" + gaps + nxt)
    return END


def handlers(persistent: bool) -> list:
    """/sign and /refuse."""
    text = filters.TEXT & ~filters.COMMAND
    return [
        dialog("sign", [CommandHandler("sign", sign_start)], {
            PICK: [CallbackQueryHandler(sign_record, pattern=r"^sg:\d+$")],
            ROLE: [CallbackQueryHandler(sign_role, pattern=r"^s[orv]:")],
            NAME: [MessageHandler(text, sign_name),
                   CallbackQueryHandler(sign_name, pattern=r"^sn:d$")],
            METHOD: [CallbackQueryHandler(sign_method, pattern=r"^sm:")],
            IMAGE: [MessageHandler(IMAGES, sign_image)],
        }, persistent=persistent),
        dialog("refuse", [CommandHandler("refuse", refuse_start)], {
            R_PICK: [CallbackQueryHandler(refuse_record, pattern=r"^rp:"),
                     CallbackQueryHandler(refuse_quick, pattern=r"^rx:")],
            R_ROLE: [CallbackQueryHandler(refuse_role, pattern=r"^rr:")],
            R_NAME: [MessageHandler(text, refuse_name),
                     CallbackQueryHandler(refuse_name, pattern=r"^rn:d$")],
            R_REASON: [MessageHandler(text, refuse_reason),
                       CallbackQueryHandler(refuse_reason_button, pattern=r"^rz:")],
            R_PLACE: [MessageHandler(text, refuse_place),
                      CallbackQueryHandler(refuse_place, pattern=r"^rl:d$")],
            R_PROOF: [CallbackQueryHandler(proof_choice, pattern=r"^rw:"),
                      CallbackQueryHandler(video_choice, pattern=r"^rv:\d+$")],
            W_NAME: [MessageHandler(text, witness_name)],
            W_ID: [MessageHandler(text, witness_id)],
            W_RELATION: [MessageHandler(text, witness_relation)],
            W_SIGN: [MessageHandler(IMAGES, witness_sign)],
            R_VIDEO: [CallbackQueryHandler(video_choice, pattern=r"^rv:\d+$")],
            R_CONFIRM: [CallbackQueryHandler(refuse_confirm, pattern=r"^rc2:ok$"),
                        CallbackQueryHandler(cancel_button, pattern=r"^rc2:no$")],
        }, persistent=persistent),
    ]
