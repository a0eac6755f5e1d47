"""The case record: parties, cases, written records, approvals, signatures, refusals, stage
changes and evidence items (A2.1–A31.1). Every row here is a ledger leaf and is never updated
or deleted; a correction is a new row. The only mutable column is the projection
``Case.stage``, which ledger verify re-derives from the stage changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.kernel.clock import utcnow
from core.ledger.log import cover as ledger_cover
from core.platform.db import ID, Base, UTCDateTime


def _dt(**kw) -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), **kw)


class Party(Base):
    """The person or organisation a case concerns (当事人)."""

    __tablename__ = "parties"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # person | organisation
    name: Mapped[str] = mapped_column(String(200))
    id_number: Mapped[str | None] = mapped_column(String(64))  # 身份证号 or 统一社会信用代码
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(300))
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = _dt(default=utcnow)
    created_by: Mapped[str] = mapped_column(ForeignKey("officers.id"))


class Case(Base):
    """One enforcement act from initiation to archive (A2.1, A3.1)."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("department_id", "year", "serial"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"), index=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    serial: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    initiation: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    party_id: Mapped[str | None] = mapped_column(ForeignKey("parties.id"))
    site_lat: Mapped[float | None] = mapped_column(Float)
    site_lon: Mapped[float | None] = mapped_column(Float)
    site_datum: Mapped[str] = mapped_column(String(8), default="wgs84")
    site_address: Mapped[str | None] = mapped_column(String(300))
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_by: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    opened_at: Mapped[datetime] = _dt(default=utcnow)
    retention_years: Mapped[int] = mapped_column(Integer, default=25)  # A34.1
    # Projection of the last StageChange; ledger verify re-derives and compares it.
    stage: Mapped[str] = mapped_column(String(16), default="initiation")


class Record(Base):
    """A written record of one step (文书), typed by the catalogue; append-only (A4.1, A5.1)."""

    __tablename__ = "records"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    type: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(16))
    fields: Mapped[dict] = mapped_column(JSON)
    officers: Mapped[list] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = _dt()
    created_at: Mapped[datetime] = _dt(default=utcnow)
    created_by: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    corrects_id: Mapped[str | None] = mapped_column(ForeignKey("records.id"))


class Approval(Base):
    """One step of an approval chain on a record (officer → unit → head, A10.1)."""

    __tablename__ = "approvals"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    step: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(16))  # approve | return
    opinion: Mapped[str] = mapped_column(Text, default="")
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    at: Mapped[datetime] = _dt(default=utcnow)


class Signature(Base):
    """A signature, fingerprint or seal on a record by one signer role (A13.2)."""

    __tablename__ = "signatures"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    signer_name: Mapped[str] = mapped_column(String(100))
    signer_officer_id: Mapped[str | None] = mapped_column(ForeignKey("officers.id"))
    method: Mapped[str] = mapped_column(String(16))  # signature | fingerprint | seal
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[datetime] = _dt()
    created_by: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    created_at: Mapped[datetime] = _dt(default=utcnow)


class Refusal(Base):
    """A refusal to sign, accept investigation or give evidence (A13.3, A22.2)."""

    __tablename__ = "refusals"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    record_id: Mapped[str | None] = mapped_column(ForeignKey("records.id"))
    role: Mapped[str] = mapped_column(String(32))
    person_name: Mapped[str] = mapped_column(String(100))
    refused: Mapped[str] = mapped_column(String(32))  # sign | investigation | evidence
    reason: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = _dt()
    witnesses: Mapped[list] = mapped_column(JSON)
    video_evidence_id: Mapped[str | None] = mapped_column(ForeignKey("evidence.id"))
    created_by: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    created_at: Mapped[datetime] = _dt(default=utcnow)


class StageChange(Base):
    """A move of a case from one stage to the next (A3.1)."""

    __tablename__ = "stage_changes"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    at: Mapped[datetime] = _dt(default=utcnow)


class Evidence(Base):
    """An AV or scanned item: an original blob plus what was read and checked (A4.1, A31.1)."""

    __tablename__ = "evidence"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    record_id: Mapped[str | None] = mapped_column(ForeignKey("records.id"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    proves: Mapped[str] = mapped_column(Text)  # object of proof (A17.1, A31.1)
    method: Mapped[str] = mapped_column(String(64))  # how it was made (A31.1)
    producer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    captured_at: Mapped[datetime | None] = _dt(nullable=True)
    meta: Mapped[dict] = mapped_column(JSON)
    checks: Mapped[list] = mapped_column(JSON)
    assurance: Mapped[str] = mapped_column(String(16))
    duplicate_of: Mapped[str | None] = mapped_column(ForeignKey("evidence.id"))
    created_at: Mapped[datetime] = _dt(default=utcnow)


# Every row above is a ledger leaf (A37.1). The stage is a projection of the stage changes:
# it is left out of the case's leaf and re-derived by verify (core.cases.projections).
ledger_cover("party", Party)
ledger_cover("case", Case, projections=("stage",))
ledger_cover("record", Record)
ledger_cover("approval", Approval)
ledger_cover("signature", Signature)
ledger_cover("refusal", Refusal)
ledger_cover("stage_change", StageChange)
ledger_cover("evidence", Evidence, blob_column="sha256")
