"""The afterlife's tables. All but the build job's progress are append-only ledger leaves: a
custodian's acceptance, a use of the file, a retention decision or an access-request step is
a new row, never an edit (A33.1, A34.1, A35.1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.kernel.clock import utcnow
from core.ledger.log import cover as ledger_cover
from core.platform.db import Base, UTCDateTime

ID = String(32)


def _dt(**kw) -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), **kw)


class ActEnd(Base):
    """The legal end of the enforcement act (act.ended): it opens the A32.1 clock."""

    __tablename__ = "act_ends"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    record_id: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(64))
    ended_at: Mapped[datetime] = _dt()
    created_at: Mapped[datetime] = _dt(default=utcnow)


class DossierJob(Base):
    """A dossier build's progress (working state: the result is the Dossier row)."""

    __tablename__ = "dossier_jobs"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    requested_by: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|failed
    phase: Mapped[str] = mapped_column(String(16), default="")
    done: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    dossier_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = _dt(default=utcnow)
    updated_at: Mapped[datetime] = _dt(default=utcnow)


class Dossier(Base):
    """One built volume of a case file: the bag's hash in the blob store (A32.1). Volume 1 is
    the case file; later volumes are supplements for what was recorded after archiving."""

    __tablename__ = "dossiers"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    volume: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # volume | supplement
    bag_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    documents: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    pdf_variant: Mapped[str] = mapped_column(String(16))
    archival: Mapped[bool] = mapped_column(Boolean)
    last_seq: Mapped[int] = mapped_column(BigInteger)  # the case's newest ledger entry inside
    built_by: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    built_at: Mapped[datetime] = _dt(default=utcnow)


class DossierArchival(Base):
    """A custodian's acceptance of a volume into the archive (dossier.archived, A32.1)."""

    __tablename__ = "dossier_archivals"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"))
    custodian_id: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    location: Mapped[str] = mapped_column(String(200), default="")
    accepted_at: Mapped[datetime] = _dt(default=utcnow)


class DossierUse(Base):
    """One line of the use register (A33.1): handed out (who, purpose, approved by) or the
    matching return (use_id names the hand-out)."""

    __tablename__ = "dossier_uses"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"))
    kind: Mapped[str] = mapped_column(String(16))  # out | returned
    use_id: Mapped[str | None] = mapped_column(String(32))
    user_name: Mapped[str] = mapped_column(String(100), default="")
    purpose: Mapped[str] = mapped_column(String(300), default="")
    approved_by: Mapped[str | None] = mapped_column(ForeignKey("officers.id"))
    custodian_id: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    at: Mapped[datetime] = _dt(default=utcnow)


class RetentionDecision(Base):
    """A retention step of a case (A34.1): the period and its basis, a legal hold or its
    release, or the appraisal decision once the period has run out."""

    __tablename__ = "retention_decisions"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # period | hold | release | appraisal
    years: Mapped[int | None] = mapped_column(Integer)  # None with action period: permanent
    basis: Mapped[str] = mapped_column(String(300), default="")
    decision: Mapped[str] = mapped_column(String(16), default="")  # keep | extend | destroy
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    at: Mapped[datetime] = _dt(default=utcnow)


class AccessRequest(Base):
    """A request to see a case's records (A35.1, N22), as received."""

    __tablename__ = "access_requests"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    requester_name: Mapped[str] = mapped_column(String(100))
    requester_kind: Mapped[str] = mapped_column(String(16))  # party | lawyer | public
    identity_document: Mapped[str] = mapped_column(String(100), default="")
    identity_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    asked: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = _dt()
    created_by: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    created_at: Mapped[datetime] = _dt(default=utcnow)


class AccessRequestStep(Base):
    """What happened to a request: correction asked and received, extension, reply (N22)."""

    __tablename__ = "access_request_steps"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("access_requests.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    step: Mapped[str] = mapped_column(String(24))  # correction_needed|corrected|extended|replied
    at: Mapped[datetime] = _dt()
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    approved_by: Mapped[str | None] = mapped_column(ForeignKey("officers.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(16), default="")  # granted | partly | refused
    legal_reason: Mapped[str] = mapped_column(String(300), default="")
    disclosed: Mapped[list] = mapped_column(JSON, default=list)
    due_at: Mapped[datetime | None] = _dt(nullable=True)


class DisclosureCopy(Base):
    """A masked copy of the case file for the party or the public (A35.1): its hash, what was
    masked and which photo areas were blurred; the original stays untouched."""

    __tablename__ = "disclosure_copies"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    request_id: Mapped[str | None] = mapped_column(ForeignKey("access_requests.id"))
    audience: Mapped[str] = mapped_column(String(16))  # party | public
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    masked: Mapped[dict] = mapped_column(JSON, default=dict)
    blurred: Mapped[dict] = mapped_column(JSON, default=dict)
    made_by: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    made_at: Mapped[datetime] = _dt(default=utcnow)


ledger_cover("act_end", ActEnd)
ledger_cover("dossier", Dossier)
ledger_cover("dossier_archival", DossierArchival)
ledger_cover("dossier_use", DossierUse)
ledger_cover("retention_decision", RetentionDecision)
ledger_cover("access_request", AccessRequest)
ledger_cover("access_request_step", AccessRequestStep)
ledger_cover("disclosure_copy", DisclosureCopy)

# Tables no one may update or delete, ever (A34.1): the guard's triggers cover them whole.
APPEND_ONLY = ("act_ends", "dossiers", "dossier_archivals", "dossier_uses",
               "retention_decisions", "access_requests", "access_request_steps",
               "disclosure_copies")
