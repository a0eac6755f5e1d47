"""The deadline rule table: one hand-computed due date per RULES.md ID, reminders, overrides."""

from __future__ import annotations

import sys
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.rules.calendar import PACKAGE_YEARS, WorkingDayCalendar
from core.rules.deadline_rules import (
    DAY_REMINDERS,
    KINDS,
    RULES,
    DeadlineRule,
    ReminderSpec,
    RuleTable,
    compute_due,
    reminder_times,
)

SH = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
CAL = WorkingDayCalendar()
TABLE = RuleTable()


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    """An aware Asia/Shanghai datetime."""
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def end(y: int, m: int, d: int) -> datetime:
    """The last instant of a legal day: a day-based due time."""
    return datetime.combine(date(y, m, d), time.max, tzinfo=SH)


def due(rule_id: str, trigger: datetime, **kwargs) -> object:
    """Due answer for a rule ID, the version in force on the trigger day."""
    return TABLE.due_for(rule_id, trigger, CAL, **kwargs)


# -- one test (at least) per rule ID --------------------------------------------------------


def test_a10_2_supplementary_record_24_clock_hours_through_a_holiday():
    """A10.2: emergency opened 2026-09-30 10:00 → due 2026-10-01 10:00 (holiday, clock hours)."""
    answer = due("A10.2", at(2026, 9, 30, 10))
    assert answer.due == at(2026, 10, 1, 10)
    assert answer.last_day is None
    assert answer.unit == "clock_hours"
    assert answer.warnings == ()
    assert "第十条" in answer.legal_source
    rule = TABLE.rule_for("A10.2")
    assert rule.trigger == "case.emergency_opened"
    assert rule.closed_by == ("record.filing_form.created",)
    # The same instant given in UTC gives the same due time, shown in Asia/Shanghai.
    assert due("A10.2", datetime(2026, 9, 30, 2, tzinfo=UTC)).due == at(2026, 10, 1, 10)


def test_a17_2_written_explanation_one_working_day_configurable():
    """A17.2: recording cannot continue 2026-09-30 15:00 → explain by end of 2026-10-08 (⚠)."""
    answer = due("A17.2", at(2026, 9, 30, 15))
    assert answer.due == end(2026, 10, 8)
    assert TABLE.rule_for("A17.2").configurable
    assert any("unconfirmed figure" in w for w in answer.warnings)
    confirmed = RuleTable(overrides={"A17.2": 2}).due_for("A17.2", at(2026, 9, 30, 15), CAL)
    assert confirmed.due == end(2026, 10, 9)
    assert confirmed.warnings == ()
    assert confirmed.figure_origin == "administrator"


def test_a22_1_n10_statement_period_default_and_per_case():
    """A22.1/N10: notice served Mon 2026-09-28: 5 working days → Sat 2026-10-10 (调休)."""
    answer = due("A22.1", at(2026, 9, 28, 16))
    assert answer.last_day == date(2026, 10, 10)
    assert answer.obligor == "party"
    assert any("set in the notice" in w for w in answer.warnings)
    per_case = due("A22.1", at(2026, 9, 28, 16), period_override=7)
    assert per_case.last_day == date(2026, 10, 13)
    assert per_case.figure_origin == "per case"
    assert per_case.warnings == ()
    assert TABLE.rule_for("N10") is TABLE.rule_for("A22.1")


def test_a29_1_correction_check_from_the_order_period():
    """A29.1: order served 2026-09-20 with 15 days → 2026-10-05 holiday → check 2026-10-08."""
    answer = due("A29.1", at(2026, 9, 20), period_override=15)
    assert answer.last_day == date(2026, 10, 8)
    assert answer.warnings == ()
    with pytest.raises(ValueError, match="correction_period_days"):
        due("A29.1", at(2026, 9, 20))
    rule = TABLE.rule_for("A29.1")
    assert (rule.trigger, rule.period_field) == ("correction_order.served",
                                                 "correction_period_days")


