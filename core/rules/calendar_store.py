"""The working-day calendar as stored: administrator overrides and declared years (RULES.md
part 2). The package knows the years it was released for; a new year's State Council notice is
entered here as overrides and then declared complete, before any package release."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.kernel import fields
from core.kernel.clock import utcnow
from core.kernel.errors import Conflict, Invalid
from core.ledger import acting
from core.people.access import log_access, require_role
from core.people.models import Officer
from core.rules.calendar import LEGAL_TZ, PACKAGE_YEARS, WorkingDayCalendar
from core.rules.models import CalendarOverride, CalendarYear

# Years an administrator may enter: far enough back for old cases, ahead for next year's notice.
YEAR_RANGE = (2000, 2100)
# The calendar is national: a department's admin may not move every department's deadlines
# (issue 12, finding 10); the calendar administrator's entries are ledgered events.
ADMIN = "calendar_admin"


_REUSE_KEY = "calendar_loaded"


def load_calendar(session: Session, tz: tzinfo = LEGAL_TZ) -> WorkingDayCalendar:
    """The calendar of the package plus every stored override (the latest per day wins)."""
    reused = session.info.get(_REUSE_KEY)
    if reused is not None and reused.tz == tz:
        return reused
    overrides: dict[date, tuple[bool, str]] = {}
    rows = session.execute(
        select(CalendarOverride.day, CalendarOverride.is_working_day, CalendarOverride.note)
        .order_by(CalendarOverride.id)
    )
    for day, working, note in rows:
        overrides[day] = (bool(working), note or "")
    years = session.execute(select(CalendarYear.year)).scalars().all()
    return WorkingDayCalendar(overrides, declared_years=years, tz=tz)


@contextmanager
def reusing(session: Session, calendar: WorkingDayCalendar) -> Iterator[None]:
    """Within the block, ``load_calendar`` of this session answers with ``calendar`` (just
    loaded by the caller, in a step that edits no calendar entry) instead of reading it again."""
    session.info[_REUSE_KEY] = calendar
    try:
        yield
    finally:
        session.info.pop(_REUSE_KEY, None)


def _who(actor: Officer | str) -> tuple[Officer | None, str]:
    """The officer (checked to be a calendar administrator) or a CLI label, and the text stored
    as created_by."""
    if isinstance(actor, Officer):
        require_role(actor, ADMIN, action="editing the working-day calendar")
        return actor, f"officer:{actor.id}"
    label = str(actor).strip()
    if not label:
        raise Invalid("say who makes the change")
    return None, label[:100]


def parse_day(value: object, name: str = "date") -> date:
    """A YYYY-MM-DD date inside the calendar's year range, or a 422."""
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            raise Invalid(f"{name} must be a date YYYY-MM-DD",
                          zh=f"填写有误：{name} 须为日期 YYYY-MM-DD",
                          details={"fields": {name: "invalid"}}) from None
    if not YEAR_RANGE[0] <= day.year <= YEAR_RANGE[1]:
        raise Invalid(f"{name} must be between {YEAR_RANGE[0]} and {YEAR_RANGE[1]}",
                      zh=f"填写有误：{name} 须在 {YEAR_RANGE[0]} 至 {YEAR_RANGE[1]} 年之间",
                      details={"fields": {name: "out of range"}})
    return day


def _note(value: object, required: bool) -> str:
    if value is None or value == "":
        if required:
            raise Invalid("note is required: name the notice or the reason",
                          zh="填写有误：note 必填，请写明通知名称或原因",
                          details={"fields": {"note": "required"}})
        return ""
    if not isinstance(value, str) or len(value) > 300:
        raise Invalid("note must be a string of at most 300 characters",
                      details={"fields": {"note": "invalid"}})
    return value.strip()


def add_override(session: Session, actor: Officer | str, day: object, is_working_day: object,
                 note: object, *, channel: str = "api") -> CalendarOverride:
    """Record that a day is a holiday or a 调休 working day (admin); the latest entry wins."""
    officer, who = _who(actor)
    day = parse_day(day)
    if not isinstance(is_working_day, bool):
        raise Invalid("working must be true or false", details={"fields": {"working": "bool"}})
    acting(session, who)  # the ledgered calendar event names who made it
    row = CalendarOverride(day=day, is_working_day=is_working_day,
                           note=_note(note, required=True), created_by=who, created_at=utcnow())
    session.add(row)
    session.flush()
    # Calendar edits change legal deadlines: keep who did it in the access log as well.
    log_access(session, officer, "calendar_override", "calendar_override", str(row.id),
               channel=channel, remote="" if officer else who)
    return row


