"""Deadline and reminder rows: the database is the truth for reminders (RULES.md part 2)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.kernel.clock import utcnow
from core.ledger.states import mirror as ledger_mirror
from core.platform.db import Base, UTCDateTime


class Deadline(Base):
    """A legal deadline computed when its trigger event was recorded (RULES.md part 2)."""

    __tablename__ = "deadlines"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(16))
    legal_source: Mapped[str] = mapped_column(String(200))
    trigger_event: Mapped[str] = mapped_column(String(100))
    trigger_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    period: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str | None] = mapped_column(String(32))  # record/evidence that started it
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed | cancelled
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(100))
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Reminder(Base):
    """One escalation step of a deadline, claimed by the sweep when it falls due."""

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_due", "status", "send_at"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    deadline_id: Mapped[str] = mapped_column(ForeignKey("deadlines.id"), index=True)
    recipient_role: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(16))  # before | due | overdue | escalate
    send_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending")
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Every deadline and reminder is on the ledger (A37.1, RULES.md part 2): opened, closed,
# cancelled, sent — each a ledgered state event that ledger verify replays against the live
# rows, so an overdue deadline cannot be quietly marked met. A reminder's claim by a sweeper
# (status "claimed", claimed_at) is the sweep's working state: for the ledger it is still
# pending, and only where it ends (done or cancelled) is an event.
def _deadline_event(op: str, changed: frozenset[str], row) -> str:
    if op == "created":
        # A deadline met in the commit that opens it is written once, already closed.
        return "deadline.opened" if row.status == "open" else f"deadline.opened_{row.status}"
    if op == "changed" and "status" in changed:
        return f"deadline.{row.status}"
    return f"deadline.{op}:" + ",".join(sorted(changed))


def _reminder_event(op: str, changed: frozenset[str], row) -> str:
    if op == "created":
        return "reminder.scheduled"
    if op == "changed" and "status" in changed:
        return f"reminder.{row.status}"
    return f"reminder.{op}:" + ",".join(sorted(changed))


def _reminder_as_ledgered(state: dict) -> dict:
    if state.get("status") == "claimed":
        state["status"] = "pending"
    return state


ledger_mirror(Deadline, "deadline", namer=_deadline_event)
ledger_mirror(Reminder, "reminder", namer=_reminder_event, working=("claimed_at",),
              normalise=_reminder_as_ledgered)
