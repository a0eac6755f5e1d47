"""The working-day calendar (RULES.md part 2: working days, 民事诉讼法 Art. 85 counting)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.rules.calendar import (
    LEGAL_TZ,
    PACKAGE_VERSION,
    PACKAGE_YEARS,
    CalendarAnswer,
    WorkingDayCalendar,
    add_months_clamped,
    end_of_legal_day,
    legal_date,
    start_of_legal_day,
)

UTC = ZoneInfo("UTC")
CAL = WorkingDayCalendar()
FIRST_UNKNOWN = max(PACKAGE_YEARS) + 1
needs_2027_unknown = pytest.mark.skipif(
    2027 in PACKAGE_YEARS, reason="the installed chinese_calendar already knows 2027"
)


# -- real 2026 dates from the package -----------------------------------------------------


def test_national_day_2026_one_working_day_after_sep_30():
    """N1/N3: 2026-09-30 + 1 working day is 2026-10-08 (National Day week skipped)."""
    answer = CAL.add_working_days(date(2026, 9, 30), 1)
    assert answer == CalendarAnswer(date(2026, 10, 8), f"chinese_calendar {PACKAGE_VERSION}")
    assert answer.warnings == ()


def test_make_up_saturday_2026_10_10_is_working_and_oct_1_is_not():
    """N1: 调休 2026-10-10 (Saturday) is a working day; 2026-10-01 is a holiday."""
    assert date(2026, 10, 10).weekday() == 5
    assert CAL.is_working_day(date(2026, 10, 10))
    assert not CAL.is_working_day(date(2026, 10, 1))
    assert "调休" in CAL.explain(date(2026, 10, 10)).note
    assert "National Day" in CAL.explain(date(2026, 10, 1)).note


def test_spring_festival_2026_window():
    """N1: Spring Festival 2026: Feb 15–23 off, Saturdays Feb 14 and Feb 28 worked."""
    for day in range(15, 24):
        assert not CAL.is_working_day(date(2026, 2, day)), day
    assert CAL.is_working_day(date(2026, 2, 14))
    assert CAL.is_working_day(date(2026, 2, 28))
    assert CAL.add_working_days(date(2026, 2, 13), 1).date == date(2026, 2, 14)
    assert CAL.add_working_days(date(2026, 2, 14), 1).date == date(2026, 2, 24)
    assert CAL.working_days_between(date(2026, 2, 13), date(2026, 2, 24)).count == 2


def test_ordinary_weekend_is_rest():
    """N1: an ordinary Saturday and Sunday are rest days, Monday works."""
    assert not CAL.is_working_day(date(2026, 11, 7))
    assert not CAL.is_working_day(date(2026, 11, 8))
    assert CAL.is_working_day(date(2026, 11, 9))
    assert CAL.explain(date(2026, 11, 8)).note == "weekend (Sunday)"


def test_zero_working_days_is_the_day_itself_or_the_next_working_day():
    """Part 2: n=0 gives d when d is a working day, else the next working day."""
    assert CAL.add_working_days(date(2026, 9, 30), 0).date == date(2026, 9, 30)
    assert CAL.add_working_days(date(2026, 10, 1), 0).date == date(2026, 10, 8)


def test_start_day_not_counted():
    """Part 2 (民事诉讼法 Art. 85): the start day is not counted even when it is working."""
    assert CAL.add_working_days(date(2026, 11, 9), 1).date == date(2026, 11, 10)
    assert CAL.add_working_days(date(2026, 11, 9), 5).date == date(2026, 11, 16)


def test_next_and_previous_working_day():
    """N1: next working day is strictly after; subtracting mirrors adding."""
    assert CAL.next_working_day(date(2026, 9, 30)).date == date(2026, 10, 8)
    assert CAL.next_working_day(date(2026, 10, 9)).date == date(2026, 10, 10)
    assert CAL.subtract_working_days(date(2026, 10, 8), 1).date == date(2026, 9, 30)
    assert CAL.subtract_working_days(date(2026, 10, 3), 0).date == date(2026, 9, 30)


def test_calendar_days_roll_to_next_working_day():
    """Part 2: a calendar-day period ending on a rest day moves to the next working day."""
    assert CAL.add_calendar_days(date(2026, 9, 16), 15).date == date(2026, 10, 8)
    unrolled = CAL.add_calendar_days(date(2026, 9, 16), 15, roll_to_working_day=False)
    assert unrolled.date == date(2026, 10, 1)
    assert "no rolling" in unrolled.source
    # Ending on the make-up Saturday does not move.
    assert CAL.add_calendar_days(date(2026, 9, 30), 10).date == date(2026, 10, 10)


def test_months_clamp_then_roll():
    """N15: months end on the corresponding day, else month end (民法典 Art. 202), then roll."""
    assert add_months_clamped(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months_clamped(date(2023, 12, 31), 2) == date(2024, 2, 29)
    assert add_months_clamped(date(2026, 11, 30), 3) == date(2027, 2, 28)
    # 2026-07-31 + 3 months = Saturday 2026-10-31 -> Monday 2026-11-02.
    assert CAL.add_months(date(2026, 7, 31), 3).date == date(2026, 11, 2)
    # 2026-02-28 is a make-up Saturday: no roll.
    assert CAL.add_months(date(2025, 11, 30), 3).date == date(2026, 2, 28)


def test_working_days_between_counts_end_not_start():
    """Part 2: working days in (a, b]; reversed is negative; inverse of add_working_days."""
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 8)).count == 1
    assert CAL.working_days_between(date(2026, 10, 8), date(2026, 9, 30)).count == -1
    assert CAL.working_days_between(date(2026, 10, 8), date(2026, 10, 8)).count == 0
    # October 2026: 17 weekdays after the holiday + the make-up Saturday = 18.
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 31)).count == 18


# -- unknown years and overrides ----------------------------------------------------------


@needs_2027_unknown
def test_2027_unknown_counts_weekends_only_with_warning():
    """Part 2: 2027 without data is counted weekends only and says so, never silently."""
    assert 2027 not in CAL.known_years
    answer = CAL.add_working_days(date(2026, 12, 31), 1)
    assert answer.date == date(2027, 1, 1)  # a Friday: weekends only
    assert len(answer.warnings) == 1
    assert "2027 has no holiday data" in answer.warnings[0]
    assert "weekends only for 2027" in answer.source
    assert CAL.explain(date(2027, 1, 1)).warnings == answer.warnings
    assert CAL.working_days_between(date(2026, 12, 30), date(2027, 1, 5)).warnings
    assert CAL.warnings_for(date(2026, 12, 1), date(2027, 3, 1)) == answer.warnings


@needs_2027_unknown
def test_2027_declared_with_override_removes_warning_and_changes_answer():
    """Part 2: an admin-entered 2027 notice (declared year) replaces weekends-only counting."""
    cal = WorkingDayCalendar({date(2027, 1, 1): (False, "元旦 (State Council 2027 notice)")},
                             declared_years={2027})
    answer = cal.add_working_days(date(2026, 12, 31), 1)
    assert answer.date == date(2027, 1, 4)
    assert answer.warnings == ()
    assert answer.overrides_used == (date(2027, 1, 1),)
    assert answer.source == "admin calendar 2027 + 1 override"  # only 2027 days were counted
    assert 2027 in cal.known_years
    assert cal.explain(date(2027, 1, 1)).note.startswith("override: 元旦")


@needs_2027_unknown
def test_2027_override_without_declaration_still_warns():
    """Part 2: overrides alone do not make a year known (they list exceptions only)."""
    cal = WorkingDayCalendar({date(2027, 1, 1): (False, "元旦")})
    answer = cal.add_working_days(date(2026, 12, 31), 1)
    assert answer.date == date(2027, 1, 4)
    assert cal.year_status(2027) == "partial"
    assert "2027 is not declared complete: 1 override entered" in answer.warnings[0]


def test_first_year_after_package_warns():
    """Part 2: whatever the package version, the year after its data is unknown and warned."""
    start = date(FIRST_UNKNOWN, 3, 1)
    answer = CAL.add_calendar_days(start, 1)
    assert str(FIRST_UNKNOWN) in answer.warnings[0]
    assert CAL.year_status(FIRST_UNKNOWN) == "unknown"
    assert CAL.year_status(2026) == "package"


def test_override_wins_over_package():
    """Part 2: an administrator override beats chinese_calendar in a package year."""
    cal = WorkingDayCalendar({
        date(2026, 10, 8): (False, "local flood closure"),
        date(2026, 10, 3): (True, "hypothetical extra working day"),
    })
    assert not cal.is_working_day(date(2026, 10, 8))
    assert cal.is_working_day(date(2026, 10, 3))
    answer = cal.add_working_days(date(2026, 9, 30), 2)
    assert answer.date == date(2026, 10, 9)
    assert answer.overrides_used == (date(2026, 10, 3), date(2026, 10, 8))
    assert answer.source == f"chinese_calendar {PACKAGE_VERSION} + 2 overrides"
    assert answer.warnings == ()
    assert cal.source == f"chinese_calendar {PACKAGE_VERSION} + 2 overrides"


def test_known_years_cover_package_and_declared():
    """Part 2: known years are the package range plus years the admin declared."""
    cal = WorkingDayCalendar(declared_years=[FIRST_UNKNOWN])
    assert {2004, 2026} <= set(cal.known_years)
    assert FIRST_UNKNOWN in cal.known_years
    assert cal.declared_years == frozenset({FIRST_UNKNOWN})


def test_bad_overrides_are_refused():
    """Part 2: an override must be (bool, note) keyed by a date."""
    with pytest.raises(ValueError):
        WorkingDayCalendar({date(2027, 1, 1): "holiday"})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        WorkingDayCalendar({date(2027, 1, 1): ("no", "x")})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        WorkingDayCalendar({datetime(2027, 1, 1, tzinfo=UTC): (False, "x")})
    with pytest.raises(TypeError):
        WorkingDayCalendar(declared_years=["2027"])  # type: ignore[list-item]


def test_runaway_rest_overrides_fail_loudly():
    """Part 2: overrides that remove every working day give a clear error, not a hang."""
    overrides = {date(2026, 1, 1) + timedelta(days=i): (False, "x") for i in range(800)}
    with pytest.raises(ValueError, match="check the calendar overrides"):
        WorkingDayCalendar(overrides).add_working_days(date(2025, 12, 31), 1)


def test_counts_and_dates_are_validated():
    """Part 2: negative counts and datetimes in place of dates are refused."""
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2026, 9, 30), -1)
    with pytest.raises(TypeError):
        CAL.add_working_days(datetime(2026, 9, 30, tzinfo=LEGAL_TZ), 1)
    with pytest.raises(TypeError):
        CAL.is_working_day("2026-09-30")  # type: ignore[arg-type]


# -- legal days ---------------------------------------------------------------------------


def test_legal_date_uses_shanghai_and_refuses_naive():
    """Part 2: legal days are Asia/Shanghai days; a naive datetime is a ValueError."""
    assert legal_date(datetime(2026, 9, 30, 17, 0, tzinfo=UTC)) == date(2026, 10, 1)
    assert legal_date(datetime(2026, 9, 30, 15, 59, tzinfo=UTC)) == date(2026, 9, 30)
    assert legal_date(datetime(2026, 9, 30, 17, 0, tzinfo=UTC), tz=UTC) == date(2026, 9, 30)
    with pytest.raises(ValueError, match="naive"):
        legal_date(datetime(2026, 9, 30, 12, 0))  # noqa: DTZ001 - the point of the test


def test_day_bounds():
    """Part 2: a legal day runs from 00:00 to 23:59:59.999999 Asia/Shanghai."""
    assert start_of_legal_day(date(2026, 10, 8)) == datetime(2026, 10, 8, tzinfo=LEGAL_TZ)
    end = end_of_legal_day(date(2026, 10, 8))
    assert end + timedelta(microseconds=1) == datetime(2026, 10, 9, tzinfo=LEGAL_TZ)


# -- properties ---------------------------------------------------------------------------

DAYS = st.dates(min_value=date(2004, 1, 1), max_value=date(FIRST_UNKNOWN + 1, 12, 31))


@settings(max_examples=150, deadline=None, database=None)
@given(start=DAYS, n=st.integers(min_value=1, max_value=40))
def test_add_working_days_properties(start, n):
    """N1: the nth working day after d is a working day, after d, monotonic, and invertible."""
    answer = CAL.add_working_days(start, n)
    assert answer.date > start
    assert CAL.is_working_day(answer.date)
    assert CAL.add_working_days(start, n + 1).date > answer.date
    assert CAL.add_working_days(start, n - 1).date <= answer.date
    assert CAL.working_days_between(start, answer.date).count == n
    assert bool(answer.warnings) == any(
        y not in CAL.known_years
        for y in range((start + timedelta(days=1)).year, answer.date.year + 1)
    )


@settings(max_examples=100, deadline=None, database=None)
@given(start=DAYS, n=st.integers(min_value=0, max_value=60))
def test_calendar_day_roll_property(start, n):
    """Part 2: a rolled calendar-day end is a working day and no earlier than d + n."""
    answer = CAL.add_calendar_days(start, n)
    assert answer.date >= start + timedelta(days=n)
    assert CAL.is_working_day(answer.date)
    assert CAL.working_days_between(start + timedelta(days=n), answer.date).count <= 1
