"""Idempotency of POST requests: a retry with the same key gets the first answer, never a
second record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.kernel.clock import utcnow
from core.platform.db import Base, UTCDateTime


def _dt(**kw) -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), **kw)


class IdempotentRequest(Base):
    """The stored answer to a POST sent with an Idempotency-Key."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("officer_id", "key"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = _dt(default=utcnow)
