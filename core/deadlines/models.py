"""Deadline and reminder rows: the database is the truth for reminders (RULES.md part 2)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.kernel.clock import utcnow
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
