"""The deadline rule table: every legal period the software tracks, with its source (RULES.md).

One row per rule (a :class:`DeadlineRule`); a rule whose figure changed on a date has one row
per version (N18). Figures an administrator may replace go through :class:`RuleTable`
overrides; ⚠ figures (RULES.md could not verify them) are flagged ``configurable`` and every
answer using an unconfirmed ⚠ figure carries a warning.

Counting (RULES.md part 2, 民事诉讼法 Art. 85, 民法典 Art. 202 for months):

- ``exact``: clock hours run from the trigger instant, holidays included (A10.2, N12).
- ``start_day_excluded``: working days; the trigger's legal day is not counted.
- ``start_day_excluded_roll``: calendar days or months; the trigger's legal day is not counted
  and a last day that is a rest day moves to the next working day. Months end on the
  corresponding day of the end month, or that month's last day when it has none.
- ``start_day_excluded_no_roll``: a maximum duration of a coercive measure (N13); rest days do
  not lengthen it, so the last day never moves (a choice made for the party's protection).
- ``before_event``: counted back from a future event (N5: notify ≥7 working days before the
  hearing); the service day and the event day are both excluded, so ``period`` full working
  days lie strictly between; the last day is the (period+1)th working day before the event.

Parts: RULES.md gives some rows more than one figure (N31: publish in 7, withdraw in 3
working days). Each figure is a row with the same ``id`` (the RULES.md ID) and its own ``part``;
``key`` ("N31:withdrawal") names the row for DEADLINE_OVERRIDES and lookups, and a stored
deadline finds its part by its trigger event. A part is never an ID of its own.

Due times: a day-based rule is due at the end of its last legal day (23:59:59.999999
Asia/Shanghai, the calendar's tz); an act at or before ``due`` is on time. A clock-hour rule is
due exactly ``period`` hours after the trigger. ``DueAnswer.last_day`` is the day to show.

``obligor`` says who must act: ``authority`` (a deadline, reminders escalate), ``party`` (the
party's period, e.g. to request a hearing; the officer is told when it ends and the next step
opens) or ``none`` (a deemed event, N18 deemed service).

Event names: ``trigger`` and ``closed_by`` are the names of :class:`core.platform.uow.Event`.
Emitted today: ``case.opened``, ``case.emergency_opened``, ``case.stage.<stage>``
(core.cases.lifecycle), ``record.<type>.created`` and ``record.<type>.approved``
(core.cases.records),
``complainant.notified.<intake|decision|result>`` (core.complaints.tickets), ``decision.made``,
``hearing.scheduled``, ``evidence.recording.cannot_continue``,
``coercive_measure.emergency_refused`` (core.cases.coercion: the head's refusal, N12's part
"release"), ``licensing.clock_paused`` (core.cases.licensing: excluded time, Art. 45),
``evidence_preservation.approved`` (core.cases.record_hooks), ``record.<type>.served``,
``decision.served``, ``demand_notice.served``, ``correction_order.served``,
``service.announcement.published``, ``decision.appeal_period_ended``
(core.cases.service_of_documents), ``obligation.performed``, ``fine.paid``,
``court_application.filed`` (core.cases.execution), ``act.ended`` (core.cases.act_end: the
record that legally ends the act, A32.1), ``application.accepted`` (core.cases.licensing:
acceptance, or deemed on receipt, N17/N30), ``dossier.archived``,
``access_request.received``, ``access_request.replied`` (core.archive). Every other name a
rule uses is listed in :data:`AWAITED_EVENTS` with who must emit it and with which data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType

from core.kernel.settings import Settings, SettingsError
from core.rules.calendar import WorkingDayCalendar, end_of_legal_day, legal_date, require_aware

# A2.1: the six kinds of enforcement act (same values as core.kernel.vocab.KINDS; kept here so this
# module stays pure).
KINDS = ("licensing", "penalty", "coercion", "levy", "fee", "inspection")

UNITS = ("clock_hours", "working_days", "calendar_days", "months")
COUNTINGS = (
    "exact",
    "start_day_excluded",
    "start_day_excluded_roll",
    "start_day_excluded_no_roll",
    "before_event",
)
_COUNTINGS_BY_UNIT = {
    "clock_hours": {"exact"},
    "working_days": {"start_day_excluded", "before_event"},
    "calendar_days": {"start_day_excluded_roll", "start_day_excluded_no_roll"},
    "months": {"start_day_excluded_roll", "start_day_excluded_no_roll"},
}
OBLIGORS = ("authority", "party", "none")
STEPS = ("before", "due", "overdue", "escalate", "ended")

# The first instant after a due time: an act at `due` is on time, one at `due + RESOLUTION` late.
RESOLUTION = timedelta(microseconds=1)
# Reminders for a day-based rule go out at the start of the working day, not at midnight.
MORNING = time(9, 0)

MUNICIPAL = "岳阳市住房和城乡建设局行政执法全过程记录实施细则 (2019)"
# N33: when each source took effect; a deadline uses the version in force on its trigger day.
MUNICIPAL_FROM = date(2019, 12, 12)  # 岳建函〔2019〕333号, "自发布之日起实施" (Art. 38)
PENALTY_2021 = date(2021, 7, 15)  # 行政处罚法 (2021) Art. 86
PENALTY_1996 = date(1996, 10, 1)  # 行政处罚法 (1996) Art. 64
COERCION_FROM = date(2012, 1, 1)  # 行政强制法 Art. 71
LICENSING_FROM = date(2004, 7, 1)  # 行政许可法 Art. 83
DISCLOSURE_2019 = date(2019, 5, 15)  # 政府信息公开条例 (2019) Art. 56
MOHURD_55 = date(2022, 5, 1)  # 住房和城乡建设部令第55号 Art. 69
SAMR_COMPLAINTS = date(2020, 1, 1)  # 市场监督管理投诉举报处理暂行办法 Art. 41
ANY_VALUE = "*"  # trigger_if value: the field has any value


@dataclass(frozen=True)
class ReminderSpec:
    """One escalation step as data: who is told, when, relative to the due time."""

    role: str
    step: str
    anchor: str = "due"  # "due", or "overdue" = the first instant after due
    offset: int = 0  # in `unit`, negative = before the anchor
    unit: str = "clock_hours"  # or "working_days" (shifts the anchor's legal day)
    at_time: time | None = None  # working_days only: local time; None keeps the anchor's

    def __post_init__(self) -> None:
        """Refuse steps that cannot be placed in time."""
        if self.anchor not in ("due", "overdue"):
            raise ValueError(f"reminder anchor must be 'due' or 'overdue', not {self.anchor!r}")
        if self.unit not in ("clock_hours", "working_days"):
            raise ValueError(f"reminder unit must be clock_hours or working_days: {self.unit!r}")
        if self.step not in STEPS:
            raise ValueError(f"reminder step must be one of {STEPS}, not {self.step!r}")
        if self.at_time is not None and self.unit != "working_days":
            raise ValueError("at_time only applies to working_days reminders")


# Default for day-based deadlines (brief): officer 1 working day before and on the last day,
# supervisor on the last day and once overdue, head 1 working day after the last day.
DAY_REMINDERS = (
    ReminderSpec("officer", "before", offset=-1, unit="working_days", at_time=MORNING),
    ReminderSpec("officer", "due", offset=0, unit="working_days", at_time=MORNING),
    ReminderSpec("supervisor", "due", offset=0, unit="working_days", at_time=MORNING),
    ReminderSpec("supervisor", "overdue", anchor="overdue"),
    ReminderSpec("head", "escalate", offset=1, unit="working_days", at_time=MORNING),
)
# Clock-hour deadlines are emergencies: "one working day before" a 24-hour period would be
# its start, and "one working day after" could be a week away over a holiday, so the steps
# are in hours instead.
CLOCK_REMINDERS = (
    ReminderSpec("officer", "before", offset=-4),
    ReminderSpec("officer", "due"),
    ReminderSpec("supervisor", "due"),
    ReminderSpec("supervisor", "overdue", anchor="overdue"),
    ReminderSpec("head", "escalate", offset=2),
)
# A party's period or a deemed event: nobody is late; the officer learns the next step is open.
PERIOD_END_REMINDERS = (ReminderSpec("officer", "ended", anchor="overdue"),)


@dataclass(frozen=True)
class DeadlineRule:
    """One legal period: what starts it, what ends it, its figure, unit and legal source."""

    id: str  # RULES.md ID
    title_en: str
    title_zh: str
    trigger: str  # event name that starts the period
    closed_by: tuple[str, ...]  # event names that satisfy it
    period: int | None  # None: set per case only (the order or notice states it)
    unit: str
    counting: str
    legal_source: str
    effective_from: date | None = None  # inclusive, by the trigger's legal day
    effective_to: date | None = None  # exclusive
    kinds: frozenset[str] | None = None  # A2.1 kinds; None = every kind and no case
    configurable: bool = False  # ⚠ in RULES.md: the figure is unverified, confirm it
    per_case: bool = False  # the notice/order sets the figure; a per-case figure is expected
    extension: int = 0  # figure of one lawful extension, same unit
    max_extensions: int = 0
    obligor: str = "authority"
    reminders: tuple[ReminderSpec, ...] | None = None  # None: default for unit and obligor
    related_ids: tuple[str, ...] = ()  # other RULES.md IDs this row also implements
    note: str = ""
    # For a record.* trigger (data["record_id"] names the record; for record.<type>.served
    # the served document): the field (aware ISO datetime) that is the legal trigger time,
    # e.g. a complaint's received_at; None: the event's occurred_at.
    trigger_field: str | None = None
    # Open only when that record's field has this value (ANY_VALUE: has any value).
    trigger_if: tuple[str, object] | None = None
    # That record's field holding the per-case figure (a rights notice's response period).
    period_field: str | None = None
    # The deadline belongs to one item (the trigger's subject: an evidence item, a decision):
    # a closing event that names items closes only theirs (see core.deadlines.tracking).
    per_item: bool = False
    overridden_from: int | None = None  # set by RuleTable when an administrator overrides
    # One of several figures of the same RULES.md row (N31: publication, then "withdrawal"):
    # the ID stays the RULES.md ID; the part tells the rows apart (key "N31:withdrawal").
    part: str = ""

    def __post_init__(self) -> None:
        """Validate the row and fill in default reminders."""
        if self.unit not in UNITS:
            raise ValueError(f"{self.id}: unit must be one of {UNITS}, not {self.unit!r}")
        if self.counting not in _COUNTINGS_BY_UNIT[self.unit]:
            raise ValueError(f"{self.id}: counting {self.counting!r} does not fit {self.unit}")
        if self.obligor not in OBLIGORS:
            raise ValueError(f"{self.id}: obligor must be one of {OBLIGORS}")
        if self.period is None and not self.per_case:
            raise ValueError(f"{self.id}: only a per-case rule may have no period")
        if self.period is not None and self.period < 1:
            raise ValueError(f"{self.id}: period must be >= 1")
        if self.kinds is not None:
            object.__setattr__(self, "kinds", frozenset(self.kinds))
            unknown = self.kinds - set(KINDS)
            if unknown or not self.kinds:
                raise ValueError(f"{self.id}: unknown kinds {sorted(unknown)} (A2.1)")
        if (
            self.effective_from
            and self.effective_to
            and not self.effective_from < self.effective_to
        ):
            raise ValueError(f"{self.id}: effective_from must be before effective_to")
        if (self.extension > 0) != (self.max_extensions > 0):
            raise ValueError(f"{self.id}: extension and max_extensions go together")
        if self.counting == "before_event" and self.extension:
            raise ValueError(f"{self.id}: a before_event period cannot be extended")
        if self.trigger_if is not None and (
            len(self.trigger_if) != 2 or not isinstance(self.trigger_if[0], str)
        ):
            raise ValueError(f"{self.id}: trigger_if must be (field name, value)")
        if self.period_field and not self.per_case:
            raise ValueError(f"{self.id}: only a per-case rule takes its figure from a field")
        if self.reminders is None:
            if self.obligor != "authority":
                default = PERIOD_END_REMINDERS
            elif self.unit == "clock_hours":
                default = CLOCK_REMINDERS
            else:
                default = DAY_REMINDERS
            object.__setattr__(self, "reminders", default)

    @property
    def effective_until(self) -> date | None:
        """The last legal day the rule is in force (inclusive); None while in force."""
        return self.effective_to - timedelta(days=1) if self.effective_to else None

    @property
    def key(self) -> str:
        """The row's key: the RULES.md ID, with ``:part`` for a second figure of that ID."""
        return f"{self.id}:{self.part}" if self.part else self.id

    @property
    def ids(self) -> tuple[str, ...]:
        """This rule's ID followed by the related IDs it also implements."""
        return (self.id, *self.related_ids)

    def effective_on(self, day: date) -> bool:
        """True if the rule applies to a trigger on legal day `day`."""
        if isinstance(day, datetime):
            raise TypeError("pass a legal date, not a datetime: convert with legal_date(dt)")
        if self.effective_from and day < self.effective_from:
            return False
        return not (self.effective_to and day >= self.effective_to)

    def triggered_by(self, fields: Mapping[str, object] | None) -> bool:
        """True if a trigger record with these fields meets trigger_if (always, without one)."""
        if self.trigger_if is None:
            return True
        name, wanted = self.trigger_if
        value = (fields or {}).get(name)
        if wanted == ANY_VALUE:
            return value not in (None, "", [])
        return value == wanted

    def applies_to(self, kind: str | None) -> bool:
        """True if the rule applies to a case of this kind (None: an event outside any case)."""
        if self.kinds is None:
            return True
        return kind is not None and kind in self.kinds