def notice_missing(year: int) -> Conflict:
    """The refusal to declare a year whose State Council notice has not been entered (N3):
    declaring it would silence the warnings and count its holidays as working days."""
    return Conflict(
        f"{year} has no holiday entries: enter the State Council notice first "
        f"(国务院办公厅关于{year}年部分节假日安排的通知), each holiday with "
        f"`flask calendar add-holiday {year}-MM-DD --note ...` and each 调休 working day with "
        f"`flask calendar add-workday {year}-MM-DD --note ...` (or POST "
        f"/api/v1/calendar/overrides), then declare the year; force only if the notice "
        f"really has no holidays",
        zh=f"{year}年尚未录入任何节假日：请先录入国务院办公厅关于{year}年部分节假日安排的通知，"
           f"用 `flask calendar add-holiday {year}-MM-DD --note ...` 逐日录入放假日，"
           f"用 `flask calendar add-workday {year}-MM-DD --note ...` 录入调休上班日"
           f"（或 POST /api/v1/calendar/overrides），再声明该年录入完毕；"
           f"仅当通知确无节假日时才可强制声明",
        details={"year": year, "rule": "N3"})


def declare_year(session: Session, actor: Officer | str, year: object, source: object, *,
                 channel: str = "api", force: bool = False) -> CalendarYear:
    """Declare a year's State Council notice fully entered (admin); its warnings then stop.
    A year the package does not know and with no overrides is refused unless forced (N3)."""
    officer, who = _who(actor)
    if isinstance(year, bool) or not isinstance(year, int) \
            or not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        raise Invalid(f"year must be a whole number between {YEAR_RANGE[0]} and "
                      f"{YEAR_RANGE[1]}", details={"fields": {"year": "invalid"}})
    if not isinstance(source, str) or not source.strip() or len(source) > 300:
        raise Invalid("source must name the notice (at most 300 characters)",
                      details={"fields": {"source": "invalid"}})
    if not isinstance(force, bool):
        raise Invalid("force must be true or false", details={"fields": {"force": "bool"}})
    if not force and year not in PACKAGE_YEARS and not list_overrides(session, year):
        raise notice_missing(year)
    acting(session, who)
    row = session.get(CalendarYear, year)
    if row is None:
        row = CalendarYear(year=year, source=source.strip(), created_at=utcnow())
        session.add(row)
    else:
        row.source = source.strip()  # a corrected citation; the log keeps both acts
    session.flush()
    # calendar_years has no created_by column: the access log records who declared it.
    log_access(session, officer, "calendar_declare", "calendar_year", str(year),
               channel=channel, remote="" if officer else who)
    return row


def override_json(row: CalendarOverride) -> dict:
    """An override as the API shows it."""
    return {"id": row.id, "date": row.day.isoformat(), "working": row.is_working_day,
            "note": row.note, "created_by": row.created_by,
            "created_at": row.created_at.isoformat()}


def list_overrides(session: Session, year: int | None = None) -> list[CalendarOverride]:
    """Stored overrides in entry order, optionally of one year."""
    stmt = select(CalendarOverride).order_by(CalendarOverride.day, CalendarOverride.id)
    if year is not None:
        stmt = stmt.where(CalendarOverride.day >= date(year, 1, 1),
                          CalendarOverride.day <= date(year, 12, 31))
    return list(session.execute(stmt).scalars())


def year_report(session: Session, year: int) -> dict:
    """What the calendar says about a year: status, source, warning and its rest weekdays and
    working weekend days (the exceptions a State Council notice makes)."""
    if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        raise Invalid(f"year must be between {YEAR_RANGE[0]} and {YEAR_RANGE[1]}")
    cal = load_calendar(session)
    declared = session.get(CalendarYear, year)
    day, rest_weekdays, working_weekends = date(year, 1, 1), [], []
    while day.year == year:
        answer = cal.explain(day)
        if day.weekday() < 5 and not answer.is_working_day:
            rest_weekdays.append({"date": day.isoformat(), "note": answer.note})
        elif day.weekday() >= 5 and answer.is_working_day:
            working_weekends.append({"date": day.isoformat(), "note": answer.note})
        day = date.fromordinal(day.toordinal() + 1)
    return {
        "year": year, "status": cal.year_status(year),
        "package": year in PACKAGE_YEARS,
        "declared_source": declared.source if declared else None,
        "warning": cal.year_warning(year),
        "overrides": [override_json(r) for r in list_overrides(session, year)],
        "rest_weekdays": rest_weekdays, "working_weekends": working_weekends,
    }


def overrides_view(session: Session, actor: Officer, year: object = None) -> dict:
    """The administrator's calendar entries and declared years (any signed-in officer); the
    read is logged (A33.1)."""
    year = fields.whole(year, "year", low=YEAR_RANGE[0], high=YEAR_RANGE[1]) \
        if year not in (None, "") else None
    years = session.execute(select(CalendarYear).order_by(CalendarYear.year)).scalars()
    log_access(session, actor, "list", "calendar_override", str(year or "all"))
    return {"overrides": [override_json(r) for r in list_overrides(session, year)],
            "declared_years": [{"year": y.year, "source": y.source} for y in years]}