def test_a31_1_av_upload_two_working_days_in_legal_time():
    """A31.1: capture 2026-09-30 22:30 → upload by 2026-10-09; legal day is Shanghai's."""
    assert due("A31.1", at(2026, 9, 30, 22, 30)).last_day == date(2026, 10, 9)
    # 2026-10-09 16:30 UTC is Saturday 2026-10-10 00:30 in Shanghai: counting starts after it.
    answer = due("A31.1", datetime(2026, 10, 9, 16, 30, tzinfo=UTC))
    assert answer.last_day == date(2026, 10, 13)
    assert answer.due == end(2026, 10, 13)


def test_a32_1_dossier_twenty_days_rolls_over_national_day():
    """A32.1: case closed 2026-09-11 + 20 days = 2026-10-01 (holiday) → 2026-10-08."""
    answer = due("A32.1", at(2026, 9, 11, 17))
    assert answer.last_day == date(2026, 10, 8)
    assert answer.unit == "calendar_days"


def test_a35_1_n22_access_reply_twenty_working_days_plus_extension():
    """A35.1/N22: request 2026-09-30 → reply by 2026-11-03; extended once → 2026-12-01."""
    assert due("A35.1", at(2026, 9, 30)).last_day == date(2026, 11, 3)
    extended = due("N22", at(2026, 9, 30), extensions=1)
    assert extended.rule_id == "A35.1"
    assert extended.last_day == date(2026, 12, 1)
    assert extended.period == 40
    with pytest.raises(ValueError, match="at most 1"):
        due("A35.1", at(2026, 9, 30), extensions=2)


def test_n4_hearing_request_five_working_days():
    """N4: hearing rights notified 2026-09-30 → request by 2026-10-13 (party's period)."""
    answer = due("N4", at(2026, 9, 30))
    assert answer.last_day == date(2026, 10, 13)
    assert answer.obligor == "party"


def test_n5_hearing_notice_seven_full_working_days_before():
    """N5: hearing Fri 2026-10-16 → notice served by 2026-09-30 (7 working days between)."""
    answer = due("N5", at(2026, 10, 16, 9, 30))
    assert answer.last_day == date(2026, 9, 30)
    between = CAL.working_days_between(answer.last_day, date(2026, 10, 15)).count
    assert between == 7


def test_n6_preservation_decision_seven_working_days():
    """N6/A16.1: preservation approved Thu 2026-09-24 → decide by 2026-10-12 (holidays skip)."""
    assert due("N6", at(2026, 9, 24)).last_day == date(2026, 10, 12)


def test_n7_penalty_decision_ninety_days_rolls():
    """N7: filed 2026-07-03 + 90 days = 2026-10-01 (holiday) → 2026-10-08."""
    assert due("N7", at(2026, 7, 3)).last_day == date(2026, 10, 8)


def test_n8_decision_served_within_seven_working_days():
    """N8: decision made 2026-09-30, party absent → served by 2026-10-15."""
    assert due("N8", at(2026, 9, 30)).last_day == date(2026, 10, 15)


def test_n9_fine_fifteen_calendar_days_rolls_to_working_day():
    """N9: served 2026-09-16 + 15 = 2026-10-01 (holiday) → 2026-10-08; Sunday → Monday."""
    assert due("N9", at(2026, 9, 16)).last_day == date(2026, 10, 8)
    assert due("N9", at(2026, 11, 7)).last_day == date(2026, 11, 23)  # 11-22 is a Sunday


def test_n12_emergency_coercive_measure_24_hours():
    """N12: measure applied 2026-02-14 20:00 → approval by 2026-02-15 20:00 (Spring Festival)."""
    assert due("N12", at(2026, 2, 14, 20)).due == at(2026, 2, 15, 20)


def test_n13_seizure_thirty_days_not_extended_by_rest_days():
    """N13: seizure 2026-09-01 → ends 2026-10-01 (no roll); extended once → 2026-10-31."""
    assert due("N13", at(2026, 9, 1)).last_day == date(2026, 10, 1)
    assert due("N13", at(2026, 9, 1), extensions=1).last_day == date(2026, 10, 31)
    with pytest.raises(ValueError):
        due("N13", at(2026, 9, 1), extensions=2)