# The names rules use that nothing emits yet: the issue that adds the step emits them with
# ``uow.emit(Event(name, case_id, at, data))``. ``at`` is when the act happened (the trigger);
# data may carry ``trigger_at`` (aware ISO), ``occurred_at``, ``period`` (per-case figure),
# ``evidence_id`` or ``subject_id`` (the item the deadline is about: a closing event that
# names one closes only that item's deadline) and ``record_id``.
# Service convention: when a document record is served, emit ``record.<its type>.served`` with
# data {"record_id": the served document, "service_record_id": ..., "occurred_at": served_at}.
AWAITED_EVENTS: Mapping[str, str] = MappingProxyType({
    "evidence.captured": "A31.1 capture: at = end of recording (capture time); evidence_id",
    "evidence.uploaded": "A31.1 capture: stored in the system; the same evidence_id",
    "record.access_reply.served": "A35.1/N22: catalogue type access_reply, then its service",
})

F = DeadlineRule

# fmt: off
RULES: tuple[DeadlineRule, ...] = (
    # ---- Part 1: the municipal rules -------------------------------------------------------
    # A10.2: emergency start first, supplementary record within 24 hours (clock hours).
    # The catalogue's supplementary record is the 立案审批表 (core/checklist.py A10.2); its
    # submission is the record, the head's approval may follow later.
    F("A10.2", "Supplementary filing record after an emergency start", "紧急启动后补充记录",
      "case.emergency_opened", ("record.filing_form.created",),
      24, "clock_hours", "exact", f"{MUNICIPAL} 第十条第二款",
      effective_from=MUNICIPAL_FROM),
    # A17.2: AV recording that cannot continue: report to the head at once (an alert, not a
    # deadline) and explain in writing "事后" (afterwards). The rules give no figure; one
    # working day is this project's choice, configurable.
    F("A17.2", "Written explanation after an AV recording could not continue",
      "音像记录无法继续后书面说明",
      "evidence.recording.cannot_continue", ("record.interruption_explanation.created",),
      1, "working_days", "start_day_excluded", f"{MUNICIPAL} 第十七条第二款",
      effective_from=MUNICIPAL_FROM,
      configurable=True, trigger_field="interrupted_at", trigger_if=("can_continue", False),
      per_item=True,
      note="The rules say 事后 without a figure; 1 working day is a local choice."),
    # A22.1 / N10: the party's statement and defence period, stated in the rights notice.
    F("A22.1", "Statement and defence period after the rights notice", "陈述申辩期限",
      "record.rights_notice.served",
      ("record.statement_defence.created", "record.statement_waiver.created"),
      5, "working_days", "start_day_excluded",
      f"{MUNICIPAL} 第二十二条; 行政处罚法 (2021) 第四十四条、第四十五条",
      effective_from=MUNICIPAL_FROM,
      configurable=True, per_case=True, obligor="party", related_ids=("N10",),
      period_field="response_period_working_days", per_item=True,
      note="The notice sets the period (its response_period_working_days); 5 working days is "
           "the common figure (⚠ RULES.md N10)."),
    # A29.1: ordered correction checked on schedule; the order sets the period.
    F("A29.1", "Check of an ordered correction", "责令改正后按期核查",
      "correction_order.served", ("record.correction_check.created",),
      None, "calendar_days", "start_day_excluded_roll", f"{MUNICIPAL} 第二十九条第二款",
      effective_from=MUNICIPAL_FROM, per_case=True, trigger_if=("correction_ordered", True),
      period_field="correction_period_days", per_item=True,
      note="The decision states the correction period (correction_period_days)."),
    # A31.1: AV stored in the designated system within 2 working days of being made.
    F("A31.1", "AV record stored in the designated system", "音像记录存储",
      "evidence.captured", ("evidence.uploaded",),
      2, "working_days", "start_day_excluded", f"{MUNICIPAL} 第三十一条",
      effective_from=MUNICIPAL_FROM, per_item=True,
      note="Counted from the end of the recording (制作完成), the capture time."),
    # A32.1: dossier within 20 days of the end of the enforcement act.
    # The act ends with the record that legally ends it (act.ended: execution completed, court
    # result, decision not to penalise or to drop the case, licence served or refused, measure
    # released, inspection concluded); archiving is done when a custodian accepts the case
    # file (dossier.archived, core.archive.custody), which closing the case requires.
    F("A32.1", "Case file compiled and archived", "立卷归档",
      "act.ended", ("dossier.archived",),
      20, "calendar_days", "start_day_excluded_roll", f"{MUNICIPAL} 第三十二条",
      effective_from=MUNICIPAL_FROM),
    # A35.1 / N22: access request handled under the disclosure rules: 20 working days, +20.
    F("A35.1", "Reply to a request to see the records", "查阅申请答复",
      "access_request.received", ("record.access_reply.served", "access_request.replied"),
      20, "working_days", "start_day_excluded",
      f"{MUNICIPAL} 第三十五条; 政府信息公开条例 (2019) 第三十三条",
      effective_from=MUNICIPAL_FROM, extension=20, max_extensions=1, related_ids=("N22",),
      per_item=True,
      note="An extension needs the disclosure office head's consent and notice to the "
           "applicant (Art. 33(2))."),

    # ---- Part 2: national figures ------------------------------------------------------------
    # N4: hearing request within 5 (working, N1) days of being told of the hearing right.
    F("N4", "Party's hearing request period", "听证申请期限",
      "record.rights_notice.served",
      ("record.hearing_request.created", "record.hearing_waiver.created"),
      5, "working_days", "start_day_excluded", "行政处罚法 (2021) 第六十四条第一项",
      effective_from=PENALTY_2021,
      kinds={"penalty"}, obligor="party", trigger_if=("hearing_right", True), per_item=True),
    # N4 / N33: before 2021-07-15 the request period was 3 days (1996 law Art. 42(1)), and
    # the working-day rule of N1 did not exist yet: calendar days, rolled off a rest day.
    F("N4", "Party's hearing request period", "听证申请期限",
      "record.rights_notice.served",
      ("record.hearing_request.created", "record.hearing_waiver.created"),
      3, "calendar_days", "start_day_excluded_roll", "行政处罚法 (1996) 第四十二条第一款第一项",
      effective_from=PENALTY_1996, effective_to=PENALTY_2021, related_ids=(),
      kinds={"penalty"}, obligor="party", trigger_if=("hearing_right", True), per_item=True),
    # N5: hearing notice served at least 7 working days before the hearing.
    F("N5", "Hearing notice before the hearing", "听证通知",
      "hearing.scheduled", ("record.hearing_notice.served",),
      7, "working_days", "before_event", "行政处罚法 (2021) 第六十四条第二项",
      effective_from=PENALTY_2021, kinds={"penalty"}, trigger_field="hearing_at", per_item=True,
      note="Trigger time is the hearing's start; 7 full working days must lie between the "
           "service day and the hearing day (both excluded)."),
    # N6: decision on registered-preserved evidence within 7 working days.
    F("N6", "Decision on evidence registered and preserved", "先行登记保存处理决定",
      "evidence_preservation.approved", ("record.preservation_decision.created",),
      7, "working_days", "start_day_excluded", "行政处罚法 (2021) 第五十六条",
      effective_from=PENALTY_2021,
      related_ids=("A16.1",), trigger_if=("form", "registration_preservation"), per_item=True),
    # N6 / N33: before 2021-07-15, 7 days (1996 law Art. 37(2)) counted as calendar days.
    F("N6", "Decision on evidence registered and preserved", "先行登记保存处理决定",
      "evidence_preservation.approved", ("record.preservation_decision.created",),
      7, "calendar_days", "start_day_excluded_roll", "行政处罚法 (1996) 第三十七条第二款",
      effective_from=PENALTY_1996, effective_to=PENALTY_2021,
      trigger_if=("form", "registration_preservation"), per_item=True),
    # N7: penalty decision within 90 days of 立案, unless a rule says otherwise.
    # 立案 is the head's approval of the filing form (A10.1), the last step of its chain.
    F("N7", "Penalty decision after filing", "行政处罚决定期限",
      "record.filing_form.approved", ("decision.made",),
      90, "calendar_days", "start_day_excluded_roll", "行政处罚法 (2021) 第六十条",
      effective_from=PENALTY_2021, kinds={"penalty"},
      note="Laws, regulations or rules may set another figure: override it per department. "
           "No such limit before 2021-07-15 (N33): a case filed earlier gets no N7 row."),
    # N8: decision served within 7 working days when the party was absent.
    F("N8", "Service of the penalty decision (party absent)", "处罚决定书送达",
      "decision.made", ("decision.served", "decision.service_started"),
      7, "working_days", "start_day_excluded", "行政处罚法 (2021) 第六十一条",
      effective_from=PENALTY_2021, kinds={"penalty"}, per_item=True, related_ids=("N29",),
      note="When the party is present the decision is handed over on the spot and its "
           "service closes this at once."),
    # N8 / N33: before 2021-07-15, 7 days (1996 law Art. 40) counted as calendar days.
    F("N8", "Service of the penalty decision (party absent)", "处罚决定书送达",
      "decision.made", ("decision.served",),
      7, "calendar_days", "start_day_excluded_roll", "行政处罚法 (1996) 第四十条",
      effective_from=PENALTY_1996, effective_to=PENALTY_2021, kinds={"penalty"},
      per_item=True),
    # N9: fine paid within 15 days of receiving the decision.
    F("N9", "Fine payment period", "罚款缴纳期限",
      "decision.served", ("fine.paid",),
      15, "calendar_days", "start_day_excluded_roll", "行政处罚法 (2021) 第六十七条",
      effective_from=PENALTY_1996,
      kinds={"penalty"}, obligor="party", trigger_if=("fine_amount_yuan", ANY_VALUE),
      per_item=True),
    # N12: emergency coercive measure: report to the head and get approval within 24 hours.
    F("N12", "Report and approval of an emergency coercive measure", "当场强制措施补办批准",
      "coercive_measure.emergency_applied",
      ("coercive_measure.emergency_approved", "coercive_measure.released"),
      24, "clock_hours", "exact", "行政强制法 第十九条", per_item=True,
      effective_from=COERCION_FROM,
      note="Closed by the head's approval naming the measure (core.cases.coercion), or by "
           "its release: a measure not approved is released at once."),
    # N12 / Art. 19: a head who finds the emergency measure should not have been taken
    # refuses it, and it "应当立即解除": released at once. "At once" has no figure: 2 clock
    # hours is a local choice (⚠, DEADLINE_OVERRIDES=N12:release=N).
    F("N12", "Release after the head refused an emergency measure", "负责人不予批准后立即解除",
      "coercive_measure.emergency_refused", ("coercive_measure.released",),
      2, "clock_hours", "exact", "行政强制法 第十九条 (\"立即解除\"; figure ⚠)", per_item=True,
      effective_from=COERCION_FROM, configurable=True, part="release",
      note="Opened by the head's return of the after-the-fact approval (core.cases.coercion);"
           " closed by the release decision."),
    # N13: seizure/impoundment at most 30 days, one extension of at most 30.
    F("N13", "Seizure or impoundment period", "查封扣押期限",
      "coercive_measure.seizure_applied",
      ("coercive_measure.released", "coercive_measure.handled"),
      30, "calendar_days", "start_day_excluded_no_roll", "行政强制法 第二十五条",
      effective_from=COERCION_FROM, extension=30, max_extensions=1, per_item=True,
      note="A maximum duration: a last day on a rest day is not moved later. Extension "
           "needs the head's approval."),
    # N14: the party has 10 working days after the demand notice; then the court.
    F("N14", "Period after the demand notice before applying to court", "催告期限",
      "demand_notice.served", ("obligation.performed",),
      10, "working_days", "start_day_excluded", "行政强制法 第五十四条、第六十九条",
      effective_from=COERCION_FROM, obligor="party", related_ids=("A30.1",),
      note="The authority may apply to the court only after this period (when it ends)."),
    # N15: court application within 3 months after the statutory appeal period ends.
    F("N15", "Application to the court for enforcement", "申请法院强制执行期限",
      "decision.appeal_period_ended", ("court_application.filed",),
      3, "months", "start_day_excluded_roll", "行政强制法 第五十三条", per_item=True,
      effective_from=COERCION_FROM,
      note="Trigger: the end of the statutory review/litigation period of the decision."),
    # N16: one-time notice of missing materials within 5 working days.
    F("N16", "One-time notice of missing materials", "一次性告知补正材料",
      "record.application_acceptance.created", ("record.missing_materials_notice.created",),
      5, "working_days", "start_day_excluded", "行政许可法 第三十二条第一款第四项",
      effective_from=LICENSING_FROM,
      kinds={"licensing"}, related_ids=("A9.1",), trigger_if=("decision", "pending_materials"),
      note="If not told within the period the application counts as accepted on receipt."),
    # N17: licensing decision within 20 working days of acceptance, +10 with approval.
    # application.accepted (core.cases.licensing): on acceptance, or on receipt when the
    # missing-materials notice came after N16's 5 working days (N30, Art. 32(4)).
    F("N17", "Licensing decision", "行政许可决定期限",
      "application.accepted", ("decision.made",),
      20, "working_days", "start_day_excluded", "行政许可法 第四十二条",
      effective_from=LICENSING_FROM,
      kinds={"licensing"}, extension=10, max_extensions=1,
      note="Extension needs the head's approval and the reason told to the applicant. "
           "Hearing, testing, appraisal and expert time (Art. 45, N30) pauses the clock: the "
           "row is cancelled at the start and counted again at the end with those working "
           "days left out (core.cases.licensing)."),
    # N30: a granted licence issued (served) within 10 working days of the decision (⚠).
    F("N30", "Licence issued after the decision to grant", "颁发、送达许可证件",
      "decision.made", ("decision.served",),
      10, "working_days", "start_day_excluded", "行政许可法 第四十四条 (⚠ RULES.md N30)",
      effective_from=LICENSING_FROM, kinds={"licensing"}, configurable=True,
      trigger_if=("licence_granted", True), per_item=True),
    # N30's licensing hearing (行政许可法 Art. 47–48; periods in working days, Art. 82, N3).
    # RULES.md has no row of its own for it: issue 10 item 9 puts it with N30, so these are
    # parts of N30, not IDs.
    F("N30", "Licensing hearing request period", "行政许可听证申请期限",
      "record.licensing_hearing_right_notice.served",
      ("record.hearing_request.created", "record.hearing_waiver.created"),
      5, "working_days", "start_day_excluded", "行政许可法 第四十七条第一款",
      effective_from=LICENSING_FROM, kinds={"licensing"}, obligor="party", per_item=True,
      part="hearing_request"),
    F("N30", "Licensing hearing held after the request", "行政许可听证组织期限",
      "record.hearing_request.created",
      ("record.hearing_record.created", "record.hearing_termination.created"),
      20, "working_days", "start_day_excluded", "行政许可法 第四十七条第一款",
      effective_from=LICENSING_FROM, kinds={"licensing"}, part="hearing_held",
      trigger_field="requested_at"),
    F("N30", "Licensing hearing notice before the hearing", "行政许可听证通知",
      "hearing.scheduled", ("record.hearing_notice.served",),
      7, "working_days", "before_event", "行政许可法 第四十八条第一款第一项",
      effective_from=LICENSING_FROM, kinds={"licensing"}, trigger_field="hearing_at",
      per_item=True, part="hearing_notice"),
    # N18: public-announcement service deemed served after 60 days (before 2022-01-01) ...
    F("N18", "Service by public announcement deemed served", "公告送达视为送达",
      "service.announcement.published", (),
      60, "calendar_days", "start_day_excluded_roll", "民事诉讼法 (2017) 第九十二条",
      effective_from=date(1991, 4, 9), effective_to=date(2022, 1, 1), obligor="none",
      per_item=True),
    # N18: ... and after 30 days from 2022-01-01 (2021 amendment; 2023 text Art. 95).
    F("N18", "Service by public announcement deemed served", "公告送达视为送达",
      "service.announcement.published", (),
      30, "calendar_days", "start_day_excluded_roll", "民事诉讼法 (2023) 第九十五条",
      effective_from=date(2022, 1, 1), obligor="none", per_item=True),
    # N21: petition received directly: written notice to the petitioner within 15 days.
    # A complaint received directly is the petition here; the notice that closes it is the
    # decision notice core.complaints.tickets queues (A11.1), not the intake acknowledgement.
    F("N21", "Written notice to a petitioner", "信访事项告知",
      "record.complaint_intake.created", ("complainant.notified.intake",),
      15, "calendar_days", "start_day_excluded_roll", "信访工作条例 (2022) 第二十三条",
      effective_from=date(2022, 5, 1), trigger_field="received_at"),
    # N23: 住建 pre-filing check within 15 days, +10 with approval (⚠).
    F("N23", "Pre-filing check of a lead", "立案前核查",
      "case.lead.received", ("case.filing_decided",),
      15, "calendar_days", "start_day_excluded_roll", "住房和城乡建设部令第55号 第十五条",
      effective_from=MOHURD_55, kinds={"penalty"}, configurable=True, extension=10,
      max_extensions=1, per_item=True,
      note="Opened by a lead (complaint, report, referral, inspection finding); closed by the "
           "filing decision (the head's approval of the filing form, a complaint decision or "
           "a lead decision); the head may extend it by 10 days once (core.cases.procedures)."),
    # N24: complaint acceptance decision within 7 working days (⚠ for 住建).
    F("N24", "Complaint acceptance decision", "投诉受理决定",
      "complaint.acceptance_rule.applies", ("record.complaint_decision.created",),
      7, "working_days", "start_day_excluded",
      "市场监督管理投诉举报处理暂行办法 第十四条 (住建 figure ⚠)",
      effective_from=SAMR_COMPLAINTS,
      configurable=True, related_ids=("A11.1",), trigger_field="received_at",
      note="Only where a department opts in (COMPLAINT_ACCEPTANCE_DEPARTMENTS); for 住建 "
           "reports of violations N23 applies instead."),
    # ---- legal-b (issue 10 item 14): N31 publication of a decision with social impact
    # within 7 working days (⚠), withdrawn within 3 working days once changed (⚠).
    F("N31", "Publication of a penalty decision with social impact", "行政处罚决定公开",
      "decision.made", ("decision.published",),
      7, "working_days", "start_day_excluded",
      "行政处罚法 (2021) 第四十八条; 住房和城乡建设部令第55号 第十条 (figure ⚠)",
      kinds={"penalty"}, configurable=True, trigger_if=("social_impact", True), per_item=True,
      effective_from=PENALTY_2021),
    # RULES.md numbers N31 as one row with two figures: the second is a part of N31, not an
    # ID of its own (key "N31:withdrawal", DEADLINE_OVERRIDES=N31:withdrawal=N).
    F("N31", "Withdrawal of a published decision that was changed", "撤回已公开的处罚决定",
      "decision.publication_to_withdraw", ("decision.publication_withdrawn",),
      3, "working_days", "start_day_excluded",
      "行政处罚法 (2021) 第四十八条第二款 (figure ⚠)",
      configurable=True, per_item=True, effective_from=PENALTY_2021, part="withdrawal",
      note="RULES.md N31, second figure: changed, revoked or held unlawful or void."),
)
# fmt: on
del F


