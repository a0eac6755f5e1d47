"""Licensing clocks (行政许可法; N16, N17, N30): the decision period runs from acceptance; a
missing-materials notice given after the 5 working days of N16 means the application counts
as accepted on receipt (Art. 32(4)), so the decision period runs from the receipt; a granted
licence is issued within 10 working days (Art. 44, N30 ⚠).

Excluded time (Art. 45, N30): hearing, testing, inspection, appraisal and expert-review time is
not counted in the decision period. Its start record (the written notice to the applicant)
pauses the N17 clock — the open deadline is cancelled, naming the record — and its end record
counts the clock again from acceptance with every excluded working day left out, so the
deadlines table shows the moved last day. The licensing hearing is in
core.cases.licensing_hearing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from core.cases.facts import CaseFacts, load_facts
from core.cases.models import Case, Record
from core.cases.periods import _rules, load_calendar
from core.kernel.clock import parse_aware
from core.kernel.errors import GateRefused, Invalid
from core.platform.uow import Event, UnitOfWork
from core.rules.calendar import WorkingDayCalendar, legal_date

ACCEPTED = "application.accepted"
PAUSED = "licensing.clock_paused"  # core.deadlines.tracking cancels the rules it `pauses`
EXCLUDED = "licensing_excluded_time"
EXCLUDED_END = "licensing_excluded_time_end"


def _pending(uow: UnitOfWork, case: Case) -> Record | None:
    rows = uow.session.execute(select(Record).where(
        Record.case_id == case.id, Record.type == "application_acceptance")).scalars().all()
    pending = [r for r in rows if r.fields.get("decision") == "pending_materials"]
    return max(pending, key=lambda r: r.occurred_at) if pending else None


def before_notice(uow: UnitOfWork, case: Case, occurred_at) -> dict:
    """N16/N30: a notice after the 5 working days: the application was accepted on receipt."""
    acceptance = _pending(uow, case)
    if acceptance is None:
        return {}
    cal = load_calendar(uow.session)
    due = _rules(cal).due_for("N16", acceptance.occurred_at, cal)
    if occurred_at <= due.due:
        return {}
    received = acceptance.occurred_at.astimezone(cal.tz).date().isoformat()
    return {"deemed_accepted_on": received, "late_notice_warning": (
        f"补正告知晚于 {due.last_day}（收到申请后五个工作日），"
        f"自收到申请材料之日 {received} 起即为受理"
        f"（行政许可法第三十二条第一款第四项）/ notice after {due.last_day}: accepted on receipt "
        f"{received} (N16, N30)")}


# --- excluded time (Art. 45) ----------------------------------------------------------------

def accepted_record(facts: CaseFacts) -> Record | None:
    """The acceptance the N17 clock runs from: accepted, or pending and deemed accepted."""
    accepted = [r for r in facts.of_type("application_acceptance")
                if r.fields.get("decision") == "accepted"]
    if accepted:
        return accepted[-1]
    if any(n.fields.get("deemed_accepted_on") for n in facts.of_type("missing_materials_notice")):
        pending = [r for r in facts.of_type("application_acceptance")
                   if r.fields.get("decision") == "pending_materials"]
        return pending[-1] if pending else None
    return None


def _end_of(facts: CaseFacts, start: Record) -> Record | None:
    return next((e for e in facts.of_type(EXCLUDED_END)
                 if e.fields.get("excluded_id") == start.id), None)


def excluded_working_days(facts: CaseFacts) -> int:
    """Working days of the ended excluded periods, start and end days included: a day the
    activity took is not a day of review (a local choice; Art. 45 does not say how to count)."""
    return sum(working_days_between(facts.calendar, parse_aware(s.fields["started_at"]),
                                    parse_aware(e.fields["ended_at"]))
               for s in facts.of_type(EXCLUDED) if (e := _end_of(facts, s)) is not None)


def working_days_between(cal: WorkingDayCalendar, start: datetime, end: datetime) -> int:
    """Working days from start's legal day to end's, both included."""
    day, last, n = legal_date(start, cal.tz), legal_date(end, cal.tz), 0
    while day <= last:
        n += cal.is_working_day(day)
        day += timedelta(days=1)
    return n


def _refuse(en: str, zh: str, rule: str = "N30", **details) -> GateRefused:
    return GateRefused(en, missing=[rule], zh=zh, details=details or None)


def _gate_start(facts: CaseFacts, fields: dict, occurred_at: datetime) -> None:
    """Art. 45: the clock pauses only on a running decision period, once at a time, with the
    applicant told in writing."""
    acceptance = accepted_record(facts)
    if acceptance is None:
        raise _refuse("the licensing decision period has not started: the application is not "
                      "accepted yet (行政许可法 Art. 42)",
                      "申请尚未受理，许可决定期限尚未起算，无需扣除（行政许可法第四十二条）", "N17")
    if facts.of_type("decision"):
        raise _refuse("the licensing decision was already made: no time left to exclude",
                      "已作出行政许可决定，不能再扣除期间", "N17")
    if any(_end_of(facts, s) is None for s in facts.of_type(EXCLUDED)):
        raise _refuse("an excluded period is still running: record its end first",
                      "尚有未结束的不计入期限的期间，请先记录其结束")
    if fields.get("applicant_told_in_writing") is not True:
        raise _refuse("the applicant must be told in writing of the time needed (行政许可法 "
                      "Art. 45)", "须将所需时间书面告知申请人（行政许可法第四十五条）",
                      fields={"applicant_told_in_writing": "required true"})
    if parse_aware(fields["started_at"]) < acceptance.occurred_at:
        raise Invalid("started_at is before the application was accepted",
                      zh="开始时间早于申请受理时间",
                      details={"fields": {"started_at": "before acceptance"}})


def _gate_end(facts: CaseFacts, fields: dict, occurred_at: datetime) -> None:
    start = facts.get(fields.get("excluded_id"))
    if start is None or start.type != EXCLUDED:
        raise Invalid("excluded_id must name an excluded-time notice of this case",
                      zh="excluded_id 须为本案的不计入许可期限的期间告知书",
                      details={"fields": {"excluded_id": "unknown"}})
    if _end_of(facts, start) is not None:
        raise _refuse("that excluded period already ended", "该期间已记录结束")
    if parse_aware(fields["ended_at"]) < parse_aware(start.fields["started_at"]):
        raise Invalid("ended_at is before the period started", zh="结束时间早于开始时间",
                      details={"fields": {"ended_at": "before started_at"}})


def before(uow: UnitOfWork, case: Case, rtype_name: str, fields: dict,
           occurred_at: datetime) -> dict:
    """Check an excluded-time record of a licensing case (Art. 45, N30)."""
    gate = {EXCLUDED: _gate_start, EXCLUDED_END: _gate_end}.get(rtype_name)
    if gate is not None:
        gate(load_facts(uow.session, case, now=occurred_at), fields, occurred_at)
    return {}


def _pause(uow: UnitOfWork, case: Case, record: Record) -> None:
    """The start pauses N17: its open deadline is cancelled, naming the notice."""
    acceptance = accepted_record(load_facts(uow.session, case))
    if acceptance is not None:
        uow.emit(Event(PAUSED, case.id, parse_aware(record.fields["started_at"]), {
            "record_id": record.id, "subject_id": acceptance.id, "pauses": ["N17"],
            "pause_reason": f"paused: {record.id} (行政许可法 Art. 45)"}))


def _resume(uow: UnitOfWork, case: Case, record: Record) -> None:
    """The end counts N17 again from acceptance, every excluded working day left out."""
    facts = load_facts(uow.session, case)
    acceptance = accepted_record(facts)
    if acceptance is None:
        return
    start = acceptance.occurred_at
    uow.emit(Event(ACCEPTED, case.id, parse_aware(record.fields["ended_at"]), {
        "record_id": acceptance.id, "subject_id": acceptance.id,
        "trigger_at": start.isoformat(), "occurred_at": start.isoformat(),
        "excluded_working_days": excluded_working_days(facts), "resumed_by": record.id,
        "pauses": ["N17"], "pause_reason": f"recounted: {record.id}"}))


def after_record(uow: UnitOfWork, case: Case, record: Record) -> None:
    """Raise application.accepted: on acceptance, or deemed on receipt by a late notice;
    pause and resume the decision clock around excluded time (Art. 45)."""
    if record.type == "application_acceptance" and record.fields.get("decision") == "accepted":
        uow.emit(Event("application.accepted", case.id, record.occurred_at, {
            "record_id": record.id, "subject_id": record.id,
            "occurred_at": record.occurred_at.isoformat()}))
    if record.type == "missing_materials_notice" and record.fields.get("deemed_accepted_on"):
        acceptance = _pending(uow, case)
        if acceptance is not None:
            at = acceptance.occurred_at
            uow.emit(Event("application.accepted", case.id, at, {
                "record_id": acceptance.id, "subject_id": acceptance.id, "deemed": True,
                "trigger_at": at.isoformat(), "occurred_at": at.isoformat()}))
    if record.type == EXCLUDED:
        _pause(uow, case, record)
    if record.type == EXCLUDED_END:
        _resume(uow, case, record)

