"""The legal periods the workflow gates count: the statement period (A22.1/N10), deemed service
(N18), the wait after a demand notice (N14), the court window (N15) and correction checks
(A29.1). Figures come from the deadline rule table, days from the working-day calendar."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from core.kernel.settings import Settings
from core.rules import calendar_store
from core.rules.calendar import LEGAL_TZ, WorkingDayCalendar, end_of_legal_day, legal_date
from core.rules.deadline_rules import DueAnswer, RuleTable, rule_table

RULES = RuleTable()  # the statutory figures, when no settings are at hand
# 行政复议法 (2023) Art. 20: 60 days to apply for review; 行政诉讼法 Art. 46: 6 months to sue
# (N32 ⚠: Settings.remedy_review_days / remedy_litigation_months). A decision may state other
# figures (fields review_period_days, litigation_period_months).
DEFAULT_REVIEW_DAYS = Settings.remedy_review_days
DEFAULT_LITIGATION_MONTHS = Settings.remedy_litigation_months


class GateCalendar(WorkingDayCalendar):
    """The working-day calendar the gates count with, carrying the rule figures in force, so
    a gate and the deadline row of the same rule always agree (DEADLINE_OVERRIDES, TZ_LEGAL)."""

    rules: RuleTable = RULES
    settings: Settings | None = None  # the typed ⚠ figures (N32's remedy periods)


def load_calendar(session: Session) -> WorkingDayCalendar:
    """The working-day calendar with the administrator's overrides and declared years, in
    the legal time zone of the settings, with the rule figures of the settings."""
    settings = session.info.get("settings")
    base = calendar_store.load_calendar(session, settings.legal_tz if settings else LEGAL_TZ)
    cal = GateCalendar(base.overrides, declared_years=base.declared_years, tz=base.tz)
    if settings is not None:
        cal.rules = rule_table(settings)
        cal.settings = settings
    return cal


def _rules(cal: WorkingDayCalendar) -> RuleTable:
    return getattr(cal, "rules", RULES)


def response_due(cal: WorkingDayCalendar, served_at: datetime, working_days: int | None
                 ) -> DueAnswer:
    """End of the party's statement and defence period: the notice's figure (A22.1, N10)."""
    return _rules(cal).due_for("A22.1", served_at, cal, period_override=working_days or None)


def announcement_served(cal: WorkingDayCalendar, published_at: datetime) -> DueAnswer:
    """When an announced document counts as served: 30 days, 60 before 2022-01-01 (N18)."""
    return _rules(cal).due_for("N18", published_at, cal)


def demand_wait_due(cal: WorkingDayCalendar, served_at: datetime) -> DueAnswer:
    """The end of the party's 10 working days after the demand notice (N14)."""
    return _rules(cal).due_for("N14", served_at, cal)


def correction_due(cal: WorkingDayCalendar, served_at: datetime, days: int) -> DueAnswer:
    """When an ordered correction is to be checked (A29.1): the order's figure."""
    return _rules(cal).due_for("A29.1", served_at, cal, period_override=days)


def appeal_period_end(cal: WorkingDayCalendar, served_at: datetime,
                      review_days: int | None = None, litigation_months: int | None = None
                      ) -> date:
    """Last day on which the party may still seek review or sue: the later of the two."""
    start = legal_date(served_at, cal.tz)
    figures = getattr(cal, "settings", None) or Settings()
    review = cal.add_calendar_days(start, review_days or figures.remedy_review_days).date
    litigation = cal.add_months(start, litigation_months
                                or figures.remedy_litigation_months).date
    return max(review, litigation)


def court_window(cal: WorkingDayCalendar, served_at: datetime,
                 review_days: int | None = None, litigation_months: int | None = None
                 ) -> tuple[date, date]:
    """First and last day to apply to the court: within 3 months after the appeal period (N15)."""
    ended = appeal_period_end(cal, served_at, review_days, litigation_months)
    due = _rules(cal).due_for("N15", end_of_legal_day(ended, cal.tz), cal)
    first = date.fromordinal(ended.toordinal() + 1)
    return first, due.last_day
