"""Legal deadlines as rows: opened and closed by the events of a case (RULES.md part 2).

Every event raised in a unit of work passes through :func:`handle_event`, in the same
transaction, so a deadline is committed together with the record that starts it. For each rule
whose trigger is the event (core.rules.deadline_rules), a Deadline row is opened with its due time
counted on the stored calendar, and a Reminder row per escalation step. Open deadlines of the
case whose rule lists the event in ``closed_by`` are closed, and their unsent reminders
cancelled. Reminders are claimed and expanded into outbox messages by core.deadlines.reminders.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import String, cast, select, update
from sqlalchemy.orm import Session

from core.cases.models import Case, Record
from core.cases.visibility import visible_case
from core.deadlines.models import Deadline, Reminder
from core.kernel.clock import parse_aware, utcnow
from core.kernel.ids import new_id
from core.notices.models import OutboxMessage
from core.people.access import log_access
from core.people.models import Officer
from core.platform.uow import Event, UnitOfWork
from core.rules.calendar import end_of_legal_day, legal_date
from core.rules.calendar_store import load_calendar
from core.rules.deadline_rules import (
    DeadlineRule,
    RuleTable,
    compute_due,
    reminder_times,
    rule_table,
)
from core.rules.ledgered import ledger_figures

log = logging.getLogger("quancheng.deadlines")

CASE_CLOSED = "case.stage.closed"
# Record fields that point at the item a record answers (core.cases.record_hooks REFERENCES).
REFERENCE_FIELDS = ("document_id", "decision_id", "preservation_id", "interruption_id",
                    "demand_id", "application_id", "evidence_id")

__all__ = ["cancel_item", "handle_event", "list_deadlines"]


def _when(value: object) -> datetime | None:
    """An aware datetime from event data (datetime or ISO text), or None."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else None
    if isinstance(value, str) and value:
        try:
            return parse_aware(value)
        except ValueError:
            return None
    return None


def _target(event: Event) -> str | None:
    """The one item an event is about, when it names one (an evidence item, a subject)."""
    value = event.data.get("subject_id") or event.data.get("evidence_id")
    return str(value) if value else None


def _act_time(event: Event) -> datetime:
    """When the act behind an event happened: the record's occurred_at, else the event time."""
    return _when(event.data.get("occurred_at")) or event.at


def _trigger_at(rule: DeadlineRule, event: Event, fields: dict | None) -> datetime:
    """The legal trigger instant: explicit trigger_at, the rule's record field, else the act."""
    explicit = _when(event.data.get("trigger_at"))
    if explicit:
        return explicit
    if rule.trigger_field and fields:
        value = _when(fields.get(rule.trigger_field))
        if value:
            return value
    return _act_time(event)


def _period(rule: DeadlineRule, event: Event, fields: dict | None) -> int | None:
    """A per-case figure: given with the event, or read from the rule's record field."""
    for value in (event.data.get("period"),
                  (fields or {}).get(rule.period_field) if rule.period_field else None):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _rule(table: RuleTable, row: Deadline, tz) -> DeadlineRule | None:
    """The version of a stored deadline's rule in force on its trigger day."""
    try:
        return table.rule_for(row.rule_id, legal_date(row.trigger_at, tz),
                              trigger=row.trigger_event)
    except KeyError:
        return None


def _finish(session: Session, rows: list[Deadline], status: str, by: str, at: datetime) -> None:
    """Close or cancel deadlines and cancel whatever of their reminders is not yet sent."""
    if not rows:
        return
    for row in rows:
        row.status, row.closed_by, row.closed_at = status, by[:100], at
    ids = [r.id for r in rows]
    # Through the ORM, not a bulk UPDATE: each cancelled reminder is a ledgered state event.
    for reminder in session.execute(select(Reminder).where(
            Reminder.deadline_id.in_(ids), Reminder.status.in_(("pending", "claimed")))
    ).scalars():
        reminder.status = "cancelled"
    session.flush()
    # Messages expanded but not delivered yet must not go out for a deadline that is met.
    session.execute(update(OutboxMessage).where(
        OutboxMessage.reminder_id.in_(select(Reminder.id).where(Reminder.deadline_id.in_(ids))),
        OutboxMessage.status.in_(("pending", "queued")),
    ).values(status="cancelled").execution_options(synchronize_session=False))


