"""Idempotency of POST requests: a retry with the same key gets the first answer, never a
second record."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.kernel.clock import utcnow
from core.kernel.errors import Invalid
from core.platform.db import Base, UTCDateTime
from core.platform.uow import UnitOfWork, UnitsOfWork


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


MAX_KEY = 200


def check_key(value: str | None) -> str | None:
    """An Idempotency-Key header, stripped; None when absent; 422 when too long or unprintable."""
    key = (value or "").strip()
    if not key:
        return None
    if len(key) > MAX_KEY or not key.isprintable():
        raise Invalid(f"Idempotency-Key must be at most {MAX_KEY} printable characters",
                      zh=f"Idempotency-Key 须为不超过 {MAX_KEY} 个可打印字符",
                      details={"fields": {"Idempotency-Key": "invalid"}})
    return key


def fingerprint(*parts: object) -> str:
    """What identifies a request's content, so a key reused for another request is refused."""
    return hashlib.sha256(json.dumps(parts, default=str, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class Outcome:
    """The answer to a request run at most once: recorded now, or replayed from the first run."""

    body: dict
    status: int
    replayed: bool


def _stored(session: Session, officer_id: str, key: str, print_: str) -> IdempotentRequest | None:
    row = session.execute(select(IdempotentRequest).where(
        IdempotentRequest.officer_id == officer_id, IdempotentRequest.key == key)
    ).scalar_one_or_none()
    if row is not None and row.fingerprint != print_:
        raise Invalid("this Idempotency-Key was used for a different request",
                      zh="该 Idempotency-Key 已用于另一个请求")
    return row


def run_once(units: UnitsOfWork, *, key: str | None, fingerprint: str | Callable[[], str],
             actor: Callable[[UnitOfWork], Any],
             work: Callable[[UnitOfWork, Any], tuple[dict, int]]) -> Outcome:
    """Run ``work`` in one unit of work unless the caller's key already has an answer; a
    concurrent retry that loses the race on the unique key gets the winner's answer. The
    caller is known (``actor``) before the fingerprint, which may read the body, is taken."""
    try:
        with units.uow() as uow:
            who = actor(uow)
            if callable(fingerprint):
                fingerprint = fingerprint()
            stored = _stored(uow.session, who.id, key, fingerprint) if key else None
            if stored is None:
                body, status = work(uow, who)
                if key:
                    uow.session.add(IdempotentRequest(officer_id=who.id, key=key,
                                                      fingerprint=fingerprint, status=status,
                                                      body=body, created_at=utcnow()))
                    uow.session.flush()
                return Outcome(body, status, False)
    except IntegrityError:
        if not key:
            raise
        with units.uow() as uow:
            stored = _stored(uow.session, actor(uow).id, key, fingerprint)
        if stored is None:
            raise
    return Outcome(stored.body, stored.status, True)
