"""Reminders: claimed by the sweep with a conditional UPDATE, expanded into outbox messages.

Reminder status: ``pending`` → ``claimed`` (by one sweeper) → ``done`` (its outbox messages
exist) or ``cancelled`` (the deadline was met first). The database is the truth: a sweeper that
dies after claiming leaves ``claimed`` rows that :func:`reclaim_stale_reminders` puts back, and
expanding twice inserts nothing twice (one idempotency key per deadline, officer, step and
channel).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.cases.models import Case
from core.deadlines.models import Deadline, Reminder
from core.kernel.clock import utcnow
from core.kernel.errors import NotFound
from core.notices.models import OutboxMessage
from core.notices.outbox import (
    insert_outbox_if_absent,
    officer_outbox_rows,
    officers_on_records,
    pick_recipients,
    staff_by_department,
)
from core.people.models import Officer
from core.rules.calendar import LEGAL_TZ, require_aware
from core.rules.deadline_rules import RuleTable

log = logging.getLogger("quancheng.reminders")

STALE_CLAIM = timedelta(minutes=10)
_RULES = RuleTable()  # titles only; figures do not matter for the text

STEP_ZH = {
    "before": "将于 {due} 到期",
    "due": "到期时间为 {due}，请及时办理",
    "overdue": "已于 {due} 逾期，尚未办结",
    "escalate": "自 {due} 起逾期未办结，请督办",
    "ended": "期限已于 {due} 届满，可进行下一步",
}
STEP_EN = {
    "before": "is due {due}",
    "due": "falls due {due}; please act now",
    "overdue": "became overdue at {due} and is still open",
    "escalate": "has been overdue since {due}; please follow up",
    "ended": "ended {due}; the next step may proceed",
}


def claim_statement(dialect: str, now: datetime, limit: int):
    """The conditional UPDATE that claims due reminders (shown by bench/ with EXPLAIN)."""
    due = (select(Reminder.id)
           .where(Reminder.status == "pending", Reminder.send_at <= now)
           .order_by(Reminder.send_at).limit(limit))
    if dialect == "postgresql":
        # A materialised CTE runs once. As an IN (subquery) PostgreSQL may re-run the LIMIT
        # per outer row and, with equal send_at values, pick other rows each time: the
        # UPDATE would then claim more than `limit`.
        picked = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
        where = Reminder.id == picked.c.id
    else:
        where = Reminder.id.in_(due.scalar_subquery())
    return (update(Reminder)
            .where(where, Reminder.status == "pending")
            .values(status="claimed", claimed_at=now)
            .returning(Reminder.id)
            .execution_options(synchronize_session=False))


def claim_due_reminders(session: Session, now: datetime, limit: int = 500) -> list[str]:
    """Claim up to `limit` pending reminders due at `now` (pending → claimed); return their ids.

    One conditional UPDATE: a row another sweeper claimed first no longer matches
    ``status = 'pending'``; on PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets concurrent sweepers
    take disjoint rows instead of waiting on each other. The (status, send_at) index makes the
    cost follow the number of due rows, not the table's size."""
    require_aware(now, "now")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError("limit must be a whole number >= 1")
    stmt = claim_statement(session.get_bind().dialect.name, now, limit)
    return list(session.execute(stmt).scalars())


