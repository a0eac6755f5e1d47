"""Working-day calendar for legal deadlines (RULES.md part 2; 民事诉讼法 Art. 85).

"Working days" exclude weekends and statutory holidays and include the 调休 make-up working
weekends of each year's State Council holiday notice. Three sources, strongest first:

1. administrator overrides (``date -> (is_working_day, note)``), e.g. a State Council notice for
   a year the package does not know yet, or a correction;
2. the ``chinese_calendar`` package for the years it was released for;
3. weekends only, for a year with neither: every answer that touches such a year carries a
   warning, so an unknown year is never silent and never a crash.

A year the package does not know becomes *known* only when the administrator declares it
(``declared_years``): overrides list exceptions only, so their presence alone cannot say that a
year's notice has been entered completely. A year with overrides but not declared is counted
with those overrides and still warned about.

Legal days are days in Asia/Shanghai (setting ``TZ_LEGAL``); use :func:`legal_date` to turn an
aware datetime into one, never ``datetime.date()``.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from types import MappingProxyType
from zoneinfo import ZoneInfo

import chinese_calendar

LEGAL_TZ = ZoneInfo("Asia/Shanghai")

PACKAGE_NAME = "chinese_calendar"
try:
    PACKAGE_VERSION: str = chinese_calendar.__version__
except AttributeError:  # pragma: no cover - older releases lacked __version__
    from importlib.metadata import version as _version

    PACKAGE_VERSION = _version("chinesecalendar")

# The package's own tables; read directly because its is_workday() rescans every key per call.
_PKG_HOLIDAYS: Mapping[date, str] = chinese_calendar.holidays
_PKG_WORKDAYS: Mapping[date, str] = chinese_calendar.workdays
# Same range rule as chinese_calendar.utils._validate_date (min..max year of its holidays).
PACKAGE_YEARS: frozenset[int] = frozenset(
    range(min(_PKG_HOLIDAYS).year, max(_PKG_HOLIDAYS).year + 1)
)

# A run of rest days longer than a year can only come from broken overrides.
_MAX_REST_RUN = 400

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class CalendarAnswer:
    """A date computed by the calendar, with the sources used and any warnings."""

    date: date
    source: str
    warnings: tuple[str, ...] = ()
    overrides_used: tuple[date, ...] = ()


@dataclass(frozen=True)
class CountAnswer:
    """A number of working days, with the sources used and any warnings."""

    count: int
    source: str
    warnings: tuple[str, ...] = ()
    overrides_used: tuple[date, ...] = ()


@dataclass(frozen=True)
class DayAnswer:
    """Whether one day is a working day, why, and any warnings."""

    date: date
    is_working_day: bool
    note: str
    source: str
    warnings: tuple[str, ...] = ()


def require_aware(dt: datetime, name: str = "datetime") -> None:
    """Raise ValueError unless dt is a timezone-aware datetime (naive times are legal bugs)."""
    if not isinstance(dt, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        raise ValueError(f"{name} is naive ({dt.isoformat()}): a legal time needs a timezone")


def legal_date(dt: datetime, tz: tzinfo = LEGAL_TZ) -> date:
    """The legal day (in tz, default Asia/Shanghai) of an aware datetime; naive is ValueError."""
    require_aware(dt, "dt")
    return dt.astimezone(tz).date()


def start_of_legal_day(d: date, tz: tzinfo = LEGAL_TZ) -> datetime:
    """00:00 of legal day d in tz."""
    _check_date(d)
    return datetime.combine(d, time.min, tzinfo=tz)


def end_of_legal_day(d: date, tz: tzinfo = LEGAL_TZ) -> datetime:
    """The last instant (23:59:59.999999) of legal day d in tz: a day-based deadline's due time."""
    _check_date(d)
    return datetime.combine(d, time.max, tzinfo=tz)


def add_months_clamped(d: date, months: int) -> date:
    """d plus whole calendar months; a missing day clamps to month end (民法典 Art. 202)."""
    _check_date(d)
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    last = _stdlib_calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last))


def _check_date(d: object) -> None:
    """Refuse datetimes (a datetime is a date subclass) and non-dates."""
    if isinstance(d, datetime):
        raise TypeError("pass a legal date, not a datetime: convert with legal_date(dt)")
    if not isinstance(d, date):
        raise TypeError(f"expected a date, got {type(d).__name__}")


def _check_count(n: object, name: str = "n") -> int:
    """Refuse negative or non-integer counts (bool included)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"{name} must be >= 0, got {n}")
    return n


def _plural(n: int, word: str) -> str:
    """'1 override', '2 overrides'."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _years_text(years: Iterable[int]) -> str:
    """'2027' or '2027, 2028'."""
    return ", ".join(str(y) for y in sorted(years))