def test_n14_demand_notice_ten_working_days():
    """N14/A30.1: demand notice served 2026-09-30 → party's period ends 2026-10-20."""
    answer = due("N14", at(2026, 9, 30))
    assert answer.last_day == date(2026, 10, 20)
    assert answer.obligor == "party"


def test_n15_court_application_three_months():
    """N15: appeal period ended 2026-07-31 + 3 months = Sat 2026-10-31 → Mon 2026-11-02."""
    assert due("N15", at(2026, 7, 31, 23)).last_day == date(2026, 11, 2)
    assert due("N15", at(2026, 6, 30)).last_day == date(2026, 9, 30)
    # 2025-11-30 + 3 months clamps to 2026-02-28, a make-up Saturday: no roll.
    assert due("N15", at(2025, 11, 30)).last_day == date(2026, 2, 28)


def test_n16_missing_materials_notice_five_working_days():
    """N16/A9.1: application received 2026-09-30 → one-time notice by 2026-10-13."""
    assert due("N16", at(2026, 9, 30)).last_day == date(2026, 10, 13)


def test_n17_licensing_decision_twenty_plus_ten_working_days():
    """N17: accepted 2026-09-30 → decide by 2026-11-03; extended → 2026-11-17."""
    assert due("N17", at(2026, 9, 30)).last_day == date(2026, 11, 3)
    assert due("N17", at(2026, 9, 30), extensions=1).last_day == date(2026, 11, 17)


def test_n18_announcement_sixty_days_before_2022_thirty_after():
    """N18: published 2021-12-31 → 60 days (2022-03-01); 2022-01-01 → 30 days, rolled."""
    old = due("N18", at(2021, 12, 31))
    assert old.last_day == date(2022, 3, 1)
    assert old.period == 60
    new = due("N18", at(2022, 1, 1))
    assert new.period == 30
    # 2022-01-31 is in the 2022 Spring Festival holiday (Jan 31 – Feb 6).
    assert new.last_day == date(2022, 2, 7)
    assert new.obligor == "none"
    with pytest.raises(ValueError, match="not in force"):
        compute_due(TABLE.rule_for("N18", date(2022, 1, 1)), at(2021, 12, 31), CAL)


def test_n21_petition_notice_fifteen_days():
    """N21: petition received 2026-04-20 + 15 = 2026-05-05 (May Day) → 2026-05-06."""
    assert due("N21", at(2026, 4, 20)).last_day == date(2026, 5, 6)


def test_n23_pre_filing_check_configurable():
    """N23: lead received 2026-09-16 + 15 → 2026-10-08; +10 → Sun 10-11 → 2026-10-12 (⚠)."""
    answer = due("N23", at(2026, 9, 16))
    assert answer.last_day == date(2026, 10, 8)
    assert any("⚠" in w for w in answer.warnings)
    assert due("N23", at(2026, 9, 16), extensions=1).last_day == date(2026, 10, 12)


def test_n24_complaint_decision_seven_working_days_overridable():
    """N24/A11.1: complaint 2026-09-30 → decide by 2026-10-15; admin figure 10 → 10-20."""
    answer = due("N24", at(2026, 9, 30))
    assert answer.last_day == date(2026, 10, 15)
    assert TABLE.rule_for("N24").configurable
    assert any("unconfirmed" in w for w in answer.warnings)
    table = RuleTable(overrides={"N24": 10})
    overridden = table.due_for("N24", at(2026, 9, 30), CAL)
    assert overridden.last_day == date(2026, 10, 20)
    assert overridden.warnings == ()
    assert table.rule_for("N24").overridden_from == 7


# -- unknown years reach deadlines -------------------------------------------------------------


