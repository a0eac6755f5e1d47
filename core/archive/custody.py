"""Archiving and custody (A32.1, A33.1): a custodian accepts a built volume into the archive
(``dossier.archived`` closes the 20-day clock), keeps it, and registers every use: who, for
what, approved by whom, handed out and returned. Every read and download is access-logged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from core import ledger
from core.archive import builds
from core.archive.models import Dossier, DossierArchival, DossierUse
from core.cases.visibility import visible_case
from core.kernel.clock import utcnow
from core.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from core.kernel.ids import new_id
from core.people.access import CUSTODIAN, has_role, log_access, require_role
from core.people.models import Officer
from core.platform.uow import Event, UnitOfWork

APPROVERS = ("head", "supervisor")


def _dossier(uow: UnitOfWork, actor: Officer, dossier_id: str) -> Dossier:
    row = uow.session.get(Dossier, dossier_id)
    if row is None:
        raise NotFound(f"dossier {dossier_id} not found")
    visible_case(uow.session, actor, row.case_id)
    return row


def _custodian(uow: UnitOfWork, actor: Officer, case_id: str, action: str) -> None:
    case = visible_case(uow.session, actor, case_id)
    require_role(actor, CUSTODIAN, action=action)
    if case.department_id != actor.department_id:
        raise Forbidden(f"{action} is for the department's own custodian")


def archive(uow: UnitOfWork, actor: Officer, dossier_id: str, *, location: str = ""
            ) -> DossierArchival:
    """A custodian accepts the case's newest volume into the archive (A32.1, A33.1)."""
    row = _dossier(uow, actor, dossier_id)
    _custodian(uow, actor, row.case_id, "accepting a case file")
    newest = builds.volumes(uow.session, row.case_id)[-1]
    if newest.id != row.id:
        raise Conflict("a newer volume of this case was built: accept that one",
                       zh="该案已有更新的案卷，请接收最新的一卷")
    if uow.session.execute(select(DossierArchival.id).where(
            DossierArchival.dossier_id == row.id)).first():
        raise Conflict("this volume is already archived", zh="该卷已归档")
    accepted = DossierArchival(id=new_id(), case_id=row.case_id, dossier_id=row.id,
                               custodian_id=actor.id, location=location[:200],
                               accepted_at=utcnow())
    uow.session.add(accepted)
    ledger.append(uow.session, "dossier_archival", accepted, case_id=row.case_id)
    uow.emit(Event("dossier.archived", row.case_id, accepted.accepted_at,
                   {"subject_id": row.id, "volume": row.volume}))
    return accepted


def archived(session, case_id: str) -> DossierArchival | None:
    """The case's first acceptance into the archive, if any."""
    return session.execute(select(DossierArchival).where(DossierArchival.case_id == case_id)
                           .order_by(DossierArchival.accepted_at).limit(1)).scalar_one_or_none()


def dossier_json(d: Dossier, accepted: DossierArchival | None = None) -> dict:
    """A volume as the API shows it."""
    return {"id": d.id, "case_id": d.case_id, "volume": d.volume, "kind": d.kind,
            "bag_sha256": d.bag_sha256, "size": d.size, "manifest_sha256": d.manifest_sha256,
            "documents": d.documents, "pages": d.pages, "pdf_variant": d.pdf_variant,
            "archival_pdf": d.archival, "built_by": d.built_by, "built_at": d.built_at.isoformat(),
            "archived": None if accepted is None else {
                "custodian_id": accepted.custodian_id, "location": accepted.location,
                "accepted_at": accepted.accepted_at.isoformat()}}


def list_volumes(uow: UnitOfWork, actor: Officer, case_id: str, *, channel: str = "api"
                 ) -> list[dict]:
    """A case's volumes with their acceptance; the read is logged (A33.1)."""
    case = visible_case(uow.session, actor, case_id)
    log_access(uow.session, actor, "list", "dossier", case.id, channel=channel)
    accepted = {a.dossier_id: a for a in uow.session.execute(
        select(DossierArchival).where(DossierArchival.case_id == case.id)).scalars()}
    return [dossier_json(d, accepted.get(d.id)) for d in builds.volumes(uow.session, case.id)]


def download(uow: UnitOfWork, actor: Officer, dossier_id: str, *, channel: str = "api",
             remote: str = "") -> Dossier:
    """A volume to download (its bag's hash and size); the download is logged (A33.1)."""
    row = _dossier(uow, actor, dossier_id)
    log_access(uow.session, actor, "download", "dossier", row.id, channel=channel, remote=remote)
    return row


def hand_out(uow: UnitOfWork, actor: Officer, dossier_id: str, *, user_name: str, purpose: str,
             approved_by: str | None) -> DossierUse:
    """Register a use (A33.1): who takes the file, for what, approved by a head or supervisor."""
    row = _dossier(uow, actor, dossier_id)
    _custodian(uow, actor, row.case_id, "handing out a case file")
    if not user_name.strip() or not purpose.strip():
        raise Invalid("a use needs the user's name and the purpose", zh="须登记使用人和用途")
    approver = uow.session.get(Officer, approved_by) if approved_by else None
    if approver is None or not has_role(approver, *APPROVERS) or \
            approver.department_id != actor.department_id:
        raise Invalid("a use is approved by the department's head or supervisor (approved_by)",
                      zh="调阅须经本单位负责人或承办机构负责人批准")
    use = DossierUse(id=new_id(), case_id=row.case_id, dossier_id=row.id, kind="out",
                     user_name=user_name.strip()[:100], purpose=purpose.strip()[:300],
                     approved_by=approver.id, custodian_id=actor.id, at=utcnow())
    uow.session.add(use)
    ledger.append(uow.session, "dossier_use", use, case_id=row.case_id)
    return use


def take_back(uow: UnitOfWork, actor: Officer, use_id: str) -> DossierUse:
    """Register the return of a file handed out (A33.1)."""
    out = uow.session.get(DossierUse, use_id)
    if out is None or out.kind != "out":
        raise NotFound(f"use {use_id} not found")
    _custodian(uow, actor, out.case_id, "taking back a case file")
    if uow.session.execute(select(DossierUse.id).where(DossierUse.use_id == out.id)).first():
        raise Conflict("this use was already returned", zh="该次调阅已归还")
    back = DossierUse(id=new_id(), case_id=out.case_id, dossier_id=out.dossier_id,
                      kind="returned", use_id=out.id, user_name=out.user_name,
                      purpose=out.purpose, custodian_id=actor.id, at=utcnow())
    uow.session.add(back)
    ledger.append(uow.session, "dossier_use", back, case_id=out.case_id)
    return back


def register(uow: UnitOfWork, actor: Officer, case_id: str) -> list[dict]:
    """The use register of a case: each hand-out with its return; the read is logged."""
    case = visible_case(uow.session, actor, case_id)
    log_access(uow.session, actor, "read", "dossier_uses", case.id)
    rows = list(uow.session.execute(select(DossierUse).where(DossierUse.case_id == case.id)
                                    .order_by(DossierUse.at, DossierUse.id)).scalars())
    back: dict[str, datetime] = {r.use_id: r.at for r in rows if r.kind == "returned"}
    return [{"id": r.id, "dossier_id": r.dossier_id, "user_name": r.user_name,
             "purpose": r.purpose, "approved_by": r.approved_by, "custodian_id": r.custodian_id,
             "handed_out_at": r.at.isoformat(),
             "returned_at": back[r.id].isoformat() if r.id in back else None}
            for r in rows if r.kind == "out"]