def _open_rows(session: Session, case_id: str | None) -> list[Deadline]:
    stmt = select(Deadline).where(Deadline.status == "open")
    stmt = stmt.where(Deadline.case_id == case_id) if case_id else \
        stmt.where(Deadline.case_id.is_(None))
    return list(session.execute(stmt).scalars())


def _items(session: Session, event: Event) -> set[str]:
    """The items a closing event is about: its subject or evidence id, else what its record
    refers to (a preservation decision's preservation_id, a check's decision_id)."""
    target = _target(event)
    if target is not None:
        return {target}
    record_id = event.data.get("record_id")
    record = session.get(Record, record_id) if isinstance(record_id, str) else None
    if record is None:
        return set()
    return {str(v) for k in REFERENCE_FIELDS if (v := record.fields.get(k))}


def _close_for(uow: UnitOfWork, table: RuleTable, event: Event) -> None:
    """Close the case's open deadlines this event satisfies; for a per-item rule, only the
    deadlines of the items the event names (all of them when it names none)."""
    if event.case_id is None and _target(event) is None:
        return
    if not any(event.name in rule.closed_by for rule in table.rules):
        return  # no version of any rule is closed by it: no open row to read
    tz = uow.settings.legal_tz
    closing, items = [], None
    for row in _open_rows(uow.session, event.case_id):
        rule = _rule(table, row, tz)
        if rule is None or event.name not in rule.closed_by:
            continue
        if rule.per_item:
            items = _items(uow.session, event) if items is None else items
            if items and row.subject_id is not None and row.subject_id not in items:
                continue
        closing.append(row)
    _finish(uow.session, closing, "closed", event.name, _act_time(event))


def _supersede(uow: UnitOfWork, rule: DeadlineRule, record: Record | None) -> None:
    """A corrected trigger record replaces the deadlines its earlier version opened."""
    if record is None or not record.corrects_id:
        return
    old = [r for r in _open_rows(uow.session, record.case_id)
           if r.rule_id == rule.id and r.subject_id == record.corrects_id]
    _finish(uow.session, old, "cancelled", f"corrected by record {record.id}", utcnow())


def _open_for(uow: UnitOfWork, table: RuleTable, event: Event, case: Case | None) -> None:
    """Open a deadline and its reminders for each rule this event starts."""
    kind = case.kind if case else None
    rules = [r for r in table.rules if r.trigger == event.name and r.applies_to(kind)]
    if not rules:
        return
    session, tz = uow.session, uow.settings.legal_tz
    record = session.get(Record, event.data["record_id"]) \
        if isinstance(event.data.get("record_id"), str) else None
    fields = record.fields if record is not None else None
    rules = [r for r in rules if r.triggered_by(fields)]
    if not rules:
        return
    calendar = load_calendar(session, tz)
    ledger_figures(session, table)  # the figures these deadlines are counted with (A37.1)
    subject = _target(event) or event.data.get("record_id")
    now = utcnow()
    existing = {(r.rule_id, r.subject_id, r.trigger_event) for r in _open_rows(session,
                                                                                event.case_id)}
    for rule in rules:
        trigger_at = _trigger_at(rule, event, fields)
        if not rule.effective_on(legal_date(trigger_at, tz)):
            continue  # another version of the rule is in force on that day
        recount = bool(event.data.get("recount"))
        if ((rule.id, subject, event.name) in existing) != recount:
            continue  # the same event raised twice opens one deadline; a recount needs one
        try:
            answer = compute_due(rule, trigger_at, calendar,
                                 period_override=_period(rule, event, fields),
                                 extensions=int(event.data.get("extensions") or 0))
            answer = _excluded(answer, event, calendar)
            steps = reminder_times(rule, answer, calendar, after=trigger_at)
        except (ValueError, TypeError) as exc:
            # A rule that cannot be counted (no per-case figure given) must not lose the record
            # that raised the event; the log says which emitter to fix.
            log.warning("deadline %s not opened for %s on case %s: %s", rule.id, event.name,
                        event.case_id, exc)
            continue
        _supersede(uow, rule, record)
        if recount:
            # legal-b: an approved extension or excluded time (N13 Art. 25, N23) counts the
            # open deadline again; the old row is kept, cancelled, naming why.
            _finish(session, [r for r in _open_rows(session, event.case_id)
                              if r.rule_id == rule.id and r.subject_id == subject],
                    "cancelled", f"recounted: extensions {answer.extensions}", now)
        met = _met_in_commit(uow, rule, event, subject, answer.due)
        deadline = Deadline(
            id=new_id(), case_id=event.case_id, rule_id=rule.id,
            legal_source=rule.legal_source[:200], trigger_event=event.name[:100],
            trigger_at=trigger_at, due_at=answer.due, period=answer.period, unit=rule.unit,
            subject_id=str(subject)[:32] if subject else None,
            status="open" if met is None else "closed",
            closed_by=None if met is None else met.name[:100],
            closed_at=None if met is None else _act_time(met),
            warnings=list(answer.warnings), created_at=now)
        session.add(deadline)
        if met is not None:
            continue  # met as it opens: one row, no reminders to schedule and cancel
        for step in _worth_sending(steps, now):
            session.add(Reminder(id=new_id(), deadline_id=deadline.id,
                                 recipient_role=step.recipient_role, step=step.step,
                                 send_at=step.at, status="pending", created_at=now))
    session.flush()


