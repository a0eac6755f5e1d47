"""Writing to the outbox: one row per message and channel, inserted once per idempotency key,
and who in a department a case's messages go to. Delivery is notifications/outbox.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.cases.models import Case, Record
from core.notices.models import OutboxMessage
from core.people.models import Officer


def insert_outbox_if_absent(session: Session, rows: list[dict]) -> None:
    """Insert outbox rows whose idempotency key is new; existing keys are left alone."""
    if not rows:
        return
    # core.bootstrap.Container asks the worker for a prompt delivery after commit.
    session.info["outbox_written"] = True
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        make = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(make(OutboxMessage).values(rows)
                        .on_conflict_do_nothing(index_elements=["idempotency_key"]))
        return
    known = set(session.execute(select(OutboxMessage.idempotency_key).where(
        OutboxMessage.idempotency_key.in_([r["idempotency_key"] for r in rows]))).scalars())
    fresh = [r for r in rows if r["idempotency_key"] not in known]
    if fresh:
        session.execute(insert(OutboxMessage), fresh)


def staff_by_department(session: Session, departments: set[str]) -> dict[str, list[Officer]]:
    """The active officers of each department."""
    out: dict[str, list[Officer]] = {}
    if departments:
        for o in session.execute(select(Officer).where(Officer.department_id.in_(departments),
                                                       Officer.active.is_(True))).scalars():
            out.setdefault(o.department_id, []).append(o)
    return out


def officers_on_records(session: Session, case_ids: set[str]) -> dict[str, set[str]]:
    """The officers named on each case's records."""
    out: dict[str, set[str]] = {}
    if case_ids:
        for case_id, listed in session.execute(select(Record.case_id, Record.officers).where(
                Record.case_id.in_(case_ids))):
            out.setdefault(case_id, set()).update(i for i in (listed or []) if isinstance(i, str))
    return out


def pick_recipients(case: Case, role: str, staff: list[Officer], on_records: set[str]
                    ) -> list[Officer]:
    """From loaded staff: the case's officers for 'officer', else those holding the role."""
    if role == "officer":
        ids = {case.opened_by} | on_records
        people = [o for o in staff if o.id in ids]
    else:
        people = [o for o in staff if role in (o.roles or [])]
    return sorted(people, key=lambda o: o.id)


def recipients(session: Session, case: Case, role: str) -> list[Officer]:
    """Who a reminder for `role` goes to: for 'officer' the case's opening officer and the
    officers on its records; otherwise the department's active officers with that role."""
    staff = staff_by_department(session, {case.department_id}).get(case.department_id, [])
    return pick_recipients(case, role, staff, officers_on_records(session, {case.id}).get(case.id,
                                                                                       set()))


def officer_outbox_rows(officer: Officer, case: Case, key: str, subject: str, body: str,
                        payload: dict, now: datetime, **extra) -> list[dict]:
    """One pending outbox row per channel that reaches an officer: Telegram when bound, always
    Socket.IO to the department room; each row's idempotency key is f"{key}:{channel}"."""
    channels = [("socketio", case.department_id)]
    if officer.telegram_user_id:
        channels.insert(0, ("telegram", str(officer.telegram_user_id)))
    return [{
        "idempotency_key": f"{key}:{channel}", "case_id": case.id, "channel": channel,
        "recipient": to, "officer_id": officer.id, "subject": subject[:300], "body": body,
        "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
        "payload": {**payload, "case_id": case.id, "case_number": case.number,
                    "officer_id": officer.id},
        **extra,
    } for channel, to in channels]
