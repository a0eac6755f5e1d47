"""Complaints from the public (A11.1, N21, N24): a complainant with no account submits one and
gets a tracking number and code at once; the department's supervisors are told."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.cases.lifecycle import open_case
from core.cases.records import add_record
from core.complaints.tickets import issued_ticket
from core.kernel.clock import utcnow
from core.kernel.errors import Invalid
from core.kernel.ids import new_id
from core.notices.outbox import insert_outbox_if_absent, officer_outbox_rows, recipients
from core.people.models import Department, Officer
from core.platform.uow import UnitOfWork

# A complaint is looked into first; if a penalty follows, staff open that case (A2.1).
PUBLIC_KIND = "inspection"
INTAKE_NAME = "公众投诉受理（系统）"


def intake_department(uow: UnitOfWork) -> Department:
    """The department that takes public complaints: PUBLIC_DEPARTMENT, or the only one."""
    code = uow.settings.public_department
    stmt = select(Department)
    if code:
        stmt = stmt.where(Department.code == code)
    found = uow.session.execute(stmt.limit(2)).scalars().all()
    if len(found) != 1:
        raise Invalid("no department is set to take public complaints (PUBLIC_DEPARTMENT)")
    return found[0]


def intake_account(uow: UnitOfWork, dept: Department) -> Officer:
    """The department's system identity that records public complaints; it cannot log in."""
    account = uow.session.execute(select(Officer).where(
        Officer.department_id == dept.id, Officer.name == INTAKE_NAME)).scalar_one_or_none()
    if account is None:
        # Inactive: no token or Telegram binding ever works for it (access.officer_for_token).
        account = Officer(id=new_id(), department_id=dept.id, name=INTAKE_NAME,
                          roles=["officer"], active=False, created_at=utcnow())
        uow.session.add(account)
        uow.session.flush()
    return account


def submit_public(uow: UnitOfWork, data: Any) -> dict:
    """Register a public complaint as a complaint case with its intake record (A11.1) and
    return the tracking number and code, shown to the complainant once."""
    if not isinstance(data, dict):
        raise Invalid("a complaint must be a JSON object")
    what = str(data.get("what") or "").strip()
    where = str(data.get("where") or "").strip()
    contact = str(data.get("contact") or "").strip()
    if not what or not contact:
        raise Invalid("a complaint needs what happened and a contact")
    dept = intake_department(uow)
    account = intake_account(uow, dept)
    site: dict = {"address": where[:300] or None}
    if isinstance(data.get("lat"), int | float) and isinstance(data.get("lon"), int | float):
        site.update(lat=float(data["lat"]), lon=float(data["lon"]), datum="wgs84")
    # The system identity is active only inside this transaction, so the services' own checks
    # (roles, officers on records) apply to it like to anyone, and it is inactive again after.
    account.active = True
    try:
        case = open_case(uow, account, {"kind": PUBLIC_KIND, "initiation": "complaint",
                                        "title": f"投诉：{what[:60]}", "site": site})
        photos = data.get("photos") or []
        content = f"{what}\n地点：{where or '未说明'}\n附件：{len(photos)} 个（在聊天中）"
        add_record(uow, account, case.id, {
            "type": "complaint_intake",
            "fields": {"complainant_name": str(data.get("name") or "（未署名）")[:200],
                       "complainant_contact": contact[:200],
                       "channel": data.get("channel") if data.get("channel") in (
                           "telegram", "online") else "online",
                       "received_at": utcnow().isoformat(), "content": content[:4000]}})
    finally:
        account.active = False
    ticket = issued_ticket(uow)
    if ticket is None:
        raise Invalid("the complaint was registered but no contact route was usable")
    _tell_supervisors(uow, case)
    return {**ticket, "case_id": case.id, "case_number": case.number}


def _tell_supervisors(uow: UnitOfWork, case) -> None:
    now, rows = utcnow(), []
    for o in recipients(uow.session, case, "supervisor"):
        rows += officer_outbox_rows(
            o, case, f"complaint:{case.id}:{o.id}", f"【新投诉】{case.number}",
            f"【新投诉】{case.number}「{case.title}」已登记，请在 7 个工作日内作出"
            "是否立案的决定（A11.1、N24）。", {"event": "complaint.received"}, now)
    insert_outbox_if_absent(uow.session, rows)