def _met_in_commit(uow: UnitOfWork, rule: DeadlineRule, event: Event, subject: object,
                   due: datetime) -> Event | None:
    """The event raised together with ``event`` (UnitOfWork.emit_all) that closes this new
    deadline in time, if any: such a deadline is written once, already met (an A31.1 upload
    within its period). One met late is opened and closed as before, so the lateness stays
    visible with the reminders it owed."""
    later = False
    for other in uow.events:
        if other is event:
            later = True
            continue
        if not later or other.name not in rule.closed_by or other.case_id != event.case_id:
            continue
        if rule.per_item and subject is not None:
            target = _target(other)
            if target is not None and target != str(subject):
                continue
        return other if _act_time(other) <= due else None
    return None


def _excluded(answer, event: Event, calendar=None):
    """Days the law leaves out of a period (testing time, 行政强制法 Art. 25(3)) push its end;
    working days left out (licensing hearing, testing, expert time, 行政许可法 Art. 45, N30)
    push a working-day period's last day that many working days on the calendar."""
    work = event.data.get("excluded_working_days")
    if isinstance(work, int) and not isinstance(work, bool) and work > 0 \
            and answer.last_day is not None and calendar is not None:
        last = calendar.add_working_days(answer.last_day, work).date
        note = (f"{answer.rule_id}: {work} working days not counted (行政许可法 Art. 45: "
                f"hearing, testing, appraisal or expert time); last day moved from "
                f"{answer.last_day} to {last}")
        return replace(answer, due=end_of_legal_day(last, calendar.tz), last_day=last,
                       warnings=(*answer.warnings, note))
    days = event.data.get("excluded_days")
    if not isinstance(days, int) or isinstance(days, bool) or days <= 0:
        return answer
    last = answer.last_day + timedelta(days=days) if answer.last_day else None
    return replace(answer, due=answer.due + timedelta(days=days), last_day=last,
                   period=answer.period + days)


def _worth_sending(steps, now: datetime) -> list:
    """Drop steps a later past step of the same role makes moot (a back-dated trigger)."""
    latest_past: dict[str, datetime] = {}
    for s in steps:
        if s.at <= now:
            latest_past[s.recipient_role] = max(s.at, latest_past.get(s.recipient_role, s.at))
    return [s for s in steps if s.at > now or s.at == latest_past[s.recipient_role]]


def handle_event(uow: UnitOfWork, event: Event) -> None:
    """Close the deadlines an event satisfies and open the ones it starts (same transaction)."""
    table = rule_table(uow.settings)
    case = uow.session.get(Case, event.case_id) if event.case_id else None
    _pause_for(uow, event)
    _close_for(uow, table, event)
    _open_for(uow, table, event, case)
    if event.name == CASE_CLOSED and event.case_id:
        # A closed case owes nothing more: what is still open is cancelled, not left to nag.
        _finish(uow.session, _open_rows(uow.session, event.case_id), "cancelled",
                CASE_CLOSED, event.at)


def _pause_for(uow: UnitOfWork, event: Event) -> None:
    """An event whose data names ``pauses`` (rule IDs) stops those clocks of its subject: the
    open rows are cancelled, naming ``pause_reason``; an event that also starts the rule opens
    it again, counted anew (行政许可法 Art. 45: excluded time, core.cases.licensing)."""
    subject = _target(event)
    rules = event.data.get("pauses") or ()
    if not subject or not isinstance(rules, list | tuple):
        return
    reason = str(event.data.get("pause_reason") or event.name)
    for rule_id in rules:
        cancel_item(uow, event.case_id, str(rule_id), subject, by=reason, at=event.at)


