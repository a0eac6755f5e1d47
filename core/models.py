"""The tables: departments, officers, parties, cases, records and the ledger.

Rows that the ledger covers are never updated or deleted; a correction is a new row.
The only mutable columns are projections (``Case.stage``) that verify re-derives.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, UTCDateTime, utcnow

ID = String(32)  # uuid4 hex: ids are not guessable and carry no order


def _dt(**kw) -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), **kw)


class Department(Base):
    """An enforcement unit; cases are numbered per department and year."""

    __tablename__ = "departments"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _dt(default=utcnow)


class Officer(Base):
    """A person who uses the system: officer, supervisor, legal reviewer, head, ... (A8.1)."""

    __tablename__ = "officers"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    certificate_no: Mapped[str | None] = mapped_column(String(64))  # 执法证号 (A14.1)
    roles: Mapped[list] = mapped_column(JSON)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _dt(default=utcnow)


class ApiToken(Base):
    """A bearer token, stored as its SHA-256 only."""

    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = _dt(default=utcnow)
    revoked_at: Mapped[datetime | None] = _dt(nullable=True)


class BindCode(Base):
    """A one-time code that binds an officer's Telegram account."""

    __tablename__ = "bind_codes"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = _dt()
    used_at: Mapped[datetime | None] = _dt(nullable=True)


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


class AccessLog(Base):
    """Every read of a case, record or evidence item (A33.1, A37.1)."""

    __tablename__ = "access_log"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    officer_id: Mapped[str | None] = mapped_column(ForeignKey("officers.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16), default="api")
    remote: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = _dt(default=utcnow)


class IdempotentRequest(Base):
    """The stored answer to a POST sent with an Idempotency-Key."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("officer_id", "key"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = _dt(default=utcnow)


class LedgerEntry(Base):
    """One leaf of the Merkle log: which row it covers and that row's leaf hash (A37.1)."""

    __tablename__ = "ledger_entries"
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))
    subject_table: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(32), index=True)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = _dt(default=utcnow)


class LedgerHash(Base):
    """A stored Merkle subtree hash, in the append-only tlog order."""

    __tablename__ = "ledger_hashes"
    idx: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerCheckpoint(Base):
    """A signed statement of the tree size and root at one moment."""

    __tablename__ = "ledger_checkpoints"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    key_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = _dt(default=utcnow)


class LedgerHead(Base):
    """A single row locked by every writer so ledger sequence numbers never race."""

    __tablename__ = "ledger_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)


class CalendarOverride(Base):
    """An administrator's entry of a holiday or 调休 working day, winning over the package."""

    __tablename__ = "calendar_overrides"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    is_working_day: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = _dt(default=utcnow)


class CalendarYear(Base):
    """A year whose State Council holiday notice has been entered in full."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = _dt(default=utcnow)
