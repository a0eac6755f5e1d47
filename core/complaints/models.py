"""Complaint tickets: how a complainant follows a complaint without an account (A11.1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
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
