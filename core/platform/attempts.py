"""Counting attempts in fixed windows, in the database so that every web process shares the
count (the complainant's status lookup, sign-in links): working state, never ledgered."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.kernel.clock import utcnow
from core.platform.db import Base, UTCDateTime


class AttemptCounter(Base):
    """Attempts under one key since the start of its current window."""

    __tablename__ = "attempt_counters"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer, default=0)


def hit(session: Session, key: str, *, limit: int, window: timedelta) -> int:
    """Count one attempt under ``key``; 0 when it is within ``limit`` for the window, else the
    seconds until the window ends (the caller refuses the attempt)."""
    key, now = key[:128], utcnow()
    for _ in range(2):  # a concurrent first insert of the same key: read it again
        row = session.execute(select(AttemptCounter).where(AttemptCounter.key == key)
                              .with_for_update()).scalar_one_or_none()
        if row is not None:
            break
        try:
            with session.begin_nested():
                row = AttemptCounter(key=key, window_start=now, count=0)
                session.add(row)
            break
        except IntegrityError:
            row = None
    if row is None:
        raise RuntimeError(f"attempt counter {key} could not be read")
    if row.window_start + window <= now:
        row.window_start, row.count = now, 0
    row.count += 1
    if row.count > limit:
        return max(1, int((row.window_start + window - now).total_seconds()))
    return 0
