"""Licensing clocks (行政许可法; N16, N17, N30): the decision period runs from acceptance; a
missing-materials notice given after the 5 working days of N16 means the application counts
as accepted on receipt (Art. 32(4)), so the decision period runs from the receipt; a granted
licence is issued within 10 working days (Art. 44, N30 ⚠). Hearing, testing, appraisal and
expert time (Art. 45) is not yet deducted from the N17 clock (issue 10, still open)."""

from __future__ import annotations

from sqlalchemy import select

from core.cases.models import Case, Record
from core.cases.periods import _rules, load_calendar
from core.platform.uow import Event, UnitOfWork

ACCEPTED = "application.accepted"


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


def after_record(uow: UnitOfWork, case: Case, record: Record) -> None:
    """Raise application.accepted: on acceptance, or deemed on receipt by a late notice."""
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