@pytest.mark.skipif(2027 in PACKAGE_YEARS, reason="the package already knows 2027")
def test_a31_1_deadline_in_2027_carries_the_calendar_warning():
    """A31.1: a deadline counted into 2027 without data says so; the declared notice fixes it."""
    answer = due("A31.1", at(2026, 12, 31))
    assert answer.last_day == date(2027, 1, 4)  # Fri 1 Jan counted, then Mon 4 Jan
    assert any("2027 has no holiday data" in w for w in answer.warnings)
    cal = WorkingDayCalendar(
        {d: (False, "元旦") for d in (date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3))},
        declared_years={2027},
    )
    fixed = TABLE.due_for("A31.1", at(2026, 12, 31), cal)
    assert fixed.last_day == date(2027, 1, 5)
    assert fixed.warnings == ()


# -- reminders -------------------------------------------------------------------------------


def test_a32_1_day_reminders_escalate_officer_supervisor_head():
    """A32.1: last day 2026-10-08: officer 09-30, officer+supervisor 10-08, head 10-09."""
    answer = due("A32.1", at(2026, 9, 11, 17))
    steps = reminder_times(TABLE.rule_for("A32.1"), answer, CAL)
    assert [(s.recipient_role, s.step, s.at) for s in steps] == [
        ("officer", "before", at(2026, 9, 30, 9)),
        ("officer", "due", at(2026, 10, 8, 9)),
        ("supervisor", "due", at(2026, 10, 8, 9)),
        ("supervisor", "overdue", at(2026, 10, 9, 0)),
        ("head", "escalate", at(2026, 10, 9, 9)),
    ]
    assert {s.rule_id for s in steps} == {"A32.1"}


def test_a10_2_clock_reminders_in_hours():
    """A10.2: clock-hour reminders: 4 h before, at due, just after, head 2 h after."""
    answer = due("A10.2", at(2026, 9, 30, 10))
    steps = reminder_times(TABLE.rule_for("A10.2"), answer.due, CAL)
    assert [(s.recipient_role, s.step, s.at) for s in steps] == [
        ("officer", "before", at(2026, 10, 1, 6)),
        ("officer", "due", at(2026, 10, 1, 10)),
        ("supervisor", "due", at(2026, 10, 1, 10)),
        ("supervisor", "overdue", at(2026, 10, 1, 10) + timedelta(microseconds=1)),
        ("head", "escalate", at(2026, 10, 1, 12)),
    ]


def test_n4_party_period_tells_the_officer_when_it_ends():
    """N4: a party's period has one step: the officer is told when it has ended."""
    answer = due("N4", at(2026, 9, 30))
    steps = reminder_times(TABLE.rule_for("N4"), answer, CAL)
    assert [(s.recipient_role, s.step, s.at) for s in steps] == [
        ("officer", "ended", at(2026, 10, 14, 0)),
    ]


def test_a17_2_reminders_before_the_trigger_are_dropped():
    """A17.2: the 'before' step would precede the trigger and is dropped with after=."""
    trigger = at(2026, 9, 30, 15)
    answer = due("A17.2", trigger)
    steps = reminder_times(TABLE.rule_for("A17.2"), answer, CAL, after=trigger)
    assert [s.step for s in steps] == ["due", "due", "overdue", "escalate"]
    assert steps[0].at == at(2026, 10, 8, 9)


def test_n30_licence_issued_within_ten_working_days_and_n4_by_date():
    """N30: a licence granted 2026-09-30 is issued by 2026-10-20 (⚠, with a warning).
    N33/N4: the hearing request period is 3 calendar days before 2021-07-15."""
    answer = due("N30", at(2026, 9, 30))
    assert answer.last_day == date(2026, 10, 20) and answer.warnings
    assert TABLE.rule_for("N30").trigger_if == ("licence_granted", True)
    assert due("N4", at(2021, 7, 9)).last_day == date(2021, 7, 12)


def test_reminders_are_data():
    """A29.1: a rule may carry its own reminder steps."""
    rule = DeadlineRule("A29.1", "t", "t", "x", (), 3, "working_days", "start_day_excluded",
                        "src", reminders=(ReminderSpec("head", "due", unit="working_days",
                                                       at_time=time(8, 30)),))
    steps = reminder_times(rule, compute_due(rule, at(2026, 9, 30), CAL), CAL)
    assert [(s.recipient_role, s.at) for s in steps] == [("head", at(2026, 10, 10, 8, 30))]
    assert TABLE.rule_for("A29.1").reminders == DAY_REMINDERS


