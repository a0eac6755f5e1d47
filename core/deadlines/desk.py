"""What the supervisor's desk shows (issue 14): the department's deadlines due today and
overdue with days left on the legal calendar, escalations sent, dead deliveries; and one
case's page (timeline, evidence verdicts, checklist, service, deadlines, ledger proof). Every
read goes through the services that check visibility and write the access log (A33.1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from core.cases import ledger_reads, lifecycle, records, service_of_documents
from core.cases.checklist import case_checklist
from core.cases.models import Case, Evidence
from core.cases.visibility import visible_case
from core.deadlines.inbox import Inbox, inbox
from core.deadlines.models import Deadline, Reminder
from core.deadlines.tracking import list_deadlines, open_deadlines
from core.evidence.intake import evidence_json, get_evidence, preview_of
from core.kernel import texts
from core.kernel.clock import utcnow
from core.kernel.errors import NotFound
from core.notices.deliveries import department_deliveries, outbox_json
from core.people.access import has_role, log_access
from core.people.models import Officer
from core.platform.uow import UnitOfWork
from core.rules.calendar import legal_date
from core.rules.calendar_store import load_calendar

ESCALATIONS_SINCE = timedelta(days=7)
MAX_WORKING_DAYS_COUNTED = 400


@dataclass(frozen=True)
class Today:
    """The Today pane: deadlines (overdue first), escalations of the past week, dead
    deliveries (for those who look after deliveries: admins and supervisors)."""

    today: date
    deadlines: list[dict]
    escalations: list[dict]
    dead_deliveries: list[dict] | None


def _working_days_between(calendar, start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative when end is past)."""
    sign, lo, hi = (1, start, end) if end >= start else (-1, end, start)
    count, d = 0, lo
    for _ in range(MAX_WORKING_DAYS_COUNTED):
        if d >= hi:
            break
        d += timedelta(days=1)
        if calendar.is_working_day(d):
            count += 1
    return sign * count


def today(uow: UnitOfWork, actor: Officer, *, channel: str = "web") -> Today:
    """The department's open deadlines due today or overdue, each with its officer, rule and
    days left (natural and working days on the stored legal calendar, RULES.md part 2)."""
    session, tz = uow.session, uow.settings.legal_tz
    now = utcnow()
    day = legal_date(now, tz)
    calendar = load_calendar(session, tz)
    found = [d for d in open_deadlines(uow, actor, mine=False, limit=500, channel=channel)
             if d["overdue"] or legal_date(datetime.fromisoformat(d["due_at"]), tz) <= day]
    openers = dict(session.execute(
        select(Case.id, Officer.name).join(Officer, Officer.id == Case.opened_by)
        .where(Case.id.in_({d["case_id"] for d in found}))).all()) if found else {}
    for d in found:
        due_day = legal_date(datetime.fromisoformat(d["due_at"]), tz)
        d["officer"] = openers.get(d["case_id"], "")
        d["days_left"] = (due_day - day).days
        d["working_days_left"] = _working_days_between(calendar, day, due_day)
        d["due_local"] = datetime.fromisoformat(d["due_at"]).astimezone(tz)
    found.sort(key=lambda d: (not d["overdue"], d["officer"], d["rule_id"], d["due_at"]))
    return Today(day, found, _escalations(uow, actor, now),
                 _dead(uow, actor) if has_role(actor, "admin", "supervisor") else None)


def _escalations(uow: UnitOfWork, actor: Officer, now: datetime) -> list[dict]:
    """Escalation reminders of the department sent in the past week, newest first."""
    rows = uow.session.execute(
        select(Reminder, Deadline, Case.number, Case.id)
        .join(Deadline, Deadline.id == Reminder.deadline_id)
        .join(Case, Case.id == Deadline.case_id)
        .where(Case.department_id == actor.department_id, Reminder.step == "escalate",
               Reminder.status == "done", Reminder.send_at >= now - ESCALATIONS_SINCE)
        .order_by(Reminder.send_at.desc()).limit(50)).all()
    tz = uow.settings.legal_tz
    return [{"case_id": case_id, "case_number": number, "rule_id": d.rule_id,
             "role": r.recipient_role, "sent_at": r.send_at.astimezone(tz),
             "deadline_status": d.status} for r, d, number, case_id in rows]


def _dead(uow: UnitOfWork, actor: Officer) -> list[dict]:
    log_access(uow.session, actor, "list", "delivery", actor.department_id, channel="web")
    return [outbox_json(row) for row in department_deliveries(
        uow.session, actor.department_id, "dead", limit=50)]


