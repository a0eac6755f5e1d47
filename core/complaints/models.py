"""Complaint tickets: how a complainant follows a complaint without an account (A11.1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.kernel.clock import utcnow
from core.ledger.states import mirror as ledger_mirror
from core.platform.db import Base, UTCDateTime


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


# Where a complainant's notices go and the hash of their code are on the ledger (A37.1): a
# contact redirected in the database is reported by ledger verify.
ledger_mirror(ComplaintTicket, "complaint_ticket")


class ComplaintIntake(Base):
    """A complaint from the public waiting in the intake queue until a supervisor of the
    intake department accepts it (a case opens) or rejects it as not a complaint (issue 12,
    finding 5). Never deleted: a complaint is not lost, and spam never becomes a case."""

    __tablename__ = "complaint_intakes"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"), index=True)
    tracking_no: Mapped[str] = mapped_column(String(32), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    # N21/N23/N24 count from receipt, so this is the legal trigger when the case opens.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    channel: Mapped[str] = mapped_column(String(16))
    # What was said: what, where, name, lat, lon, photos, attachments [(sha, name, mime)].
    content: Mapped[dict] = mapped_column(JSON)
    contact: Mapped[str] = mapped_column(String(200))  # as typed (the intake record's field)
    # Where notices may go: the filing chat, or an address once confirmed.
    contact_channel: Mapped[str] = mapped_column(String(16))
    contact_to: Mapped[str] = mapped_column(String(200))
    contact_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirm_hash: Mapped[str | None] = mapped_column(String(64))
    confirm_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger)
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("officers.id"))
    reject_kind: Mapped[str | None] = mapped_column(String(16))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def _intake_event(op: str, changed: frozenset[str], item) -> str:
    if op == "created":
        return "complaint_intake.received"
    if op == "changed" and "status" in changed:
        return f"complaint_intake.{item.status}"
    if op == "changed" and "contact_confirmed_at" in changed:
        return "complaint_intake.contact_confirmed"
    return f"complaint_intake.{op}"


# The receipt time (the legal start of N21/N23/N24), the contact and the decision with its
# reason are on the ledger: a pending item back-dated or a rejection rewritten in the database
# is reported by ledger verify. The one-time confirmation code's hash is working state.
ledger_mirror(ComplaintIntake, "complaint_intake", namer=_intake_event,
              working=("confirm_hash", "confirm_expires_at"))