# -- table lookups and overrides -------------------------------------------------------------

REQUIRED = ("A10.2", "A17.2", "A22.1", "A29.1", "A31.1", "A32.1", "A35.1", "N4", "N5", "N6",
            "N7", "N8", "N9", "N10", "N12", "N13", "N14", "N15", "N16", "N17", "N18", "N21",
            "N22", "N24")


def test_table_has_every_required_rule_with_a_source():
    """A2.1: every required RULES.md ID resolves to a rule with a legal source and trigger."""
    for rule_id in REQUIRED:
        rule = TABLE.rule_for(rule_id)
        assert rule_id in rule.ids
        assert rule.legal_source and rule.trigger and rule.title_zh
        assert rule.kinds is None or rule.kinds <= set(KINDS)


def test_rules_for_trigger_respects_kind_and_effective_date():
    """A2.1/N18: the case kind and the trigger's legal day select the rules."""
    day = date(2026, 9, 30)
    assert [r.id for r in TABLE.rules_for_trigger("decision.served", "penalty", day)] == ["N9"]
    assert TABLE.rules_for_trigger("decision.served", "licensing", day) == ()
    assert [r.id for r in TABLE.rules_for_trigger("decision.made", "penalty", day)] == [
        "N8", "N31"]
    assert [r.id for r in TABLE.rules_for_trigger("act.ended", None, day)] == ["A32.1"]
    assert TABLE.rules_for_trigger("case.stage.archiving", None, day) == ()
    intake = TABLE.rules_for_trigger("record.complaint_intake.created", "penalty", day)
    assert sorted(r.id for r in intake) == ["N21"]  # N24 only where a department opts in
    assert [r.id for r in TABLE.rules_for_trigger("complaint.acceptance_rule.applies",
                                                  "penalty", day)] == ["N24"]
    assert {r.trigger_field for r in intake} == {"received_at"}
    assert [r.id for r in TABLE.rules_for_trigger("record.filing_form.approved", "penalty",
                                                  day)] == ["N7"]
    old = TABLE.rules_for_trigger("service.announcement.published", "penalty",
                                  date(2021, 12, 31))
    new = TABLE.rules_for_trigger("service.announcement.published", "penalty",
                                  date(2022, 1, 1))
    assert [r.period for r in old] == [60]
    assert [r.period for r in new] == [30]
    assert [r.id for r in TABLE.rules_for_trigger("record.complaint_intake.created", None,
                                                  date(2022, 4, 30))] == []  # N21 from 05-01
    with pytest.raises(ValueError):
        TABLE.rules_for_trigger("case.stage.archiving", "parking", day)


def test_rule_for_picks_version_and_refuses_unknown():
    """N18: rule_for returns the version in force; unknown IDs are KeyError."""
    assert TABLE.rule_for("N18", date(2021, 6, 1)).period == 60
    assert TABLE.rule_for("N18").period == 30
    assert len(TABLE.versions("N18")) == 2
    with pytest.raises(KeyError):
        TABLE.rule_for("N99")
    with pytest.raises(KeyError):
        TABLE.rule_for("N21", date(2022, 4, 30))


def test_overrides_are_checked_and_statutory_overrides_warn():
    """N9/N10: overriding a statutory figure warns; related or unknown IDs are refused."""
    table = RuleTable(overrides={"N9": 20})
    answer = table.due_for("N9", at(2026, 9, 16), CAL)
    assert answer.last_day == date(2026, 10, 8)  # 10-06 holiday → 10-08
    assert any("replaces the statutory 15" in w for w in answer.warnings)
    assert TABLE.rule_for("N9").period == 15  # the default table is untouched
    with pytest.raises(ValueError, match="covered by rule A22.1"):
        RuleTable(overrides={"N10": 10})
    with pytest.raises(ValueError, match="unknown rule"):
        RuleTable(overrides={"X1": 10})
    with pytest.raises(ValueError):
        RuleTable(overrides={"N9": 0})