@dataclass(frozen=True)
class DueAnswer:
    """A computed due time with the figure used, its legal source and every warning."""

    rule_id: str
    legal_source: str
    trigger_at: datetime
    due: datetime  # aware, calendar tz; an act at or before it is on time
    last_day: date | None  # the legal day to show; None for clock-hour rules
    period: int  # total figure used, extensions included
    unit: str
    extensions: int
    figure_origin: str  # "rule", "administrator" or "per case"
    obligor: str
    source: str  # what the calendar consulted
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReminderStep:
    """One reminder to send: to whom, which step, when."""

    rule_id: str
    recipient_role: str
    step: str
    at: datetime


def _unit(rule: DeadlineRule) -> str:
    """The rule's unit as words ("working days")."""
    return rule.unit.replace("_", " ")


def _figure(rule: DeadlineRule, period_override: int | None) -> tuple[int, str, list[str]]:
    """The base figure, where it comes from, and warnings about it."""
    warnings: list[str] = []
    if period_override is not None:
        if isinstance(period_override, bool) or not isinstance(period_override, int):
            raise TypeError("period_override must be an int")
        if period_override < 1:
            raise ValueError(f"{rule.id}: period_override must be >= 1")
        if not rule.per_case and period_override != rule.period:
            warnings.append(
                f"{rule.id}: per-case figure {period_override} replaces the rule's "
                f"{rule.period} {_unit(rule)}"
            )
        return period_override, "per case", warnings
    if rule.period is None:
        raise ValueError(f"{rule.id}: {rule.note or 'the period is set per case'}")
    if rule.overridden_from is not None:
        if not rule.configurable and rule.period != rule.overridden_from:
            warnings.append(
                f"{rule.id}: administrator figure {rule.period} replaces the statutory "
                f"{rule.overridden_from} {_unit(rule)}"
            )
        return rule.period, "administrator", warnings
    if rule.per_case:
        warnings.append(
            f"{rule.id}: the period is set in the notice; using the default {rule.period} "
            f"{_unit(rule)} — pass the notice's figure"
        )
    elif rule.configurable:
        warnings.append(
            f"{rule.id}: {rule.period} {_unit(rule)} is an unconfirmed figure (⚠ in RULES.md); "
            f"an administrator should confirm or override it"
        )
    return rule.period, "rule", warnings


