"""Late entries (issue 10 item 10): a record entered into the system later than the A31.1
period (2 working days) after the moment it records. Nothing is refused (the record is the
truth of what happened), but the supervisor is told at once (core.notices.alerts on
``record.late_entry``) and the metrics count them with :func:`late_entries`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.models import Case, Record
from core.cases.periods import load_calendar
from core.rules.calendar import WorkingDayCalendar, legal_date

LATE_AFTER_WORKING_DAYS = 2  # A31.1's figure


def is_late_entry(record: Record, cal: WorkingDayCalendar) -> bool:
    """True when the record was entered after the A31.1 period following its occurred_at."""
    limit = cal.add_working_days(legal_date(record.occurred_at, cal.tz),
                                 LATE_AFTER_WORKING_DAYS).date
    return legal_date(record.created_at, cal.tz) > limit


def late_entries(session: Session, department_id: str, start: datetime, end: datetime
                 ) -> list[Record]:
    """The department's records entered in [start, end) that are late entries (A36.1)."""
    cal = load_calendar(session)
    rows = session.execute(select(Record).join(Case, Case.id == Record.case_id).where(
        Case.department_id == department_id, Record.created_at >= start,
        Record.created_at < end).order_by(Record.created_at)).scalars()
    return [r for r in rows if is_late_entry(r, cal)]
