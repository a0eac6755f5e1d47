"""Deadline, reminder and outbox rows: the database is the truth for reminders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, UTCDateTime, utcnow


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


class OutboxMessage(Base):
    """A message to deliver once: the idempotency key is (deadline, recipient, step) or a
    notice's own key; a channel marks it sent only after accepting it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    case_id: Mapped[str | None] = mapped_column(String(32), index=True)
    reminder_id: Mapped[str | None] = mapped_column(ForeignKey("reminders.id"))
    channel: Mapped[str] = mapped_column(String(16))  # telegram | socketio | email | webhook
    recipient: Mapped[str] = mapped_column(String(200))
    officer_id: Mapped[str | None] = mapped_column(ForeignKey("officers.id"))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sent|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ComplaintTicket(Base):
    """How a complainant follows a complaint without an account (A11.1, N21, N24)."""

    __tablename__ = "complaint_tickets"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    tracking_no: Mapped[str] = mapped_column(String(32), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