@dataclass
class _Trace:
    """What one answer consulted: sources, overrides and years."""

    package: bool = False
    declared: set[int] = field(default_factory=set)
    weekends_only: set[int] = field(default_factory=set)
    overrides: list[date] = field(default_factory=list)
    years: set[int] = field(default_factory=set)


class WorkingDayCalendar:
    """Working days from chinese_calendar plus administrator overrides; unknown years warn."""

    def __init__(
        self,
        overrides: Mapping[date, tuple[bool, str]] | None = None,
        declared_years: Iterable[int] = (),
        *,
        tz: tzinfo = LEGAL_TZ,
    ) -> None:
        """Build from overrides (date -> (is_working_day, note)) and admin-declared years."""
        normalised: dict[date, tuple[bool, str]] = {}
        for day, value in (overrides or {}).items():
            _check_date(day)
            try:
                flag, note = value
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"override for {day} must be (is_working_day, note), got {value!r}"
                ) from exc
            if not isinstance(flag, bool):
                raise TypeError(f"override for {day}: is_working_day must be a bool")
            normalised[day] = (flag, str(note))
        self._overrides = MappingProxyType(normalised)
        years = set()
        for year in declared_years:
            if isinstance(year, bool) or not isinstance(year, int):
                raise TypeError(f"declared year must be an int, got {year!r}")
            years.add(year)
        self._declared = frozenset(years)
        self._override_years = frozenset(d.year for d in normalised)
        self.tz = tz

    # -- what the calendar knows -------------------------------------------------------------

    @property
    def overrides(self) -> Mapping[date, tuple[bool, str]]:
        """The administrator overrides (read-only)."""
        return self._overrides

    @property
    def package_years(self) -> frozenset[int]:
        """Years chinese_calendar has holiday data for."""
        return PACKAGE_YEARS

    @property
    def declared_years(self) -> frozenset[int]:
        """Years the administrator declared complete (State Council notice fully entered)."""
        return self._declared

    @property
    def known_years(self) -> frozenset[int]:
        """Years with full holiday data: package years plus declared years."""
        return PACKAGE_YEARS | self._declared

    @property
    def source(self) -> str:
        """The calendar's sources overall, e.g. 'chinese_calendar 1.11.0 + 2 overrides'."""
        text = f"{PACKAGE_NAME} {PACKAGE_VERSION}"
        if self._overrides:
            text += " + " + _plural(len(self._overrides), "override")
        return text

    def year_status(self, year: int) -> str:
        """'package', 'declared', 'partial' (overrides, not declared) or 'unknown'."""
        if year in PACKAGE_YEARS:
            return "package"
        if year in self._declared:
            return "declared"
        if year in self._override_years:
            return "partial"
        return "unknown"

    def year_warning(self, year: int) -> str | None:
        """The warning for a year without full holiday data, or None for a known year."""
        status = self.year_status(year)
        if status == "unknown":
            return (
                f"{year} has no holiday data: counted weekends only; enter the State Council "
                f"holiday notice for {year} as calendar overrides and declare the year"
            )
        if status == "partial":
            count = sum(1 for d in self._overrides if d.year == year)
            return (
                f"{year} is not declared complete: {_plural(count, 'override')} entered, other "
                f"days counted weekends only; declare {year} once its State Council holiday "
                f"notice is fully entered"
            )
        return None

    def warnings_for(self, start: date, end: date) -> tuple[str, ...]:
        """Warnings for every year in [start, end] that lacks full holiday data."""
        _check_date(start)
        _check_date(end)
        low, high = sorted((start.year, end.year))
        return tuple(w for y in range(low, high + 1) if (w := self.year_warning(y)))

    # -- one day -----------------------------------------------------------------------------

    def _is_working(self, d: date, trace: _Trace) -> bool:
        """Decide one day and note in trace which source decided it."""
        trace.years.add(d.year)
        override = self._overrides.get(d)
        if override is not None:
            trace.overrides.append(d)
            return override[0]
        status = self.year_status(d.year)
        if status == "package":
            trace.package = True
            return d in _PKG_WORKDAYS or (d.weekday() < 5 and d not in _PKG_HOLIDAYS)
        if status == "declared":
            trace.declared.add(d.year)
        else:
            trace.weekends_only.add(d.year)
        return d.weekday() < 5

    def is_working_day(self, d: date) -> bool:
        """True if d is a working day (overrides, then package, then weekends only)."""
        _check_date(d)
        return self._is_working(d, _Trace())

    def explain(self, d: date) -> DayAnswer:
        """Whether d is a working day, why (holiday, 调休, override note), and warnings."""
        _check_date(d)
        trace = _Trace()
        working = self._is_working(d, trace)
        weekday = _WEEKDAY_NAMES[d.weekday()]
        if d in self._overrides:
            note = f"override: {self._overrides[d][1]}"
        elif self.year_status(d.year) == "package" and d in _PKG_WORKDAYS:
            note = f"make-up working day (调休) for {_PKG_WORKDAYS[d]}"
        elif self.year_status(d.year) == "package" and d in _PKG_HOLIDAYS:
            note = f"statutory holiday: {_PKG_HOLIDAYS[d]}"
        else:
            note = weekday if d.weekday() < 5 else f"weekend ({weekday})"
        return DayAnswer(d, working, note, *self._sources(trace))

    # -- answers -----------------------------------------------------------------------------

    def _sources(self, trace: _Trace) -> tuple[str, tuple[str, ...]]:
        """Source text and warnings for what a trace consulted."""
        parts = []
        if trace.package:
            parts.append(f"{PACKAGE_NAME} {PACKAGE_VERSION}")
        if trace.declared:
            parts.append(f"admin calendar {_years_text(trace.declared)}")
        if trace.overrides:
            parts.append(_plural(len(set(trace.overrides)), "override"))
        if trace.weekends_only:
            parts.append(f"weekends only for {_years_text(trace.weekends_only)}")
        source = " + ".join(parts) if parts else "calendar arithmetic"
        warnings = tuple(w for y in sorted(trace.years) if (w := self.year_warning(y)))
        return source, warnings

    def _answer(self, d: date, trace: _Trace) -> CalendarAnswer:
        """Wrap a computed date with its sources and warnings."""
        source, warnings = self._sources(trace)
        return CalendarAnswer(d, source, warnings, tuple(sorted(set(trace.overrides))))

    def _step_to_working(self, d: date, step: int, trace: _Trace) -> date:
        """From d (inclusive), move by step days until a working day."""
        for _ in range(_MAX_REST_RUN):
            if self._is_working(d, trace):
                return d
            d += timedelta(days=step)
        raise ValueError(
            f"no working day within {_MAX_REST_RUN} days of {d}: check the calendar overrides"
        )

    def next_working_day(self, d: date) -> CalendarAnswer:
        """The first working day strictly after d."""
        _check_date(d)
        trace = _Trace()
        return self._answer(self._step_to_working(d + timedelta(days=1), 1, trace), trace)

    def add_working_days(self, d: date, n: int) -> CalendarAnswer:
        """The nth working day after d (d not counted); n=0: d if working, else the next one."""
        _check_date(d)
        _check_count(n)
        trace = _Trace()
        if n == 0:
            return self._answer(self._step_to_working(d, 1, trace), trace)
        current = d
        for _ in range(n):
            current = self._step_to_working(current + timedelta(days=1), 1, trace)
        return self._answer(current, trace)

    def subtract_working_days(self, d: date, n: int) -> CalendarAnswer:
        """The nth working day before d (d not counted); n=0: d if working, else the one before."""
        _check_date(d)
        _check_count(n)
        trace = _Trace()
        if n == 0:
            return self._answer(self._step_to_working(d, -1, trace), trace)
        current = d
        for _ in range(n):
            current = self._step_to_working(current - timedelta(days=1), -1, trace)
        return self._answer(current, trace)

    def roll_to_working_day(self, d: date) -> CalendarAnswer:
        """d if it is a working day, else the next working day (last day of a period, Art. 85)."""
        _check_date(d)
        trace = _Trace()
        return self._answer(self._step_to_working(d, 1, trace), trace)

    def add_calendar_days(
        self, d: date, n: int, roll_to_working_day: bool = True
    ) -> CalendarAnswer:
        """d + n days (d not counted); an end on a rest day moves to the next working day."""
        _check_date(d)
        _check_count(n)
        end = d + timedelta(days=n)
        if not roll_to_working_day:
            return CalendarAnswer(end, "calendar arithmetic (no rolling)")
        return self.roll_to_working_day(end)

    def add_months(self, d: date, n: int, roll_to_working_day: bool = True) -> CalendarAnswer:
        """d + n calendar months (day clamped to month end), then rolled like a day period."""
        _check_date(d)
        _check_count(n)
        end = add_months_clamped(d, n)
        if not roll_to_working_day:
            return CalendarAnswer(end, "calendar arithmetic (no rolling)")
        return self.roll_to_working_day(end)

    def working_days_between(self, a: date, b: date) -> CountAnswer:
        """Working days in (a, b] (a not counted, b counted); negative when b is before a."""
        _check_date(a)
        _check_date(b)
        sign = 1
        if b < a:
            a, b, sign = b, a, -1
        trace = _Trace()
        count = 0
        current = a + timedelta(days=1)
        while current <= b:
            count += self._is_working(current, trace)
            current += timedelta(days=1)
        source, warnings = self._sources(trace)
        return CountAnswer(sign * count, source, warnings, tuple(sorted(set(trace.overrides))))
