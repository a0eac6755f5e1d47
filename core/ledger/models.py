"""The ledger's own tables: entries (leaves), stored Merkle hashes, signed checkpoints and
the head row every writer locks (A37.1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.kernel.clock import utcnow
from core.platform.db import Base, UTCDateTime


def _dt(**kw) -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), **kw)


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
