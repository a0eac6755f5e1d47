"""Complainants (A11.1, N21, N24): a tracking number and code on intake, notices when the
decision to start is made and when the case ends, each notice recorded on the case, and a
status lookup with number + code that needs no account.

The code is random, shown once (in the intake notice and in the ``complaint.ticket_issued``
event of the unit of work, for the front that registered the intake) and stored only as a
salted SHA-256. Notice records keep the text with the code masked.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

from sqlalchemy import select

from core import ledger
from core.cases.models import Case, Record, StageChange
from core.cases.visibility import writable_case
from core.complaints.models import ComplaintIntake, ComplaintTicket
from core.kernel.clock import parse_aware, utcnow
from core.kernel.errors import Invalid, NotFound
from core.kernel.ids import new_id
from core.notices.models import OutboxMessage
from core.notices.outbox import insert_outbox_if_absent
from core.people.access import log_access
from core.people.models import Department, Officer
from core.platform import ratelimit
from core.platform.uow import Event, UnitOfWork, UnitsOfWork
from core.rules.calendar import LEGAL_TZ
from core.rules.catalogue import record_type, validate_fields

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read over the phone
CODE_LENGTH = 10  # ~49 bits: guessing is hopeless even without a rate limit
MASK = "**********"
# Exactly one plain address: "x@y.z,admin" or "a@b.c, d@e.f" is no address (issue 12, finding 8:
# a list would add recipients).
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]{1,64}@"
                    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_PHONE = re.compile(r"^\+?\d{7,15}$")
_TELEGRAM = re.compile(r"^(?:tg|telegram):\s*(-?\d{1,20})$", re.IGNORECASE)
# Outbox channel → how the notice record names it (the webhook is the SMS gateway).
RECORD_CHANNEL = {"email": "email", "webhook": "sms", "telegram": "telegram"}
NOTICE = "complainant_notice"


def code_hash(tracking_no: str, code: str) -> str:
    """The stored form of a code, salted with its tracking number."""
    return hashlib.sha256(f"{tracking_no}:{code.strip().upper()}".encode()).hexdigest()


_code_hash = code_hash


# Compared against when the tracking number is unknown, so both failures cost the same.
_DUMMY_HASH = _code_hash("unknown", "unknown")


def new_code() -> str:
    """A random status-lookup code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def route_contact(contact: object, telegram_chat_id: object = None, intake_channel: str = ""
                  ) -> tuple[str, str] | None:
    """(outbox channel, recipient) for a complainant's contact: a Telegram chat, an e-mail
    address, or a phone number (SMS through the webhook gateway); None when unreachable."""
    if isinstance(telegram_chat_id, int) and not isinstance(telegram_chat_id, bool):
        return "telegram", str(telegram_chat_id)
    text = contact.strip() if isinstance(contact, str) else ""
    if m := _TELEGRAM.match(text):
        return "telegram", m.group(1)
    if _EMAIL.match(text):
        return "email", text[:200]
    digits = re.sub(r"[\s\-()]", "", text)
    if intake_channel == "telegram" and re.fullmatch(r"-?\d{1,20}", digits):
        return "telegram", digits
    if _PHONE.match(digits):
        return "webhook", digits[:32]
    return None


def _ticket_route(ticket: ComplaintTicket) -> tuple[str, str] | None:
    if ticket.telegram_chat_id is not None:
        return "telegram", str(ticket.telegram_chat_id)
    if ticket.email:
        return "email", ticket.email
    if ticket.phone:
        return "webhook", ticket.phone
    return None


def _set_contact(ticket: ComplaintTicket, route: tuple[str, str] | None) -> None:
    ticket.telegram_chat_id = ticket.email = ticket.phone = None
    if route is None:
        return
    channel, to = route
    if channel == "telegram":
        ticket.telegram_chat_id = int(to)
    elif channel == "email":
        ticket.email = to
    else:
        ticket.phone = to


def _tz(session):
    """The legal time zone of the settings this session's unit of work runs with."""
    settings = session.info.get("settings")
    return settings.legal_tz if settings is not None else LEGAL_TZ


