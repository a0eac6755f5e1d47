"""The outbox: every message to deliver, once, with its idempotency key and delivery state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.kernel.clock import utcnow
from core.platform.db import Base, UTCDateTime


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
