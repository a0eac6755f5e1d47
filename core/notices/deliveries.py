"""The outbox as admins and supervisors see it: a department's messages by state, and a dead
message given a fresh set of attempts. Reports stay in their department."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.models import Case
from core.kernel import fields
from core.kernel.clock import utcnow
from core.kernel.errors import Conflict, NotFound
from core.notices.models import OutboxMessage
from core.people.access import log_access, require_role
from core.people.models import Officer
from core.platform.uow import UnitOfWork

STATUSES = ("pending", "queued", "sending", "sent", "dead", "cancelled")


def list_deliveries(uow: UnitOfWork, actor: Officer, status: object = "dead", *,
                    limit: object = 100, offset: object = 0) -> list[OutboxMessage]:
    """The caller's department's messages in one state, newest first (admin, supervisor)."""
    require_role(actor, "admin", "supervisor", action="listing deliveries")
    status = fields.choice(status or "dead", "status", STATUSES)
    rows = department_deliveries(uow.session, actor.department_id, status,
                                 limit=fields.whole(limit, "limit", low=1, high=500, default=100),
                                 offset=fields.whole(offset, "offset", low=0, high=10**9,
                                                     default=0))
    log_access(uow.session, actor, "list", "delivery", status)
    return rows


def retry_delivery(uow: UnitOfWork, actor: Officer, outbox_id: object) -> OutboxMessage:
    """Give a dead message of the caller's department a fresh set of attempts (admin)."""
    require_role(actor, "admin", action="retrying a delivery")
    outbox_id = fields.whole(outbox_id, "id", low=1, high=2**62)
    row = uow.session.get(OutboxMessage, outbox_id)
    if row is None or not in_department(uow.session, row, actor.department_id):
        raise NotFound(f"delivery {outbox_id} not found", zh="未找到该消息")
    if revive(uow.session, outbox_id) is None:
        raise Conflict(f"delivery {outbox_id} is {row.status}, not dead",
                       zh=f"该消息状态为 {row.status}，不是投递失败")
    return row


def department_deliveries(session: Session, department_id: str, status: str, *,
                          limit: int = 100, offset: int = 0) -> list[OutboxMessage]:
    """A department's messages in one state, newest first (to an officer of it, or on a
    case of it)."""
    officers = select(Officer.id).where(Officer.department_id == department_id)
    cases = select(Case.id).where(Case.department_id == department_id)
    return list(session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.status == status,
               OutboxMessage.officer_id.in_(officers) | OutboxMessage.case_id.in_(cases))
        .order_by(OutboxMessage.id.desc()).limit(limit).offset(offset)
    ).scalars())


def in_department(session: Session, row: OutboxMessage, department_id: str) -> bool:
    """True when the message is to an officer of the department or on one of its cases."""
    officer = session.get(Officer, row.officer_id) if row.officer_id else None
    case = session.get(Case, row.case_id) if row.case_id else None
    return department_id in (getattr(officer, "department_id", None),
                             getattr(case, "department_id", None))


def revive(session: Session, outbox_id: int) -> OutboxMessage | None:
    """Give a dead message a fresh set of attempts; None when it is not dead."""
    row = session.execute(select(OutboxMessage).where(OutboxMessage.id == outbox_id)
                          .with_for_update()).scalar_one_or_none()
    if row is None or row.status != "dead":
        return None
    row.status, row.attempts, row.next_attempt_at = "pending", 0, utcnow()
    return row


def outbox_json(row: OutboxMessage) -> dict:
    """The API view of one message."""
    def iso(value):
        return value.isoformat() if value else None

    return {"id": row.id, "idempotency_key": row.idempotency_key, "channel": row.channel,
            "recipient": row.recipient, "officer_id": row.officer_id, "case_id": row.case_id,
            "reminder_id": row.reminder_id, "subject": row.subject, "status": row.status,
            "attempts": row.attempts, "last_error": row.last_error,
            "next_attempt_at": iso(row.next_attempt_at), "sent_at": iso(row.sent_at),
            "created_at": iso(row.created_at)}