@dataclass(frozen=True)
class CaseOverview:
    """Everything the desk's case page shows about one case."""

    case: dict
    timeline: list[dict]
    evidence: list[dict]
    checklist: dict
    services: list[dict]
    deadlines: list[dict]
    proof: dict


def case_overview(uow: UnitOfWork, actor: Officer, case_id: str, *, channel: str = "web"
                  ) -> CaseOverview:
    """One case for the desk: records with their approvals in order, evidence with its checks,
    the checklist of each stage, service of documents, deadlines and the ledger proof."""
    view = lifecycle.case_view(uow, actor, case_id, channel=channel)
    case = view.case
    rows = records.list_records(uow, actor, case.id)
    approvals = records.approvals_of(uow, [r.id for r in rows])
    corrected = {r.corrects_id for r in rows if r.corrects_id}
    names = dict(uow.session.execute(select(Officer.id, Officer.name).where(
        Officer.department_id == case.department_id)).all())
    timeline = [{**records.record_json(r, approvals.get(r.id, []), r.id in corrected),
                 "created_by_name": names.get(r.created_by, ""),
                 "approval_names": [names.get(a.officer_id, "") for a in approvals.get(r.id, [])]}
                for r in rows]
    items = uow.session.execute(select(Evidence).where(Evidence.case_id == case.id)
                                .order_by(Evidence.created_at)).scalars().all()
    log_access(uow.session, actor, "list", "evidence", case.id, channel=channel)
    evidence = [evidence_json(ev, preview_of(uow.session, ev.id)) for ev in items]
    return CaseOverview(
        lifecycle.case_json(view), timeline, evidence,
        case_checklist(uow, actor, case.id, channel=channel),
        service_of_documents.services_of(uow, actor, case.id, channel=channel),
        list_deadlines(uow, actor, case.id),
        ledger_reads.case_proof_status(uow, actor, case.id, channel=channel))


def case_of_record(uow: UnitOfWork, actor: Officer, record_id: str) -> str:
    """The case id of a record the officer may see (404 otherwise), for a desk form that
    names only the record."""
    chain = records.approval_state(uow, actor, record_id, channel="web")
    visible_case(uow.session, actor, chain.case.id)
    return chain.case.id


MAX_PREVIEW_BYTES = 2 * 1024 * 1024  # a 512 px JPEG is far smaller


def evidence_preview(uow: UnitOfWork, actor: Officer, evidence_id: str, *, remote: str = ""
                     ) -> bytes:
    """The thumbnail of an item the officer may see (404 until it is made); the read is
    logged (A33.1)."""
    ev = get_evidence(uow, actor, evidence_id, action="preview", channel="web", remote=remote)
    row = preview_of(uow.session, ev.id)
    if row is None:
        raise NotFound("no preview of this item (yet)", zh="该证据暂无缩略图")
    with uow.blobs.open(row.sha256) as fh:
        return fh.read(MAX_PREVIEW_BYTES)


@dataclass(frozen=True)
class ApprovalsPane:
    """The Approvals pane: the inbox (core.deadlines.inbox) and, for each record waiting for
    the officer, its fields as (label, value) lines, so that nothing is approved unread."""

    inbox: Inbox
    fields: dict[str, list[tuple[str, str]]]


def _shown_value(value: object, field: str, lang: str) -> str:
    if isinstance(value, bool):
        return ("yes" if value else "no") if lang == "en" else ("是" if value else "否")
    if isinstance(value, list):
        return ("、" if lang != "en" else ", ").join(str(v) for v in value)
    if isinstance(value, str) and texts.known_choice(value):
        return texts.choice(value, lang, field)
    return str(value)


def approvals(uow: UnitOfWork, actor: Officer, *, lang: str = "zh", channel: str = "web"
              ) -> ApprovalsPane:
    """What waits for the officer's roles, with each record's fields (each read logged)."""
    box = inbox(uow, actor, channel=channel)
    shown: dict[str, list[tuple[str, str]]] = {}
    for waiting in box.approvals:
        chain = records.approval_state(uow, actor, waiting.record_id, channel=channel)
        shown[waiting.record_id] = [
            (f.name if lang == "en" else f.label_zh,
             _shown_value(chain.record.fields[f.name], f.name, lang))
            for f in chain.rtype.fields if f.name in chain.record.fields
            and chain.record.fields[f.name] not in (None, "", [])]
    return ApprovalsPane(box, shown)
