"""The ledger's own tables: entries (leaves), stored Merkle hashes, signed checkpoints, their
RFC 3161 timestamps, the state events of mutable tables, and the head row every writer locks
(A37.1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.kernel.clock import utcnow
from core.platform.db import Base, UTCDateTime


def _dt(**kw) -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), **kw)


class LedgerEntry(Base):
    """One leaf of the Merkle log: which row it covers and that row's leaf hash (A37.1)."""

    __tablename__ = "ledger_entries"
    # verify reads the log one kind at a time, in order (core.ledger.verify._streams).
    __table_args__ = (Index("ix_ledger_entries_kind_seq", "kind", "seq"),)
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
    # The suite (hash and signature) the checkpoint was made with; rows from before suites
    # were recorded read as the default.
    algorithms: Mapped[str] = mapped_column(String(32), default="sha256-ed25519",
                                            server_default="sha256-ed25519")


class LedgerHead(Base):
    """A single row locked by every writer so ledger sequence numbers never race."""

    __tablename__ = "ledger_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    # The suite of the whole log, set by the first append (NULL: a log from before suites,
    # which is sha256-ed25519).
    algorithms: Mapped[str | None] = mapped_column(String(32), nullable=True)


class LedgerState(Base):
    """A change to rows of a mutable table (officers, tokens, deadlines, the calendar, ...):
    the event and the full state of each row after it. Every such row is a ledger leaf, and
    verify rebuilds the mutable tables from them and compares with the live rows."""

    __tablename__ = "ledger_states"
    __table_args__ = (Index("ix_ledger_states_table", "table_name", "id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(64))
    rows: Mapped[list] = mapped_column(JSON)  # [{"key": ..., "state": {...} | null}, ...]
    actor: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = _dt(default=utcnow)


class LedgerTimestamp(Base):
    """An RFC 3161 timestamp of a checkpoint note, or the pending request for one."""

    __tablename__ = "ledger_timestamps"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("ledger_checkpoints.id"), unique=True)
    tsa_url: Mapped[str] = mapped_column(String(300))
    # The TimeStampResp DER as the authority sent it (None while pending).
    token: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    gen_time: Mapped[datetime | None] = _dt(nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_try_at: Mapped[datetime] = _dt(default=utcnow, index=True)
    created_at: Mapped[datetime] = _dt(default=utcnow)
