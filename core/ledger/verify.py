"""Verification: recompute every leaf from the live rows (and re-hash blobs), rebuild the tree,
and check every stored hash, checkpoint and registered projection (A37.1)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.ledger import merkle
from core.ledger.checkpoints import CheckpointSigner
from core.ledger.log import (
    COVERED,
    DbHashReader,
    LedgerError,
    canonical_json,
    current_size,
    leaf_document,
)
from core.ledger.models import LedgerCheckpoint, LedgerEntry


@dataclass
class Damage:
    """One problem verify found; ``seq`` is the entry it concerns (None: the log as a whole)."""

    seq: int | None
    message: str


@dataclass
class VerifyReport:
    """The outcome of a full recomputation."""

    entries: int
    checkpoints: int
    damages: list[Damage]

    @property
    def ok(self) -> bool:
        """True when nothing was found wrong."""
        return not self.damages

    def first(self) -> Damage | None:
        """The damage with the lowest entry number (log-wide damage last)."""
        return min(self.damages, key=lambda d: (d.seq is None, d.seq or 0), default=None)


class Projection(Protocol):
    """A mutable column derived from covered rows (a case's stage): verify re-derives it from
    the intact leaves it observes and reports where the live column disagrees."""

    def observe(self, kind: str, seq: int, row) -> None:
        """See one intact leaf's row, in log order."""

    def check(self, session: Session, tainted: set[str | None]) -> list[Damage]:
        """Compare with the live rows; cases in `tainted` were already reported."""


# Factories of the projections verify re-derives, registered by the packages that own them.
PROJECTIONS: list[Callable[[], Projection]] = []


def add_projection(factory: Callable[[], Projection]) -> None:
    """Register a projection for verify to re-derive (idempotent)."""
    if factory not in PROJECTIONS:
        PROJECTIONS.append(factory)


def verify(session: Session, signer: CheckpointSigner, blobs=None, batch: int = 2000
           ) -> VerifyReport:
    """Recompute every leaf from the live rows (and blobs), the tree and every checkpoint."""
    damages: list[Damage] = []
    tree = merkle.MemoryHashStore()
    expected_seq = 0
    rehashed: dict[str, str | None] = {}
    projections = [make() for make in PROJECTIONS]  # fed intact leaves only
    tainted: set[str | None] = set()
    last = -1
    while True:
        # Core rows, not ORM objects: verify reads every row once and keeps none.
        entries = session.execute(
            select(LedgerEntry.__table__).where(LedgerEntry.seq > last)
            .order_by(LedgerEntry.seq).limit(batch)
        ).all()
        if not entries:
            break
        rows = _load_rows(session, entries)
        for entry in entries:
            if entry.seq != expected_seq:
                damages.append(Damage(expected_seq, f"entry {expected_seq} is missing: the log "
                                      f"jumps to {entry.seq}"))
                expected_seq = entry.seq
            row = rows.get((entry.subject_table, entry.subject_id))
            if row is None:
                damages.append(Damage(entry.seq, f"entry {entry.seq}: {entry.kind} "
                                      f"{entry.subject_id} is missing from {entry.subject_table}"))
                tainted.add(entry.case_id)
                leaf = entry.leaf_hash
            else:
                leaf = merkle.leaf_hash(canonical_json(leaf_document(entry, row)))
                if leaf != entry.leaf_hash:
                    damages.append(Damage(entry.seq, f"entry {entry.seq}: {entry.kind} "
                                          f"{entry.subject_id} differs from what was logged"))
                    tainted.add(entry.case_id)
                else:
                    for projection in projections:
                        projection.observe(entry.kind, entry.seq, row)
                blob_column = COVERED[entry.kind].blob_column
                if blobs is not None and blob_column and getattr(row, blob_column):
                    sha = getattr(row, blob_column)
                    if sha not in rehashed:
                        rehashed[sha] = _blob_problem(blobs, sha)
                    if rehashed[sha]:
                        damages.append(Damage(entry.seq, f"entry {entry.seq}: blob of "
                                              f"{entry.kind} {row.id} {rehashed[sha]}"))
            tree.append_leaf(leaf)
            expected_seq += 1
        last = entries[-1].seq
    size = tree.size
    head_size = current_size(session)
    if head_size != size:
        damages.append(Damage(None, f"the log head says {head_size} entries, {size} were found"))
    damages += _verify_stored_hashes(session, tree, size)
    for projection in projections:
        damages += projection.check(session, tainted)
    checkpoints = session.execute(select(LedgerCheckpoint).order_by(LedgerCheckpoint.id)
                                  ).scalars().all()
    for cp in checkpoints:
        if cp.key_id == signer.key_id and not signer.verify(cp.note, cp.signature):
            damages.append(Damage(None, f"checkpoint {cp.id}: signature does not verify"))
        if signer.note(cp.tree_size, cp.root_hash) != cp.note:
            damages.append(Damage(None, f"checkpoint {cp.id}: note and columns disagree"))
        if cp.tree_size > size:
            damages.append(Damage(size, f"checkpoint {cp.id} covers {cp.tree_size} entries but "
                                  f"only {size} exist: entries were removed"))
        elif (merkle.tree_hash(cp.tree_size, tree) if cp.tree_size else merkle.EMPTY_ROOT
              ) != cp.root_hash:
            damages.append(Damage(None, f"checkpoint {cp.id} (size {cp.tree_size}): root does "
                                  "not match the recomputed log"))
    return VerifyReport(size, len(checkpoints), damages)


def _blob_problem(blobs, sha256: str) -> str | None:
    """None when the stored blob still hashes to its name, else what is wrong."""
    try:
        actual = blobs.rehash(sha256)
    except (FileNotFoundError, ValueError):
        return "is missing"
    return None if actual == sha256 else f"was changed (now {actual[:16]}…)"


def _load_rows(session: Session, entries: Sequence[LedgerEntry]) -> dict:
    wanted: dict[str, set[str]] = {}
    for e in entries:
        wanted.setdefault(e.kind, set()).add(e.subject_id)
    rows = {}
    for kind, ids in wanted.items():
        coverage = COVERED.get(kind)
        if coverage is None:
            continue
        table = coverage.model.__table__
        for row in session.execute(select(table).where(table.c.id.in_(ids))):
            rows[(table.name, str(row.id))] = row
    return rows


def _verify_stored_hashes(session: Session, tree: merkle.MemoryHashStore, size: int
                          ) -> list[Damage]:
    count = merkle.stored_hash_count(size)
    stored = DbHashReader(session)
    damages = []
    step = 5000
    for start in range(0, count, step):
        idx = list(range(start, min(count, start + step)))
        try:
            live = stored.read_hashes(idx)
        except LedgerError as exc:
            return [Damage(None, f"stored tree hashes: {exc}")]
        if live != tree.read_hashes(idx):
            damages.append(Damage(None, "stored tree hashes differ from the recomputed tree"))
            break
    return damages