def new_tracking_no(session, at: datetime) -> str:
    """A new tracking number: TS + the legal day + 6 random characters, unused by any ticket
    or intake item (an accepted item's ticket keeps the item's number)."""
    while True:
        number = f"TS{at.astimezone(_tz(session)):%Y%m%d}" + "".join(
            secrets.choice(CODE_ALPHABET) for _ in range(6))
        if session.execute(select(ComplaintTicket.id).where(
                ComplaintTicket.tracking_no == number)).first() is None and \
                session.execute(select(ComplaintIntake.id).where(
                    ComplaintIntake.tracking_no == number)).first() is None:
            return number


_tracking_no = new_tracking_no


def ticket_for_case(session, case_id: str) -> ComplaintTicket | None:
    """The complaint ticket of a case, if it has one."""
    return session.execute(select(ComplaintTicket).where(ComplaintTicket.case_id == case_id)
                           ).scalars().first()


def _local(value: object, tz) -> str:
    """An ISO time from a record field as a legal-time text, or '' when absent."""
    try:
        return parse_aware(value).astimezone(tz).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return ""


def _queue_notice(uow: UnitOfWork, case: Case, ticket: ComplaintTicket, purpose: str,
                  key: str, subject: str, zh: str, en: str, actor_id: str,
                  code: str | None = None) -> Record | None:
    """Queue one notice to the complainant and record it on the case (A11.1); a notice whose
    key was queued before is not queued or recorded again."""
    route = _ticket_route(ticket)
    if route is None:
        return None  # no usable contact: the officer tells the complainant and records it
    channel, to = route
    key = f"complaint:{ticket.id}:{purpose}:{key}:{channel}"
    session = uow.session
    if session.execute(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)
                       ).first():
        return None
    body = zh + (f"\n{en}" if ticket.lang == "en" else "")
    stored = body.replace(code, MASK) if code else body
    now = utcnow()
    fields = validate_fields(record_type(NOTICE), {
        "channel": RECORD_CHANNEL[channel], "recipient": to, "content": stored})
    record = Record(id=new_id(), case_id=case.id, type=NOTICE, stage=case.stage, fields=fields,
                    officers=[actor_id], occurred_at=now, created_at=now, created_by=actor_id)
    session.add(record)
    ledger.append(session, "record", record, case_id=case.id)
    insert_outbox_if_absent(session, [{
        "idempotency_key": key, "case_id": case.id, "reminder_id": None, "channel": channel,
        "recipient": to, "officer_id": None, "subject": subject[:300], "body": body,
        "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
        "payload": {"event": "complainant.notice", "purpose": purpose, "case_id": case.id,
                    "tracking_no": ticket.tracking_no, "notice_record_id": record.id,
                    # The body with the code masked replaces it once sent (finding 8).
                    **({"masked_body": stored} if code else {})},
    }])
    uow.emit(Event(f"record.{NOTICE}.created", case.id, now,
                   {"record_id": record.id, "occurred_at": now.isoformat()}))
    uow.emit(Event(f"complainant.notified.{purpose}", case.id, now,
                   {"record_id": record.id, "ticket_id": ticket.id}))
    return record


def _dept_name(session, case: Case) -> str:
    dept = session.get(Department, case.department_id)
    return dept.name if dept else ""


def _on_intake(uow: UnitOfWork, event: Event) -> None:
    """Open (or, for a corrected intake, update) the ticket and send the tracking notice."""
    session = uow.session
    record = session.get(Record, event.data.get("record_id"))
    case = session.get(Case, event.case_id)
    if record is None or case is None:
        return
    f = record.fields
    item = session.execute(select(ComplaintIntake).where(ComplaintIntake.case_id == case.id)
                           ).scalars().first()
    if item is not None:
        _ticket_for_intake(uow, case, record, item)
        return
    route = route_contact(f.get("complainant_contact"), event.data.get("telegram_chat_id"),
                          f.get("channel", ""))
    ticket = ticket_for_case(session, case.id)
    if ticket is not None and _ticket_route(ticket) == route:
        return  # a correction that keeps the contact: the complainant has the code already
    code = new_code()
    if ticket is None:
        ticket = ComplaintTicket(id=new_id(), case_id=case.id,
                                 tracking_no=_tracking_no(session, event.at),
                                 code_hash="", lang="en" if event.data.get("lang") == "en"
                                 else "zh", created_at=utcnow())
        session.add(ticket)
    ticket.code_hash = _code_hash(ticket.tracking_no, code)
    _set_contact(ticket, route)
    session.flush()
    uow.emit(Event("complaint.ticket_issued", case.id, utcnow(),
                   {"ticket_id": ticket.id, "tracking_no": ticket.tracking_no, "code": code}))
    received = _local(f.get("received_at"), uow.settings.legal_tz)
    zh = (f"{f.get('complainant_name', '')}您好：您的投诉举报已于 {received} 登记，受理编号 "
          f"{ticket.tracking_no}，查询码 {code}。请凭受理编号和查询码查询办理进度。本件将由我局"
          f"依照行政处罚程序进行立案前核查（15日内，经批准可延长10日），是否立案将告知您。"
          f"【{_dept_name(session, case)}】")
    # N21 (信访工作条例 Art. 23): the receipt and the route and procedure it will take; N23
    # is that route for a report of a violation.
    en = (f"Your complaint received {received} is registered as {ticket.tracking_no}; status "
          f"code {code}. Use both to check its progress. It goes to a pre-filing check (15 days, "
          f"10 more with approval); you will be told whether a case is opened.")
    _queue_notice(uow, case, ticket, "intake", record.id,
                  f"投诉举报登记通知（{ticket.tracking_no}）", zh, en, record.created_by, code=code)


