"""Complaints from the public (A11.1, N21, N24): a complainant with no account submits one and
gets a tracking number and code at once; the complaint waits in the intake queue
(core.complaints.intake) until a supervisor accepts it, and only then does its case open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core.cases.commands import AddRecord, OpenCase, SiteInput
from core.cases.lifecycle import open_case
from core.cases.models import Case
from core.cases.records import add_record
from core.kernel import fields
from core.kernel.clock import utcnow
from core.kernel.errors import Conflict, DomainError, Invalid
from core.kernel.ids import new_id
from core.notices.outbox import insert_outbox_if_absent, officer_outbox_rows, recipients
from core.people.models import Department, Officer
from core.platform import ratelimit
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
        raise NoIntakeDepartment("no department is set to take public complaints "
                                 "(PUBLIC_DEPARTMENT)", zh="本系统未设置受理群众投诉的部门")
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


class NoIntakeDepartment(Conflict):
    """No department takes complaints from the public here (PUBLIC_DEPARTMENT unset among
    several): a complaint is never broadcast to every department instead."""

    code = "no_intake_department"


@dataclass(frozen=True)
class PublicComplaint:
    """A complaint from someone with no account (A11.1)."""

    what: str
    contact: str
    where: str = ""
    name: str | None = None
    lat: float | None = None
    lon: float | None = None
    photos: int = 0
    channel: str = "online"
    telegram_user_id: int | None = None  # who filed it through the bot (rate limits)
    # The chat that filed it: the one Telegram contact that needs no confirmation. Set only
    # by the bot from the update itself (dataclasses.replace), never parsed from input.
    telegram_chat_id: int | None = None
    # Files the complainant sent, already in the blob store: (sha256, filename, media type).
    attachments: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def parse(cls, data: Any) -> PublicComplaint:
        """Check a complaint from a form, the bot's dialog or JSON."""
        data = fields.mapping(data, "body", required=True)
        lat = fields.coordinate(data.get("lat"), "lat", 90)
        lon = fields.coordinate(data.get("lon"), "lon", 180)
        return cls(
            what=fields.text(data.get("what"), "what", limit=2000, multiline=True),
            contact=fields.text(data.get("contact"), "contact", limit=200),
            where=fields.text(data.get("where"), "where", limit=300, required=False) or "",
            name=fields.text(data.get("name"), "name", limit=200, required=False),
            lat=lat if lon is not None else None, lon=lon if lat is not None else None,
            photos=len(data.get("photos") or []),
            channel=data.get("channel") if data.get("channel") in ("telegram", "online")
            else "online",
            telegram_user_id=data.get("telegram_user_id")
            if isinstance(data.get("telegram_user_id"), int) else None,
            attachments=tuple(_attachment(p) for p in data.get("photos") or []
                              if isinstance(p, dict) and p.get("sha256")))


def _attachment(photo: dict) -> tuple[str, str, str]:
    sha = str(photo["sha256"])
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise Invalid("an attachment's sha256 is not a SHA-256", details={
            "fields": {"photos": "sha256"}})
    return (sha, str(photo.get("filename") or "photo.jpg")[:255],
            str(photo.get("mime") or "image/jpeg")[:100])


def submit_public(uow: UnitOfWork, cmd: PublicComplaint) -> dict:
    """Put a public complaint in the intake queue (issue 12, finding 5) and return the
    tracking number and code, shown to the complainant once; no case opens until a
    supervisor accepts it (core.complaints.intake)."""
    from core.complaints import intake

    dept = intake_department(uow)
    _limit(uow, cmd)
    return intake.receive(uow, dept, cmd)