def compute_due(
    rule: DeadlineRule,
    trigger_at: datetime,
    calendar: WorkingDayCalendar,
    *,
    period_override: int | None = None,
    extensions: int = 0,
) -> DueAnswer:
    """Due time of rule for a trigger at trigger_at (aware), per the module's counting rules."""
    require_aware(trigger_at, "trigger_at")
    tz = calendar.tz
    start = legal_date(trigger_at, tz)
    if not rule.effective_on(start):
        raise ValueError(
            f"{rule.id} ({rule.legal_source}) is not in force on {start}: "
            f"look the rule up with RuleTable.rule_for({rule.id!r}, on_date)"
        )
    if isinstance(extensions, bool) or not isinstance(extensions, int) or extensions < 0:
        raise ValueError("extensions must be an int >= 0")
    if extensions > rule.max_extensions:
        raise ValueError(
            f"{rule.id}: at most {rule.max_extensions} extension(s) allowed, got {extensions}"
        )
    base, origin, warnings = _figure(rule, period_override)
    total = base + extensions * rule.extension

    last_day: date | None
    if rule.unit == "clock_hours":
        # Elapsed time, computed in UTC so a tz with DST could not shift it.
        due = (trigger_at.astimezone(UTC) + timedelta(hours=total)).astimezone(tz)
        last_day, source = None, "clock hours (exact)"
    else:
        if rule.counting == "before_event":
            answer = calendar.subtract_working_days(start, total + 1)
        elif rule.unit == "working_days":
            answer = calendar.add_working_days(start, total)
        elif rule.unit == "calendar_days":
            roll = rule.counting == "start_day_excluded_roll"
            answer = calendar.add_calendar_days(start, total, roll_to_working_day=roll)
        else:  # months
            roll = rule.counting == "start_day_excluded_roll"
            answer = calendar.add_months(start, total, roll_to_working_day=roll)
        last_day, source = answer.date, answer.source
        due = end_of_legal_day(last_day, tz)
        warnings = [*answer.warnings, *warnings]
    return DueAnswer(
        rule_id=rule.id,
        legal_source=rule.legal_source,
        trigger_at=trigger_at,
        due=due,
        last_day=last_day,
        period=total,
        unit=rule.unit,
        extensions=extensions,
        figure_origin=origin,
        obligor=rule.obligor,
        source=source,
        warnings=tuple(warnings),
    )


