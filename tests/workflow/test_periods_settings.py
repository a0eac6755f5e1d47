"""The gates count with the same figures and time zone as the deadline rows."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

from core.bootstrap import bootstrap
from core.cases import periods


def test_gate_periods_follow_deadline_overrides_and_legal_tz(settings):
    """N14: an administrator's figure (DEADLINE_OVERRIDES) moves the gate's end of the wait
    after a demand notice exactly as it moves the deadline row; TZ_LEGAL sets the legal day."""
    served = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Beijing
    plain = bootstrap(settings)
    with plain.uow() as uow:
        default = periods.demand_wait_due(periods.load_calendar(uow.session), served)
    assert default.due.date() == date(2026, 11, 16)  # 10 working days (N14)
    custom = bootstrap(dataclasses.replace(
        settings, tz_legal="Asia/Urumqi", deadline_overrides="N14=12"))
    with custom.uow() as uow:
        cal = periods.load_calendar(uow.session)
        moved = periods.demand_wait_due(cal, served)
    assert str(cal.tz) == "Asia/Urumqi"
    assert moved.due.date() == date(2026, 11, 18) and moved.period == 12
    plain.engine.dispose()
    custom.engine.dispose()


def test_n32_remedy_figures_are_settings(settings):
    """N32 (⚠): the review and litigation periods are typed settings (REMEDY_REVIEW_DAYS,
    REMEDY_LITIGATION_MONTHS) with the statutory defaults 60 days and 6 months: a decision
    served 2026-03-02 may be challenged until 2026-09-02 by default, until 2026-12-02 when an
    administrator sets 9 months."""
    served = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    plain = bootstrap(settings)
    with plain.uow() as uow:
        default = periods.appeal_period_end(periods.load_calendar(uow.session), served)
    assert default == date(2026, 9, 2)
    custom = bootstrap(dataclasses.replace(settings, remedy_litigation_months=9))
    with custom.uow() as uow:
        moved = periods.appeal_period_end(periods.load_calendar(uow.session), served)
    assert moved == date(2026, 12, 2)
    plain.engine.dispose()
    custom.engine.dispose()
