"""Tables around evidence intake: resumable upload sessions, one-time upload links, previews.

None of these is ledger-covered: a session, a link and a media task are working state (their
offset and status change), and a preview is a derived copy that can be made again. What they
lead to, the Evidence row, is covered.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.kernel.clock import utcnow
from core.platform.db import Base, UTCDateTime

ID = String(32)


class UploadLink(Base):
    """A one-time link for one resumable upload, bound to a case and an officer, expiring."""

    __tablename__ = "upload_links"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class UploadSession(Base):
    """A tus upload in progress: where its bytes are and how many have arrived."""

    __tablename__ = "upload_sessions"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    link_id: Mapped[str | None] = mapped_column(ForeignKey("upload_links.id"))
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    # The intake fields from Upload-Metadata (proves, method, record_id, ...), validated.
    form: Mapped[dict] = mapped_column(JSON)
    filename: Mapped[str] = mapped_column(String(255), default="")
    filetype: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(16), default="receiving")
    evidence_id: Mapped[str | None] = mapped_column(ForeignKey("evidence.id"))
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    result_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The request appending bytes now, in whichever web process: a lease taken under a row
    # lock and renewed while the body arrives (core.evidence.uploads); NULL when nobody writes.
    writer: Mapped[str | None] = mapped_column(String(32), nullable=True)
    writer_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class EvidencePreview(Base):
    """A thumbnail of an evidence image: its own blob, pointing at the original's hash."""

    __tablename__ = "evidence_previews"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    evidence_id: Mapped[str] = mapped_column(ForeignKey("evidence.id"), unique=True)
    original_sha256: Mapped[str] = mapped_column(String(64), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MediaTask(Base):
    """Media work owed for one evidence item (its thumbnail) or one service record (its
    送达回证, made outside the transaction that records the signature): the truth of that
    work, whatever the queue holds. Made in the transaction that records the item or the
    signature; a job claims it with a conditional UPDATE, so a job run twice, or retried after
    a crash, does the work once."""

    __tablename__ = "media_tasks"
    __table_args__ = (UniqueConstraint("evidence_id", "kind", name="uq_media_tasks_item_kind"),
                      UniqueConstraint("record_id", "kind", name="uq_media_tasks_record_kind"),
                      Index("ix_media_tasks_due", "status", "lease_until"))
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    # A thumbnail's item; None for a receipt, whose subject is record_id.
    evidence_id: Mapped[str | None] = mapped_column(ForeignKey("evidence.id"), nullable=True)
    record_id: Mapped[str | None] = mapped_column(ForeignKey("records.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # thumbnail, receipt_draft, receipt_final
    # pending -> running -> done | skipped (nothing to make) | failed (attempts used up)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # pending: when the sweep may enqueue it again (its job presumed lost); running: when the
    # claim runs out (a worker that died mid-job).
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