def reminder_times(
    rule: DeadlineRule,
    due: DueAnswer | datetime,
    calendar: WorkingDayCalendar,
    *,
    after: datetime | None = None,
) -> list[ReminderStep]:
    """The rule's reminder steps placed in time, in order; steps at or before `after` dropped."""
    due_at = due.due if isinstance(due, DueAnswer) else due
    require_aware(due_at, "due")
    if after is not None:
        require_aware(after, "after")
    tz = calendar.tz
    steps = []
    for spec in rule.reminders or ():
        anchor = due_at if spec.anchor == "due" else due_at + RESOLUTION
        if spec.unit == "clock_hours":
            at = (anchor.astimezone(UTC) + timedelta(hours=spec.offset)).astimezone(tz)
        else:
            local = anchor.astimezone(tz)
            day = local.date()
            if spec.offset > 0:
                day = calendar.add_working_days(day, spec.offset).date
            elif spec.offset < 0:
                day = calendar.subtract_working_days(day, -spec.offset).date
            at = datetime.combine(day, spec.at_time or local.time(), tzinfo=tz)
        if after is None or at > after:
            steps.append(ReminderStep(rule.id, spec.role, spec.step, at))
    return sorted(steps, key=lambda s: s.at)


class RuleTable:
    """The rule table with administrator overrides of figures, looked up by ID or trigger."""

    def __init__(
        self,
        rules: Iterable[DeadlineRule] = RULES,
        overrides: Mapping[str, int] | None = None,
    ) -> None:
        """Check the rows and apply overrides (rule ID -> figure, e.g. {"N24": 10})."""
        base = tuple(rules)
        primary = {r.key for r in base}
        related = {i: r.id for r in base for i in r.related_ids}
        clash = {r.id for r in base} & set(related)
        if clash:
            raise ValueError(f"IDs both primary and related: {sorted(clash)}")
        for a_index, a in enumerate(base):
            for b in base[a_index + 1 :]:
                if a.key == b.key and _overlap(a, b):
                    raise ValueError(f"{a.key}: two versions in force on the same day")
                if a.id == b.id and a.part != b.part and a.trigger == b.trigger:
                    raise ValueError(f"{a.id}: two parts share the trigger {a.trigger}")
        self._overrides = MappingProxyType(dict(overrides or {}))
        for rule_id, figure in self._overrides.items():
            if rule_id not in primary:
                hint = f": it is covered by rule {related[rule_id]}" if rule_id in related else ""
                raise ValueError(f"override for unknown rule ID {rule_id!r}{hint}")
            if isinstance(figure, bool) or not isinstance(figure, int) or figure < 1:
                raise ValueError(f"override for {rule_id} must be an int >= 1, got {figure!r}")
        self._rules = tuple(
            replace(r, period=self._overrides[r.key], overridden_from=r.period)
            if r.key in self._overrides
            else r
            for r in base
        )
        self._related = MappingProxyType(related)

    @property
    def rules(self) -> tuple[DeadlineRule, ...]:
        """Every row, overrides applied."""
        return self._rules

    @property
    def overrides(self) -> Mapping[str, int]:
        """The administrator's figures by rule ID."""
        return self._overrides

    @property
    def triggers(self) -> frozenset[str]:
        """Every event name that starts a rule."""
        return frozenset(r.trigger for r in self._rules)

    def versions(self, rule_id: str, *, trigger: str | None = None
                 ) -> tuple[DeadlineRule, ...]:
        """Every version of a rule (a related ID such as N10 finds A22.1); KeyError if none.
        ``rule_id`` is an ID (its first figure) or a key with a part ("N31:withdrawal");
        ``trigger`` picks the part a stored deadline was opened by."""
        rule_id = self._related.get(rule_id, rule_id)
        if trigger is not None:
            found = tuple(r for r in self._rules if r.id == rule_id and r.trigger == trigger)
            if found:
                return found
        found = tuple(r for r in self._rules if r.key == rule_id)
        if not found:
            raise KeyError(rule_id)
        return found

    def parts(self, rule_id: str) -> tuple[DeadlineRule, ...]:
        """The rows of an ID's further figures (N31's withdrawal), every version."""
        return tuple(r for r in self._rules if r.id == rule_id and r.part)

    def rule_for(self, rule_id: str, on_date: date | None = None, *,
                 trigger: str | None = None) -> DeadlineRule:
        """The rule in force on on_date (None: the latest version); KeyError if none."""
        found = self.versions(rule_id, trigger=trigger)
        if on_date is None:
            return max(found, key=lambda r: r.effective_from or date.min)
        for rule in found:
            if rule.effective_on(on_date):
                return rule
        raise KeyError(f"{rule_id} is not in force on {on_date}")

    def rules_for_trigger(
        self, event: str, kind: str | None, on_date: date
    ) -> tuple[DeadlineRule, ...]:
        """Rules started by event for a case of kind (None: no case) on legal day on_date."""
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r} (A2.1: {', '.join(KINDS)})")
        return tuple(
            r
            for r in self._rules
            if r.trigger == event and r.applies_to(kind) and r.effective_on(on_date)
        )

    def due_for(
        self,
        rule_id: str,
        trigger_at: datetime,
        calendar: WorkingDayCalendar,
        *,
        period_override: int | None = None,
        extensions: int = 0,
    ) -> DueAnswer:
        """compute_due with the version of rule_id in force on the trigger's legal day."""
        rule = self.rule_for(rule_id, legal_date(trigger_at, calendar.tz))
        return compute_due(
            rule, trigger_at, calendar, period_override=period_override, extensions=extensions
        )


