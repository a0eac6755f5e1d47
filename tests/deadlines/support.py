"""Helpers the deadline tests share."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.deadlines.models import Deadline, Reminder
from core.kernel.clock import utcnow
from core.kernel.ids import new_id
from core.people.officers import add_officer, ensure_department, issue_token
from tests.helpers import auth

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    """An aware Asia/Shanghai datetime."""
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def end_of(y: int, m: int, d: int) -> datetime:
    """The last instant of a legal day: a day-based due time."""
    return datetime.combine(date(y, m, d), time.max, tzinfo=SH)


def deadlines_of(container, case_id: str) -> list[Deadline]:
    """The deadline rows of a case, earliest due first."""
    with container.uow() as uow:
        return list(uow.session.execute(select(Deadline).where(Deadline.case_id == case_id)
                                        .order_by(Deadline.due_at)).scalars())


def reminders_of(container, deadline_id: str) -> list[Reminder]:
    """The reminder rows of a deadline in send order."""
    with container.uow() as uow:
        return list(uow.session.execute(select(Reminder).where(
            Reminder.deadline_id == deadline_id).order_by(Reminder.send_at, Reminder.id)
        ).scalars())


def api_deadlines(client, user: dict, case_id: str) -> list[dict]:
    """GET the case's deadlines through the API (asserting 200)."""
    r = client.get(f"/api/v1/cases/{case_id}/deadlines", headers=auth(user))
    assert r.status_code == 200, r.get_json()
    return r.get_json()["deadlines"]


def admin_user(container, roles: tuple[str, ...] = ("calendar_admin",)) -> dict:
    """A calendar administrator (or other roles) of the demo department, with a token."""
    with container.uow() as uow:
        dept = ensure_department(uow.session, "YYZJ", "岳阳市住房和城乡建设局（演示）")
        officer = add_officer(uow.session, dept, "管理员", list(roles))
        return {"id": officer.id, "token": issue_token(uow.session, officer)}


def stranger(container) -> dict:
    """An officer of another department, with a token."""
    with container.uow() as uow:
        other = ensure_department(uow.session, "OTHER", "另一个局")
        officer = add_officer(uow.session, other, "赵六", ["officer", "supervisor"], "X1")
        return {"id": officer.id, "token": issue_token(uow.session, officer)}


def bulk_reminders(container, count: int, send_at: datetime, status: str = "pending",
                   case_id: str | None = None) -> list[str]:
    """Insert one deadline with `count` reminders (no events), return the reminder ids."""
    now = utcnow()
    with container.uow() as uow:
        deadline = Deadline(id=new_id(), case_id=case_id, rule_id="A31.1", legal_source="test",
                            trigger_event="evidence.captured", trigger_at=now, due_at=send_at,
                            period=2, unit="working_days", status="open", warnings=[],
                            created_at=now)
        uow.session.add(deadline)
        uow.session.flush()
        ids = [new_id() for _ in range(count)]
        uow.session.add_all([Reminder(id=i, deadline_id=deadline.id, recipient_role="officer",
                                      step="due", send_at=send_at, status=status,
                                      created_at=now) for i in ids])
    return ids
