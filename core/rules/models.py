"""The stored part of the working-day calendar: an administrator's overrides and the years
whose State Council holiday notice was entered in full (RULES.md part 2)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.kernel.clock import utcnow
from core.ledger.states import mirror as ledger_mirror
from core.platform.db import Base, UTCDateTime


def _dt(**kw) -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), **kw)


class CalendarOverride(Base):
    """An administrator's entry of a holiday or 调休 working day, winning over the package."""

    __tablename__ = "calendar_overrides"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    is_working_day: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = _dt(default=utcnow)


class CalendarYear(Base):
    """A year whose State Council holiday notice has been entered in full."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = _dt(default=utcnow)


# The working-day calendar moves every legal deadline: each override and each declared year is
# a ledgered state event (A37.1, RULES.md part 2), replayed by ledger verify.
def _calendar_event(op: str, changed: frozenset[str], row) -> str:
    if isinstance(row, CalendarYear):
        return {"created": "calendar.year_declared", "changed": "calendar.year_source_changed"
                }.get(op, f"calendar.year_{op}")
    return {"created": "calendar.override_added"}.get(op, f"calendar.override_{op}")


ledger_mirror(CalendarOverride, "calendar_override", namer=_calendar_event)
ledger_mirror(CalendarYear, "calendar_year", namer=_calendar_event)