def _overlap(a: DeadlineRule, b: DeadlineRule) -> bool:
    """True if two rows' effective ranges share a day."""
    a_from, b_from = a.effective_from or date.min, b.effective_from or date.min
    a_to, b_to = a.effective_to or date.max, b.effective_to or date.max
    return a_from < b_to and b_from < a_to


OVERRIDES_SETTING = "DEADLINE_OVERRIDES"  # e.g. "N24=10,A17.2=2" (RuleTable overrides)


@lru_cache(maxsize=8)
def _table(raw: str) -> RuleTable:
    overrides: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        rule_id, sep, figure = part.partition("=")
        if not sep or not figure.strip().isdigit():
            raise SettingsError(f"{OVERRIDES_SETTING}: {part!r} is not RULE_ID=whole number")
        overrides[rule_id.strip()] = int(figure)
    try:
        return RuleTable(overrides=overrides)
    except ValueError as exc:
        raise SettingsError(f"{OVERRIDES_SETTING}: {exc}") from exc


def rule_table(settings: Settings) -> RuleTable:
    """The rule table with the administrator's figures from settings (DEADLINE_OVERRIDES)."""
    return _table(settings.deadline_overrides.strip())


__all__ = [
    "ANY_VALUE",
    "AWAITED_EVENTS",
    "CLOCK_REMINDERS",
    "DAY_REMINDERS",
    "KINDS",
    "PERIOD_END_REMINDERS",
    "RULES",
    "DeadlineRule",
    "DueAnswer",
    "ReminderSpec",
    "ReminderStep",
    "RuleTable",
    "compute_due",
    "rule_table",
    "reminder_times",
]