def _intake_route(item: ComplaintIntake) -> tuple[str, str] | None:
    """Where an accepted item's notices may go: the filing chat or a confirmed address;
    None while the address is unconfirmed (issue 12, finding 5)."""
    if item.contact_confirmed_at is None:
        return None
    return item.contact_channel, item.contact_to


def _ticket_for_intake(uow: UnitOfWork, case: Case, record: Record,
                       item: ComplaintIntake) -> None:
    """The ticket of an accepted intake item keeps the number and code the complainant was
    given at submission; the receipt notice goes to a confirmed contact only."""
    session = uow.session
    ticket = ticket_for_case(session, case.id)
    if ticket is not None:
        return  # a corrected intake record: the complainant's number, code and contact stay
    ticket = ComplaintTicket(id=new_id(), case_id=case.id, tracking_no=item.tracking_no,
                             code_hash=item.code_hash, lang=item.lang, created_at=utcnow())
    _set_contact(ticket, _intake_route(item))
    session.add(ticket)
    session.flush()
    _intake_notice(uow, case, ticket, record)


def _intake_notice(uow: UnitOfWork, case: Case, ticket: ComplaintTicket,
                   record: Record) -> None:
    """N21: the receipt of an accepted public complaint and the route it takes; the code was
    given at submission and is not sent again."""
    f = record.fields
    received = _local(f.get("received_at"), uow.settings.legal_tz)
    zh = (f"{f.get('complainant_name', '')}您好：您于 {received} 提交的投诉举报（受理编号 "
          f"{ticket.tracking_no}）经核查已受理登记。请凭受理编号和提交时告知的查询码查询办理"
          f"进度。本件将由我局依照行政处罚程序进行立案前核查（15日内，经批准可延长10日），"
          f"是否立案将告知您。【{_dept_name(uow.session, case)}】")
    en = (f"Your complaint received {received} ({ticket.tracking_no}) was checked and "
          f"registered. Use the number and the status code you were given to follow it. It "
          f"goes to a pre-filing check (15 days, 10 more with approval); you will be told "
          f"whether a case is opened.")
    _queue_notice(uow, case, ticket, "intake", record.id,
                  f"投诉举报登记通知（{ticket.tracking_no}）", zh, en, record.created_by)


def contact_confirmed(uow: UnitOfWork, item: ComplaintIntake) -> None:
    """An accepted item's address was confirmed afterwards: its ticket's notices go there
    from now on, starting with the receipt notice (N21) if none reached anyone yet."""
    session = uow.session
    ticket = ticket_for_case(session, item.case_id)
    case = session.get(Case, item.case_id)
    if ticket is None or case is None or _ticket_route(ticket) is not None:
        return
    _set_contact(ticket, _intake_route(item))
    session.flush()
    record = _latest(session, case.id, "complaint_intake")
    if record is not None:
        _intake_notice(uow, case, ticket, record)