def test_per_case_figure_on_a_statutory_rule_warns():
    """N7: a per-case figure on a rule that is not set per case is visible in the answer."""
    answer = due("N7", at(2026, 7, 3), period_override=60)
    assert answer.figure_origin == "per case"
    assert any("per-case figure 60" in w for w in answer.warnings)


def test_naive_datetimes_are_refused():
    """A10.2: a naive trigger or due time is a ValueError, never a guess."""
    naive = datetime(2026, 9, 30, 10)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="naive"):
        compute_due(TABLE.rule_for("A10.2"), naive, CAL)
    with pytest.raises(ValueError, match="naive"):
        reminder_times(TABLE.rule_for("A10.2"), naive, CAL)


def test_bad_rows_are_refused():
    """A2.1: invalid units, countings, kinds or overlapping versions are refused."""
    base = dict(id="Z1", title_en="t", title_zh="t", trigger="x", closed_by=(), period=5,
                unit="working_days", counting="start_day_excluded", legal_source="s")
    DeadlineRule(**base)
    with pytest.raises(ValueError):
        DeadlineRule(**{**base, "unit": "weeks"})
    with pytest.raises(ValueError):
        DeadlineRule(**{**base, "counting": "exact"})
    with pytest.raises(ValueError):
        DeadlineRule(**{**base, "kinds": {"parking"}})
    with pytest.raises(ValueError):
        DeadlineRule(**{**base, "period": None})
    with pytest.raises(ValueError, match="same day"):
        RuleTable([DeadlineRule(**base), DeadlineRule(**base)])


def test_kinds_match_the_project_vocabulary():
    """A2.1: the table's kinds are the project's six kinds."""
    vocab = pytest.importorskip("core.kernel.vocab")
    assert tuple(KINDS) == tuple(vocab.KINDS)


def test_every_rule_id_is_named_in_a_test_docstring():
    """A2.1: grep-ability: every ID in the table is named in a docstring of this module."""
    module = sys.modules[__name__]
    docs = " ".join(
        f.__doc__ or "" for name, f in vars(module).items() if name.startswith("test_")
    )
    for rule in RULES:
        for rule_id in rule.ids:
            assert f"{rule_id}:" in docs or f"{rule_id}/" in docs or f"/{rule_id}" in docs, rule_id


def _emitted_names() -> set[str]:
    """Event names core emits today: literal Event("...") calls in core/, plus the patterns."""
    import re
    from pathlib import Path

    from core.kernel.vocab import STAGES
    from core.rules.catalogue import CATALOGUE

    names = {"case.opened", "case.emergency_opened"}
    names |= {f"case.stage.{s}" for s in STAGES}
    names |= {f"record.{t.name}.created" for t in CATALOGUE}
    names |= {f"record.{t.name}.approved" for t in CATALOGUE if t.approval_chain}
    names |= {f"record.{t.name}.served" for t in CATALOGUE if getattr(t, "served", False)}
    names |= {f"complainant.notified.{p}" for p in ("intake", "decision", "result")}
    root = Path(__file__).resolve().parents[2] / "core"
    for path in root.rglob("*.py"):
        if path.name == "deadline_rules.py":
            continue
        source = path.read_text(encoding="utf-8")
        names |= set(re.findall(r'Event\(\s*"([a-z_.]+)"', source))
        if path.name == "service_of_documents.py":  # the aliases of a served document
            names |= set(re.findall(r'"([a-z_]+\.served)"', source))
    return names


