"""The intake queue of public complaints (issue 12, finding 5; A11.1, N21): a complaint from
someone with no account is kept as a pending item, never deleted, until a supervisor of the
intake department accepts it (its case opens, the clocks counting from receipt) or rejects it
as not a complaint with a reason. Notices go only to the chat that filed it or to an address
the complainant confirmed with a one-time code; nothing else is sent to an unconfirmed one."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from core.complaints import tickets
from core.complaints.models import ComplaintIntake
from core.kernel import fields
from core.kernel.clock import utcnow
from core.kernel.errors import Conflict, Invalid, NotFound
from core.kernel.ids import new_id
from core.notices.outbox import insert_outbox_if_absent, staff_by_department
from core.people.access import log_access, require_role
from core.people.models import Department, Officer
from core.platform import ratelimit
from core.platform.uow import UnitOfWork, UnitsOfWork

STAFF_ROLE = "supervisor"  # who checks the queue of the intake department
REJECT_KINDS = {"spam": ("垃圾信息", "spam"), "duplicate": ("重复投诉", "duplicate"),
                "out_of_scope": ("不属于受理范围", "out of scope")}
CONFIRM_LENGTH = 8  # ~39 bits, and only a few tries an hour (ratelimit "complaint_confirm")
CONFIRM_LIFETIME = timedelta(hours=24)
CONTACT_KIND = {"telegram": ("Telegram", "Telegram"), "email": ("电子邮箱", "e-mail"),
                "webhook": ("手机短信", "SMS")}
STATUS_ZH = {"pending": "已收到，等待核查", "not_accepted": "未予受理"}


def _route(cmd) -> tuple[str, str, bool]:
    """(outbox channel, recipient, already confirmed) for a new complaint's contact: the
    filing chat is confirmed by having filed it; another Telegram chat can never be a
    contact (it could be anyone's); an e-mail or phone waits for its confirmation code."""
    route = tickets.route_contact(cmd.contact)
    chat = cmd.telegram_chat_id
    if chat is not None and (route is None or route[0] == "telegram"):
        if route is not None and route[1] != str(chat):
            raise _contact_refused()
        return "telegram", str(chat), True
    if route is None or route[0] == "telegram":
        raise _contact_refused()
    return route[0], route[1], False


def _contact_refused() -> Invalid:
    return Invalid("the contact must be one phone number or e-mail address, or the Telegram "
                   "chat that files the complaint",
                   zh="请留下一个手机号或电子邮箱，或使用提交投诉的 Telegram 对话作为联系方式",
                   details={"fields": {"contact": "unreachable"}})


def receive(uow: UnitOfWork, dept: Department, cmd) -> dict:
    """Keep a public complaint as a pending intake item of the department and tell its
    supervisors; the tracking number and code are returned once (stored hashed)."""
    channel, to, confirmed = _route(cmd)
    now, code = utcnow(), tickets.new_code()
    number = tickets.new_tracking_no(uow.session, now)
    item = ComplaintIntake(
        id=new_id(), department_id=dept.id, tracking_no=number,
        code_hash=tickets.code_hash(number, code), status="pending", received_at=now,
        channel=cmd.channel, contact=cmd.contact[:200], contact_channel=channel,
        contact_to=to, contact_confirmed_at=now if confirmed else None,
        telegram_user_id=cmd.telegram_user_id, lang="zh", created_at=now,
        content={"what": cmd.what, "where": cmd.where, "name": cmd.name, "lat": cmd.lat,
                 "lon": cmd.lon, "photos": cmd.photos,
                 "attachments": [list(a) for a in cmd.attachments]})
    uow.session.add(item)
    uow.session.flush()
    if not confirmed:
        _send_confirmation(uow, item)
    _alert_supervisors(uow, item)
    return {"tracking_no": number, "code": code, "status": "pending",
            "contact_channel": channel, "contact_confirmed": confirmed}


def _confirm_hash(item: ComplaintIntake, code: str) -> str:
    return hashlib.sha256(f"{item.id}:{item.tracking_no}:{code.strip().upper()}"
                          .encode()).hexdigest()


def _send_confirmation(uow: UnitOfWork, item: ComplaintIntake) -> None:
    """The one message an unconfirmed address ever gets before it is confirmed: a one-time
    code (stored hashed; the outbox keeps the body masked once sent)."""
    code = "".join(secrets.choice(tickets.CODE_ALPHABET) for _ in range(CONFIRM_LENGTH))
    now = utcnow()
    item.confirm_hash = _confirm_hash(item, code)
    item.confirm_expires_at = now + CONFIRM_LIFETIME
    body = (f"您好：有人在投诉举报（受理编号 {item.tracking_no}）中留下了此联系方式。如是您本人，"
            f"请在提交投诉的 Telegram 对话中发送：/confirm {item.tracking_no} {code}"
            "（24 小时内有效）。确认前，不会向此地址发送任何办理通知；如非本人，请忽略本消息。")
    insert_outbox_if_absent(uow.session, [{
        "idempotency_key": f"complaint_intake:{item.id}:confirm:{item.contact_channel}",
        "case_id": None, "reminder_id": None, "channel": item.contact_channel,
        "recipient": item.contact_to, "officer_id": None,
        "subject": f"确认联系方式（{item.tracking_no}）", "body": body, "status": "pending",
        "attempts": 0, "next_attempt_at": now, "created_at": now,
        "payload": {"event": "complaint.contact_confirmation", "tracking_no": item.tracking_no,
                    "department_id": item.department_id,
                    "masked_body": body.replace(code, "*" * CONFIRM_LENGTH)}}])


def _local(item: ComplaintIntake, uow: UnitOfWork) -> str:
    return item.received_at.astimezone(uow.settings.legal_tz).strftime("%Y-%m-%d %H:%M")


def _contact_note(item: ComplaintIntake, lang: str) -> str:
    """The contact's kind and whether it is confirmed: staff need no address to decide."""
    zh, en = CONTACT_KIND.get(item.contact_channel, ("其他", "other"))
    if lang == "en":
        return f"{en} ({'confirmed' if item.contact_confirmed_at else 'not confirmed'})"
    return f"{zh}（{'已确认' if item.contact_confirmed_at else '未确认'}）"


def buttons(item_id: str, lang: str) -> list[list[dict]]:
    """The alert's accept button and one reject button per reason kind."""
    accept = "✅ 受理" if lang == "zh" else "✅ Accept"
    return [[{"text": accept, "data": f"ci:{item_id}:a"}],
            [{"text": ("✗ " + (zh if lang == "zh" else en)), "data": f"ci:{item_id}:r:{kind}"}
             for kind, (zh, en) in REJECT_KINDS.items()]]


def alert_text(uow: UnitOfWork, item: ComplaintIntake, lang: str) -> str:
    """The new-intake alert: what, where, when, attachments and the contact's kind only."""
    c = item.content or {}
    if lang == "en":
        return (f"📥 New public complaint to check ({item.tracking_no})\nReceived: "
                f"{_local(item, uow)}\nWhat: {c.get('what', '')[:500]}\nWhere: "
                f"{c.get('where') or '-'}\nAttachments: {c.get('photos', 0)}\nContact: "
                f"{_contact_note(item, lang)}\nAccept it (a case opens) or reject it with "
                "a reason.")
    return (f"📥 新的群众投诉待核查（受理编号 {item.tracking_no}）\n收到时间：{_local(item, uow)}\n"
            f"问题：{c.get('what', '')[:500]}\n地点：{c.get('where') or '未说明'}\n"
            f"附件：{c.get('photos', 0)} 个\n联系方式：{_contact_note(item, lang)}\n"
            "请核查：受理后立案登记（期限自收到之日起计算）；不予受理须说明理由。")


def _alert_supervisors(uow: UnitOfWork, item: ComplaintIntake) -> None:
    """Each supervisor of the intake department (never another department's) gets the alert
    by Telegram when bound, and the department's live room."""
    staff = staff_by_department(uow.session, {item.department_id}).get(item.department_id, [])
    now, rows = utcnow(), []
    for o in sorted(staff, key=lambda o: o.id):
        if STAFF_ROLE not in (o.roles or []):
            continue
        lang = o.lang or "zh"
        channels = [("socketio", item.department_id)]
        if o.telegram_user_id:
            channels.insert(0, ("telegram", str(o.telegram_user_id)))
        rows += [{
            "idempotency_key": f"complaint_intake:{item.id}:alert:{o.id}:{channel}",
            "case_id": None, "reminder_id": None, "channel": channel, "recipient": to,
            "officer_id": o.id, "subject": "", "body": alert_text(uow, item, lang),
            "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
            "payload": {"event": "complaint_intake.received", "intake_id": item.id,
                        "officer_id": o.id, "lang": lang, "buttons": buttons(item.id, lang)},
        } for channel, to in channels]
    insert_outbox_if_absent(uow.session, rows)


# --- staff: the queue, accept, reject ----------------------------------------------------

def _item(uow: UnitOfWork, actor: Officer, intake_id: str, action: str) -> ComplaintIntake:
    """An item of the caller's department (another department's is 404), for a supervisor."""
    require_role(actor, STAFF_ROLE, action=action)
    item = uow.session.get(ComplaintIntake, str(intake_id)[:32])
    if item is None or item.department_id != actor.department_id:
        raise NotFound(f"no complaint intake item {intake_id}")
    return item


def view(item: ComplaintIntake) -> dict:
    """An item as staff see it: the name and address only once the contact is confirmed."""
    c = item.content or {}
    confirmed = item.contact_confirmed_at is not None
    return {"id": item.id, "tracking_no": item.tracking_no, "status": item.status,
            "received_at": item.received_at.isoformat(), "channel": item.channel,
            "what": c.get("what", ""), "where": c.get("where") or "",
            "photos": int(c.get("photos") or 0), "contact_kind": item.contact_channel,
            "contact_confirmed": confirmed,
            "contact": item.contact if confirmed else None,
            "name": c.get("name") if confirmed else None,
            "decided_at": item.decided_at.isoformat() if item.decided_at else None,
            "reject_kind": item.reject_kind, "reject_reason": item.reject_reason,
            "case_id": item.case_id}


def pending(uow: UnitOfWork, actor: Officer, *, channel: str = "api", remote: str = ""
            ) -> list[ComplaintIntake]:
    """The department's pending items, oldest first (supervisor; access-logged, A33.1)."""
    require_role(actor, STAFF_ROLE, action="checking public complaints")
    items = uow.session.execute(select(ComplaintIntake).where(
        ComplaintIntake.department_id == actor.department_id,
        ComplaintIntake.status == "pending").order_by(ComplaintIntake.received_at)
    ).scalars().all()
    log_access(uow.session, actor, "list", "complaint_intake", actor.department_id,
               channel=channel, remote=remote)
    return list(items)


def queue_for(uow: UnitOfWork, actor: Officer, *, channel: str = "web") -> list[dict]:
    """The pending items a desk shows beside the approvals: a supervisor's department's,
    nothing (and no access-log line) for anyone else."""
    if STAFF_ROLE not in (actor.roles or []):
        return []
    return [view(i) for i in pending(uow, actor, channel=channel)]


def _undecided(item: ComplaintIntake) -> None:
    if item.status == "accepted":
        raise Conflict("the complaint was already accepted", zh="该投诉已受理，无需重复操作",
                       details={"status": item.status, "case_id": item.case_id})
    if item.status != "pending":
        raise Conflict("the complaint was rejected; it cannot be accepted or rejected again",
                       zh="该投诉已决定不予受理，不能再受理或更改", details={"status": item.status})


@dataclass(frozen=True)
class Accepted:
    """An accepted item and the case it opened."""

    item: ComplaintIntake
    case_id: str
    case_number: str


def accept(uow: UnitOfWork, actor: Officer, intake_id: str, *, channel: str = "api",
           remote: str = "") -> Accepted:
    """Accept a pending item: its case opens through core exactly as a public complaint
    always did, with the receipt time as the legal start of N21, N23 and N24 (A11.1)."""
    from core.complaints.public import open_case_for

    item = _item(uow, actor, intake_id, "accepting a public complaint")
    _undecided(item)
    case = open_case_for(uow, item, accepted_by=actor)
    item.status, item.decided_at, item.decided_by = "accepted", utcnow(), actor.id
    log_access(uow.session, actor, "accept", "complaint_intake", item.id, channel=channel,
               remote=remote)
    uow.session.flush()
    return Accepted(item, case.id, case.number)


def reject(uow: UnitOfWork, actor: Officer, intake_id: str, kind: object, reason: object, *,
           channel: str = "api", remote: str = "") -> ComplaintIntake:
    """Reject a pending item as not a complaint (spam, duplicate, out of scope) with a
    reason; recorded on the item and ledgered, and no case ever opens for it."""
    kind = fields.choice(kind, "kind", list(REJECT_KINDS))
    text = fields.text(reason, "reason", limit=500)
    item = _item(uow, actor, intake_id, "rejecting a public complaint")
    _undecided(item)
    item.status, item.decided_at, item.decided_by = "rejected", utcnow(), actor.id
    item.reject_kind, item.reject_reason = kind, text
    log_access(uow.session, actor, "reject", "complaint_intake", item.id, channel=channel,
               remote=remote)
    _tell_rejected(uow, item)
    uow.session.flush()
    return item


def _tell_rejected(uow: UnitOfWork, item: ComplaintIntake) -> None:
    """The complainant hears why, at a confirmed contact only."""
    if item.contact_confirmed_at is None:
        return
    now = utcnow()
    body = (f"您好：您的投诉举报（受理编号 {item.tracking_no}）经核查未予受理，理由："
            f"{REJECT_KINDS[item.reject_kind][0]}，{item.reject_reason}")
    insert_outbox_if_absent(uow.session, [{
        "idempotency_key": f"complaint_intake:{item.id}:rejected:{item.contact_channel}",
        "case_id": None, "reminder_id": None, "channel": item.contact_channel,
        "recipient": item.contact_to, "officer_id": None,
        "subject": f"投诉举报未予受理告知（{item.tracking_no}）", "body": body,
        "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
        "payload": {"event": "complaint_intake.rejected", "tracking_no": item.tracking_no,
                    "department_id": item.department_id}}])


# --- the complainant: confirming the contact, the status of a pending item ----------------

def confirm_contact(uows: UnitsOfWork, tracking_no: str, code: object, *, remote: str) -> dict:
    """Confirm a complaint's e-mail or phone with the one-time code sent to it; from then on
    notices go there. Every attempt counts (per tracking number and per caller), and one over
    the limit is refused before the code is compared."""
    code = fields.text(code, "code", limit=64)
    number = (tracking_no or "").strip().upper()[:32]
    ratelimit.refuse_any_over(uows.settings.redis_url, [
        ("complaint_confirm", number or "-"), ("complaint_lookup", remote or "-")],
        what="confirmation attempts", what_zh="尝试")
    with uows.uow() as uow:
        item = uow.session.execute(select(ComplaintIntake).where(
            ComplaintIntake.tracking_no == number)).scalar_one_or_none() if number else None
        expected = item.confirm_hash if item is not None and item.confirm_hash else None
        live = expected is not None and item.confirm_expires_at is not None \
            and item.confirm_expires_at > utcnow()
        ok = hmac.compare_digest(_confirm_hash(item, code or "") if item else "",
                                 expected or "-")
        if not (live and ok):
            raise NotFound("no contact waiting for confirmation with this number and code",
                           zh="受理编号或确认码不正确，或确认码已过期")
        item.contact_confirmed_at = utcnow()
        item.confirm_hash = item.confirm_expires_at = None
        log_access(uow.session, None, "confirm_contact", "complaint_intake", item.id,
                   channel="public", remote=remote)
        if item.case_id:  # accepted meanwhile: its notices may now go there
            tickets.contact_confirmed(uow, item)
        return {"tracking_no": item.tracking_no, "contact_confirmed": True}


def intake_status(item: ComplaintIntake) -> dict:
    """The status of an item no case was opened for: waiting to be checked, or not
    accepted with the reason (issue 12, finding 5)."""
    rejected = item.status == "rejected"
    status = "not_accepted" if rejected else "pending"
    reason = None
    if rejected:
        reason = f"{REJECT_KINDS.get(item.reject_kind, ('', ''))[0]}：{item.reject_reason}"
    return {"tracking_no": item.tracking_no, "status": status, "status_zh": STATUS_ZH[status],
            "received_at": item.received_at.isoformat(),
            "decision": {"decision": "not_accepted",
                         "decided_at": item.decided_at.isoformat() if item.decided_at else None,
                         "reason": reason} if rejected else None,
            "case_number": None, "notices": [],
            "contact_confirmed": item.contact_confirmed_at is not None}