def open_case_for(uow: UnitOfWork, item, accepted_by: Officer | None = None) -> Case:
    """Open the complaint case of an accepted intake item exactly as a public complaint
    always opened (A11.1): the intake record's received_at is the item's receipt time, the
    legal start of N21, N23 and N24, not the moment of acceptance."""
    dept = uow.session.get(Department, item.department_id)
    account = intake_account(uow, dept)
    c = item.content or {}
    where = (c.get("where") or "")[:300]
    site = SiteInput(c["lat"], c["lon"], "wgs84", where or None) \
        if c.get("lat") is not None and c.get("lon") is not None \
        else SiteInput(address=where or None)
    photos = int(c.get("photos") or 0)
    # The system identity is active only inside this transaction, so the services' own checks
    # (roles, officers on records) apply to it like to anyone, and it is inactive again after.
    account.active = True
    try:
        case = open_case(uow, account, OpenCase(
            kind=PUBLIC_KIND, initiation="complaint", title=f"投诉：{c.get('what', '')[:60]}",
            site=site)).case
        # The ticket handler (core.complaints.tickets) finds the item by its case and keeps
        # its tracking number and code.
        item.case_id = case.id
        uow.session.flush()
        kept = _store_attachments(uow, account, case.id, item.channel, [
            tuple(a) for a in c.get("attachments") or []])
        placed = "已作为证据登记" if kept == photos else f"{kept} 个已作为证据登记"
        content = (f"{c.get('what', '')}\n地点：{where or '未说明'}\n"
                   f"附件：{photos} 个（{placed}）")
        add_record(uow, account, case.id, AddRecord(type="complaint_intake", fields={
            "complainant_name": (c.get("name") or "（未署名）")[:200],
            "complainant_contact": item.contact[:200], "channel": item.channel,
            "received_at": item.received_at.isoformat(), "content": content[:4000]}))
    finally:
        account.active = False
    _tell_supervisors(uow, case, accepted_by)
    return case


def _limit(uow: UnitOfWork, cmd: PublicComplaint) -> None:
    """A few complaints an hour per Telegram account and per contact (issue 12, findings 5
    and 6): each one is a permanent intake item, and a confirmation code to the address typed."""
    redis_url = uow.settings.redis_url
    contact = "".join(cmd.contact.lower().split())
    ratelimit.refuse_over(redis_url, "complaint", f"contact:{contact}")
    if cmd.telegram_user_id is not None:
        ratelimit.refuse_over(redis_url, "complaint", f"tg:{cmd.telegram_user_id}")


PROVES_COMPLAINT = "投诉人提供的现场材料"


def _store_attachments(uow: UnitOfWork, account: Officer, case_id: str, channel: str,
                       attachments: list[tuple[str, str, str]]) -> int:
    """Record the complainant's files as evidence of the complaint case (A31.1): what was
    sent is kept, checked like any file, and never only mentioned. A file the intake refuses
    (type, size) is left out and the count says so."""
    from core.evidence.intake import intake

    kept = 0
    for sha, filename, mime in attachments:
        if not uow.blobs.exists(sha):
            continue
        try:
            with uow.blobs.local_copy(sha) as path:
                intake(uow, account, case_id, path=path, filename=filename, declared_type=mime,
                       proves=PROVES_COMPLAINT, method=f"{channel}_complainant_upload",
                       channel=channel)
            kept += 1
        except DomainError:
            continue
    return kept


def _tell_supervisors(uow: UnitOfWork, case, accepted_by: Officer | None) -> None:
    """The other supervisors learn the accepted complaint's case and its decision clock; the
    one who accepted it needs no notice of their own act."""
    now, rows = utcnow(), []
    by = f"已由{accepted_by.name}受理登记" if accepted_by is not None else "已登记"
    for o in recipients(uow.session, case, "supervisor"):
        if accepted_by is not None and o.id == accepted_by.id:
            continue
        rows += officer_outbox_rows(
            o, case, f"complaint:{case.id}:{o.id}", f"【新投诉】{case.number}",
            f"【新投诉】{case.number}「{case.title}」{by}，请在 7 个工作日内作出"
            "是否立案的决定（A11.1、N24）。", {"event": "complaint.received"}, now)
    insert_outbox_if_absent(uow.session, rows)