def reclaim_stale_reminders(session: Session, now: datetime,
                            older_than: timedelta = STALE_CLAIM) -> int:
    """Put back reminders claimed longer ago than `older_than` and never expanded (a dead
    sweeper); return how many. Expanding is idempotent, so a slow sweeper is harmless."""
    require_aware(now, "now")
    result = session.execute(
        update(Reminder)
        .where(Reminder.status == "claimed", Reminder.claimed_at <= now - older_than)
        .values(status="pending", claimed_at=None)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def reminder_text(case: Case, deadline: Deadline, step: str, lang: str,
                  tz: tzinfo = LEGAL_TZ) -> tuple[str, str]:
    """Subject and body in Simplified Chinese (English appended for lang 'en'): case number,
    rule ID, title and due time in legal time."""
    try:
        rule = _RULES.rule_for(deadline.rule_id, trigger=deadline.trigger_event)
        title_zh, title_en = rule.title_zh, rule.title_en
    except KeyError:
        title_zh = title_en = deadline.rule_id
    due = deadline.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    zh = STEP_ZH.get(step, STEP_ZH["due"]).format(due=due)
    subject = f"【期限提醒】{case.number} {deadline.rule_id} {title_zh}"
    body = (f"【期限提醒】案件 {case.number}「{case.title}」：{title_zh}（{deadline.rule_id}）"
            f"{zh}（北京时间）。依据：{deadline.legal_source}。")
    if lang == "en":
        en = STEP_EN.get(step, STEP_EN["due"]).format(due=due)
        body += (f"\n[Deadline] Case {case.number}: {title_en} ({deadline.rule_id}) {en} "
                 f"(Asia/Shanghai). Source: {deadline.legal_source}.")
    return subject[:300], body


def expand_reminder(session: Session, reminder_id: str, *, now: datetime | None = None,
                    tz: tzinfo = LEGAL_TZ) -> list[OutboxMessage]:
    """Turn one claimed reminder into its outbox messages; re-running adds nothing."""
    if session.get(Reminder, reminder_id) is None:
        raise NotFound(f"reminder {reminder_id} not found")
    keys = expand_reminders(session, [reminder_id], now=now, tz=tz)
    if not keys:
        return []
    return list(session.execute(select(OutboxMessage).where(
        OutboxMessage.idempotency_key.in_(keys)).order_by(OutboxMessage.id)).scalars())


def expand_reminders(session: Session, reminder_ids: list[str], *, now: datetime | None = None,
                     tz: tzinfo = LEGAL_TZ) -> list[str]:
    """Turn claimed reminders into one outbox message per recipient and channel (Telegram when
    bound, always Socket.IO to the department room) with a handful of queries for the whole
    batch, so a sweep costs what its due rows cost; returns the idempotency keys. Reminders of
    deadlines no longer open are cancelled; re-running inserts nothing twice."""
    now = now or utcnow()
    reminders = list(session.execute(select(Reminder).where(Reminder.id.in_(reminder_ids))
                                      ).scalars())
    live = [r for r in reminders if r.status != "cancelled"]
    deadlines = {d.id: d for d in session.execute(select(Deadline).where(
        Deadline.id.in_({r.deadline_id for r in live}))).scalars()}
    cases = {c.id: c for c in session.execute(select(Case).where(
        Case.id.in_({d.case_id for d in deadlines.values() if d.case_id}))).scalars()}
    staff = staff_by_department(session, {c.department_id for c in cases.values()})
    on_records = officers_on_records(session, set(cases))
    rows, keys = [], []
    for reminder in live:
        deadline = deadlines[reminder.deadline_id]
        if deadline.status != "open":
            reminder.status = "cancelled"
            continue
        case = cases.get(deadline.case_id)
        if case is None:
            log.warning("reminder %s: deadline %s has no case, nobody to tell", reminder.id,
                        deadline.id)
            reminder.status = "done"
            continue
        people = pick_recipients(case, reminder.recipient_role, staff.get(case.department_id, []),
                             on_records.get(case.id, set()))
        if not people:
            log.warning("reminder %s: no active %s in department %s", reminder.id,
                        reminder.recipient_role, case.department_id)
        for officer in people:
            rows_for = _outbox_rows(case, deadline, reminder, officer, now, tz)
            rows += rows_for
            keys += [r["idempotency_key"] for r in rows_for]
        reminder.status = "done"
    insert_outbox_if_absent(session, rows)
    session.flush()
    return keys


def _outbox_rows(case: Case, deadline: Deadline, reminder: Reminder, officer: Officer,
                 now: datetime, tz: tzinfo) -> list[dict]:
    subject, body = reminder_text(case, deadline, reminder.step, officer.lang, tz)
    # One message per (deadline, recipient, step) and channel.
    return officer_outbox_rows(
        officer, case, f"{deadline.id}:{officer.id}:{reminder.step}", subject, body,
        {"event": f"deadline.{reminder.step}", "deadline_id": deadline.id,
         "rule_id": deadline.rule_id, "step": reminder.step, "role": reminder.recipient_role,
         "due_at": deadline.due_at.isoformat()},
        now, reminder_id=reminder.id)