def _on_decision(uow: UnitOfWork, event: Event) -> None:
    """Tell the complainant whether a case is opened (A11.1, N21)."""
    session = uow.session
    record = session.get(Record, event.data.get("record_id"))
    case = session.get(Case, event.case_id)
    ticket = ticket_for_case(session, event.case_id) if case else None
    if record is None or ticket is None:
        return
    f = record.fields
    if f.get("decision") == "start":
        zh_result, en_result = "决定立案调查", "a case is opened"
    else:
        zh_result = f"决定不予立案，理由：{f.get('reason', '')}"
        en_result = f"no case is opened; reason: {f.get('reason', '')}"
    zh = (f"您好：您的投诉举报（受理编号 {ticket.tracking_no}）经审查，{zh_result}。"
          f"【{_dept_name(session, case)}】")
    en = f"Complaint {ticket.tracking_no}: after review, {en_result}."
    _queue_notice(uow, case, ticket, "decision", record.id,
                  f"投诉举报处理决定告知（{ticket.tracking_no}）", zh, en, record.created_by)


def _on_closed(uow: UnitOfWork, event: Event) -> None:
    """Tell the complainant the matter is finished, with the result (A11.1)."""
    session = uow.session
    case = session.get(Case, event.case_id)
    ticket = ticket_for_case(session, event.case_id) if case else None
    if ticket is None:
        return
    change = session.execute(select(StageChange).where(
        StageChange.case_id == case.id, StageChange.to_stage == "closed")
        .order_by(StageChange.at.desc())).scalars().first()
    actor_id = change.officer_id if change else case.opened_by
    decision = _latest(session, case.id, "complaint_decision")
    if decision is not None and decision.fields.get("decision") == "not_start":
        zh_result, en_result = "已办结：决定不予立案", "finished: no case was opened"
    else:
        zh_result = f"已办结，案件编号 {case.number}"
        en_result = f"finished (case {case.number})"
    zh = (f"您好：您的投诉举报（受理编号 {ticket.tracking_no}）{zh_result}。如需了解处理结果，"
          f"可凭受理编号和查询码查询或向本机关申请查阅。【{_dept_name(session, case)}】")
    en = f"Complaint {ticket.tracking_no}: {en_result}."
    _queue_notice(uow, case, ticket, "result", case.id,
                  f"投诉举报办理结果告知（{ticket.tracking_no}）", zh, en, actor_id)


def _latest(session, case_id: str, rtype: str) -> Record | None:
    """The newest record of a type on a case that no later record corrects."""
    rows = session.execute(select(Record).where(Record.case_id == case_id, Record.type == rtype)
                           .order_by(Record.created_at)).scalars().all()
    corrected = {r.corrects_id for r in rows if r.corrects_id}
    live = [r for r in rows if r.id not in corrected]
    return live[-1] if live else None


HANDLERS = {
    "record.complaint_intake.created": _on_intake,
    "record.complaint_decision.created": _on_decision,
    "case.stage.closed": _on_closed,
}


def handle_event(uow: UnitOfWork, event: Event) -> None:
    """React to the complaint events of a case (intake, decision, closing)."""
    handler = HANDLERS.get(event.name)
    if handler is not None and event.case_id:
        handler(uow, event)


def reissue_code(uow: UnitOfWork, actor: Officer, case_id: str) -> tuple[ComplaintTicket, str]:
    """A new code for a complaint (the old one stops working), for an officer to hand over."""
    case = writable_case(uow.session, actor, case_id)
    ticket = ticket_for_case(uow.session, case.id)
    if ticket is None:
        raise NotFound(f"case {case_id} has no complaint ticket")
    code = new_code()
    ticket.code_hash = _code_hash(ticket.tracking_no, code)
    log_access(uow.session, actor, "reissue_code", "complaint", ticket.id)
    return ticket, code