def test_every_event_name_is_emitted_or_awaited():
    """A10.2/A31.1/N24: every trigger and closing name is one core emits today or is listed in
    AWAITED_EVENTS with who must emit it; no awaited name is emitted already."""
    from core.rules.catalogue import CATALOGUE
    from core.rules.deadline_rules import AWAITED_EVENTS

    emitted = _emitted_names()
    names = {n for r in RULES for n in (r.trigger, *r.closed_by)}
    unknown = sorted(n for n in names if n not in emitted and n not in AWAITED_EVENTS)
    assert unknown == []
    assert sorted(set(AWAITED_EVENTS) & emitted) == []
    assert set(AWAITED_EVENTS) <= names  # no stale entries
    waiting = {r.id for r in RULES if r.trigger in AWAITED_EVENTS}
    assert waiting == {"A31.1"}
    # A record-field condition or figure names a field the catalogue declares.
    by_name = {t.name: t for t in CATALOGUE}
    sources = {"evidence.recording.cannot_continue": "av_interruption",
               "hearing.scheduled": "hearing_notice",
               "evidence_preservation.approved": "evidence_preservation",
               "decision.served": "decision", "correction_order.served": "decision",
               "record.rights_notice.served": "rights_notice",
               "complaint.acceptance_rule.applies": "complaint_intake",
               "decision.made": "decision"}
    for rule in RULES:
        name = sources.get(rule.trigger) or (rule.trigger.split(".")[1]
                                             if rule.trigger.startswith("record.") else None)
        rtype = by_name.get(name) if name else None
        for field in filter(None, (rule.trigger_field, rule.period_field,
                                   rule.trigger_if and rule.trigger_if[0])):
            assert rtype is not None and rtype.field(field) is not None, (rule.id, field)


def test_n31_publication_seven_and_withdrawal_three_working_days():
    """N31: a decision with social impact made 2026-09-29 is published by 2026-10-14 (7 working
    days, National Day skipped, 10-10 worked); N31's second figure (its part "withdrawal", not an
    ID of its own): a published decision revoked 2026-09-30 is withdrawn by 2026-10-10 (3
    working days). Both figures are ⚠ and configurable, each by its own key."""
    assert due("N31", at(2026, 9, 29)).last_day == date(2026, 10, 14)
    withdrawal = TABLE.rule_for("N31:withdrawal")
    assert withdrawal.id == "N31" and withdrawal.part == "withdrawal"
    assert TABLE.rule_for("N31", trigger="decision.publication_to_withdraw") is withdrawal
    assert due("N31:withdrawal", at(2026, 9, 30)).last_day == date(2026, 10, 10)
    assert TABLE.rule_for("N31").configurable and withdrawal.configurable
    assert RuleTable(overrides={"N31": 10}).due_for("N31", at(2026, 9, 29), CAL).period == 10
    table = RuleTable(overrides={"N31:withdrawal": 5})
    assert table.rule_for("N31:withdrawal").period == 5 and table.rule_for("N31").period == 7
    with pytest.raises(KeyError):
        TABLE.rule_for("N31.2")


def test_n8_is_met_when_service_starts_n29():
    """N8/N29: the decision is served in time when posting, entrustment or announcement started
    within the 7 working days (time in transit not counted, 民诉 Art. 85)."""
    rule = TABLE.rule_for("N8")
    assert "decision.service_started" in rule.closed_by and "N29" in rule.ids


def test_n33_1996_versions_of_n6_and_n8_count_calendar_days():
    """N33/N6/N8: before 2021-07-15 the 7 days of the 1996 law were calendar days (no N1):
    preservation approved 2021-06-30 → decide by 2021-07-07; a decision made 2021-07-14 is
    served by 2021-07-21; from 2021-07-15 the 7 are working days."""
    assert due("N6", at(2021, 6, 30)).last_day == date(2021, 7, 7)
    assert due("N8", at(2021, 7, 14)).last_day == date(2021, 7, 21)
    assert due("N8", at(2021, 7, 15)).unit == "working_days"


def test_n2_coercion_periods_of_ten_days_are_working_days():
    """N2/N14 (行政强制法 Art. 69): the 10 days after a demand notice served 2026-09-28 are
    working days: National Day skipped, the 调休 Saturday 10-10 counted → 2026-10-16 (as
    calendar days they would have ended 2026-10-08)."""
    answer = due("N14", at(2026, 9, 28))
    assert (answer.unit, answer.last_day) == ("working_days", date(2026, 10, 16))
    assert TABLE.rule_for("N14").effective_from == date(2012, 1, 1)