def cancel_item(uow: UnitOfWork, case_id: str | None, rule_id: str, subject_id: str, *,
                by: str, at: datetime) -> list[Deadline]:
    """Cancel an item's open deadline of one rule: the clock is paused (a request to be
    corrected) or restarted with another figure (an approved extension)."""
    rows = [r for r in _open_rows(uow.session, case_id)
            if r.rule_id == rule_id and r.subject_id == subject_id]
    _finish(uow.session, rows, "cancelled", by, at)
    return rows


def deadline_json(row: Deadline, rule: DeadlineRule | None, reminders: list[Reminder],
                  now: datetime, tz) -> dict:
    """A deadline as the API shows it: rule, source, due time in legal time, status, flags."""
    due_local = row.due_at.astimezone(tz)
    return {
        "id": row.id, "case_id": row.case_id, "rule_id": row.rule_id,
        "rule_ids": list(rule.ids) if rule else [row.rule_id],
        "part": rule.part or None if rule else None,
        "title": rule.title_en if rule else None, "title_zh": rule.title_zh if rule else None,
        "legal_source": row.legal_source, "trigger_event": row.trigger_event,
        "trigger_at": row.trigger_at.astimezone(tz).isoformat(),
        "due_at": due_local.isoformat(),
        "last_day": None if row.unit == "clock_hours" else due_local.date().isoformat(),
        "period": row.period, "unit": row.unit, "subject_id": row.subject_id,
        "obligor": rule.obligor if rule else None,
        "status": row.status,
        "overdue": row.status == "open" and now > row.due_at,
        "late": row.status == "closed" and row.closed_at is not None
        and row.closed_at > row.due_at,
        "closed_at": row.closed_at.astimezone(tz).isoformat() if row.closed_at else None,
        "closed_by": row.closed_by, "warnings": list(row.warnings or []),
        "reminders": [{"role": r.recipient_role, "step": r.step,
                       "send_at": r.send_at.astimezone(tz).isoformat(), "status": r.status}
                      for r in reminders],
    }


def list_deadlines(uow: UnitOfWork, actor: Officer, case_id: str) -> list[dict]:
    """A case's deadlines, open and closed, earliest due first; the read is logged (A33.1)."""
    case = visible_case(uow.session, actor, case_id)
    log_access(uow.session, actor, "list", "deadline", case.id)
    rows = list(uow.session.execute(select(Deadline).where(Deadline.case_id == case.id)
                                    .order_by(Deadline.due_at, Deadline.created_at)).scalars())
    by_deadline: dict[str, list[Reminder]] = {}
    if rows:
        for r in uow.session.execute(select(Reminder).where(
                Reminder.deadline_id.in_([d.id for d in rows])).order_by(Reminder.send_at)
        ).scalars():
            by_deadline.setdefault(r.deadline_id, []).append(r)
    table, tz, now = rule_table(uow.settings), uow.settings.legal_tz, utcnow()
    return [deadline_json(d, _rule(table, d, tz), by_deadline.get(d.id, []), now, tz)
            for d in rows]


def open_deadlines(uow: UnitOfWork, actor: Officer, *, mine: bool = True, limit: int = 200,
                   channel: str = "api") -> list[dict]:
    """The open deadlines of the cases the officer works on (``mine``: opened by them or naming
    them on a record) or of their whole department, overdue first, then by due time; one query
    and one access-log line, however many cases (A33.1)."""
    session = uow.session
    stmt = (select(Deadline, Case.number).join(Case, Case.id == Deadline.case_id)
            .where(Deadline.status == "open", Case.stage != "closed",
                   Case.department_id == actor.department_id)
            .order_by(Deadline.due_at).limit(limit))
    if mine:
        # The people a deadline's officer reminders reach (core.notices.outbox.recipients).
        on_records = select(Record.case_id).where(
            (Record.created_by == actor.id)
            | cast(Record.officers, String).like(f'%"{actor.id}"%'))
        stmt = stmt.where((Case.opened_by == actor.id) | Case.id.in_(on_records))
    rows = session.execute(stmt).all()
    log_access(session, actor, "list", "deadline", "mine" if mine else actor.department_id,
               channel=channel)
    table, tz, now = rule_table(uow.settings), uow.settings.legal_tz, utcnow()
    out = [{**deadline_json(d, _rule(table, d, tz), [], now, tz), "case_number": number}
           for d, number in rows]
    out.sort(key=lambda d: (not d["overdue"], d["due_at"]))
    return out