def record_notice_delivered(uow: UnitOfWork, outbox_id: int,
                            sent_at: datetime | None = None) -> Record:
    """Record that a queued notice reached the complainant: a correcting complainant_notice
    with sent_at (A11.1 delivery proof). Called by the delivery worker; idempotent."""
    session = uow.session
    message = session.get(OutboxMessage, outbox_id)
    record_id = (message.payload or {}).get("notice_record_id") if message else None
    original = session.get(Record, record_id) if record_id else None
    if original is None:
        raise NotFound(f"outbox message {outbox_id} is not a complainant notice")
    done = session.execute(select(Record).where(Record.corrects_id == original.id)
                           ).scalars().first()
    if done is not None:
        return done
    sent_at = sent_at or message.sent_at or utcnow()
    if sent_at.tzinfo is None:
        raise Invalid("sent_at must carry a time zone")
    fields = validate_fields(record_type(NOTICE), {**original.fields,
                                                   "sent_at": sent_at.isoformat()})
    case = session.get(Case, original.case_id)
    now = utcnow()
    record = Record(id=new_id(), case_id=original.case_id, type=NOTICE, stage=case.stage,
                    fields=fields, officers=original.officers, occurred_at=sent_at,
                    created_at=now, created_by=original.created_by, corrects_id=original.id)
    session.add(record)
    ledger.append(session, "record", record, case_id=case.id)
    uow.emit(Event(f"record.{NOTICE}.created", case.id, now,
                   {"record_id": record.id, "occurred_at": sent_at.isoformat()}))
    return record


STATUS_ZH = {"received": "已登记，待审查", "started": "已立案调查", "not_started": "不予立案",
             "closed": "已办结"}


def complaint_status(session, tracking_no: str, code: str) -> dict:
    """The status of a complaint for whoever holds its tracking number and code; an unknown
    number and a wrong code are the same 404. The lookup is logged (A33.1)."""
    tracking_no = (tracking_no or "").strip().upper()[:32]
    ticket = session.execute(select(ComplaintTicket).where(
        ComplaintTicket.tracking_no == tracking_no)).scalar_one_or_none() if tracking_no else None
    item = None
    if ticket is None and tracking_no:
        # Not (yet) a case: a pending or rejected intake item (issue 12, finding 5).
        item = session.execute(select(ComplaintIntake).where(
            ComplaintIntake.tracking_no == tracking_no)).scalar_one_or_none()
    held = ticket or item
    expected = held.code_hash if held else _DUMMY_HASH
    matches = hmac.compare_digest(_code_hash(tracking_no, code or ""), expected)
    if held is None or not matches:
        raise NotFound("no complaint with this tracking number and code")
    if item is not None:
        from core.complaints.intake import intake_status

        log_access(session, None, "status", "complaint_intake", item.id, channel="public")
        return intake_status(item)
    case = session.get(Case, ticket.case_id)
    intake = _latest(session, case.id, "complaint_intake")
    decision = _latest(session, case.id, "complaint_decision")
    if case.stage == "closed":
        status = "closed"
    elif decision is None:
        status = "received"
    else:
        status = "started" if decision.fields.get("decision") == "start" else "not_started"
    notices = session.execute(select(Record).where(Record.case_id == case.id,
                                                   Record.type == NOTICE)
                              .order_by(Record.created_at)).scalars().all()
    corrected = {r.corrects_id for r in notices if r.corrects_id}
    log_access(session, None, "status", "complaint", ticket.id, channel="public")
    return {
        "tracking_no": ticket.tracking_no, "status": status, "status_zh": STATUS_ZH[status],
        "received_at": intake.fields.get("received_at") if intake else None,
        "decision": None if decision is None else {
            "decision": decision.fields.get("decision"),
            "decided_at": decision.fields.get("decided_at"),
            "reason": decision.fields.get("reason")
            if decision.fields.get("decision") == "not_start" else None},
        "case_number": case.number if status in ("started", "closed") and decision is not None
        and decision.fields.get("decision") == "start" else None,
        "notices": [{"at": n.occurred_at.astimezone(_tz(session)).isoformat(),
                     "channel": n.fields.get("channel"), "sent_at": n.fields.get("sent_at")}
                    for n in notices if n.id not in corrected],
    }


def checked_status(uows: UnitsOfWork, tracking_no: str, code: str, *, remote: str) -> dict:
    """complaint_status behind the lookup limits (per caller address or Telegram account, and
    per tracking number; core.platform.ratelimit): every attempt is counted, and one over a
    limit is refused with RateLimited before the code is compared. The code's 49 bits make
    guessing hopeless anyway; the limit keeps the lookup from being a free oracle and a load."""
    tracking_no = (tracking_no or "").strip().upper()[:32]
    ratelimit.refuse_any_over(uows.settings.redis_url, [
        ("complaint_lookup", remote or "-"), ("complaint_number", tracking_no or "-")],
        what="status lookups", what_zh="查询")
    with uows.uow() as uow:
        return complaint_status(uow.session, tracking_no, code)
