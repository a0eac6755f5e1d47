"""The tamper-evident ledger (A37.1): every covered row is a leaf of an RFC 9162 Merkle log,
with Ed25519-signed checkpoints. Verification recomputes every leaf from the live rows."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import merkle
from .db import Base, utcnow
from .models import (
    Approval,
    Case,
    Evidence,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerHash,
    LedgerHead,
    Party,
    Record,
    Refusal,
    Signature,
    StageChange,
)

# Every table whose rows are leaves, by ledger kind. Columns that are projections of
# other covered rows are left out of the leaf and re-derived by verify instead.
COVERED: dict[str, type[Base]] = {
    "party": Party,
    "case": Case,
    "record": Record,
    "approval": Approval,
    "signature": Signature,
    "refusal": Refusal,
    "stage_change": StageChange,
    "evidence": Evidence,
}
PROJECTIONS = {"cases": {"stage"}}
TABLES = {m.__tablename__: m for m in COVERED.values()}
_LEAF_COLUMNS: dict[str, tuple[str, ...]] = {}


def canonical_json(obj) -> bytes:
    """Deterministic JSON: sorted keys, no spaces, UTF-8, datetimes as UTC ISO 8601."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_json_default, allow_nan=False).encode("utf-8")


def _json_default(value):
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a ledger leaf")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"not serialisable in a ledger leaf: {type(value).__name__}")


def _leaf_columns(table_name: str) -> tuple[str, ...]:
    """The column names a leaf of this table carries (model attributes share these names)."""
    cols = _LEAF_COLUMNS.get(table_name)
    if cols is None:
        table = TABLES[table_name].__table__
        skip = PROJECTIONS.get(table_name, set())
        cols = tuple(c.name for c in table.columns if c.name not in skip)
        _LEAF_COLUMNS[table_name] = cols
    return cols


def row_payload(table_name: str, row) -> dict:
    """Every column of a covered row (ORM object or Core row) except projections, as JSON."""
    out = {}
    for name in _leaf_columns(table_name):
        value = getattr(row, name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat()
        out[name] = value
    return out


def leaf_document(entry, row) -> dict:
    """What a leaf hashes: the entry's own facts plus the covered row."""
    return {
        "v": 1,
        "seq": entry.seq,
        "kind": entry.kind,
        "table": entry.subject_table,
        "id": entry.subject_id,
        "case_id": entry.case_id,
        "at": entry.created_at.astimezone(UTC).isoformat(),
        "row": row_payload(entry.subject_table, row),
    }


class DbHashReader:
    """Reads stored Merkle hashes from the ledger_hashes table."""

    def __init__(self, session: Session):
        self.session = session

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Batch read by stored index, in the order asked."""
        wanted = list(indexes)
        if not wanted:
            return []
        rows = dict(self.session.execute(
            select(LedgerHash.idx, LedgerHash.hash).where(LedgerHash.idx.in_(set(wanted)))
        ).all())
        try:
            return [rows[i] for i in wanted]
        except KeyError as exc:
            raise LedgerError(f"stored hash {exc.args[0]} is missing") from None


class LedgerError(Exception):
    """The ledger cannot answer (missing stored hashes, bad key)."""


def lock_head(session: Session) -> LedgerHead:
    """Lock the single head row for this transaction, creating it on first use."""
    head = session.execute(
        select(LedgerHead).where(LedgerHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = LedgerHead(id=1, size=0)
        session.add(head)
        session.flush()
    return head


def append(session: Session, kind: str, row: Base, case_id: str | None = None) -> LedgerEntry:
    """Append a covered row as the next leaf, inside the caller's transaction."""
    if COVERED.get(kind) is not type(row):
        raise LedgerError(f"{type(row).__name__} is not the covered table of kind {kind!r}")
    session.flush()  # defaults (ids, timestamps) must be final before hashing
    head = lock_head(session)
    entry = LedgerEntry(seq=head.size, kind=kind, subject_table=row.__tablename__,
                        subject_id=str(row.id), case_id=case_id, created_at=utcnow())
    entry.leaf_hash = merkle.leaf_hash(canonical_json(leaf_document(entry, row)))
    reader = DbHashReader(session)
    start = merkle.stored_hash_count(head.size)
    for offset, h in enumerate(merkle.stored_hashes_for_leaf(head.size, entry.leaf_hash, reader)):
        session.add(LedgerHash(idx=start + offset, hash=h))
    head.size += 1
    session.add(entry)
    session.flush()
    return entry


# --- checkpoints -------------------------------------------------------------------------

class CheckpointSigner:
    """Signs checkpoint notes with an Ed25519 key (C2SP signed-note body format)."""

    def __init__(self, private_key: Ed25519PrivateKey, origin: str):
        self.private_key = private_key
        self.public_key = private_key.public_key()
        self.origin = origin
        raw = self.public_key.public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]
        self.public_key_b64 = base64.b64encode(raw).decode()

    @classmethod
    def from_file(cls, path: Path, origin: str, create: bool) -> CheckpointSigner:
        """Load the PEM key, generating it (mode 0600) when allowed and absent."""
        if not path.exists():
            if not create:
                raise LedgerError(f"ledger signing key not found at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            path.touch(mode=0o600)
            path.write_bytes(pem)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise LedgerError(f"{path} is not an Ed25519 private key")
        return cls(key, origin)

    def note(self, size: int, root: bytes) -> str:
        """The checkpoint body: origin, size, base64 root, each on its own line."""
        return f"{self.origin}\n{size}\n{base64.b64encode(root).decode()}\n"

    def sign(self, note: str) -> bytes:
        """Ed25519 signature of the note."""
        return self.private_key.sign(note.encode())

    def verify(self, note: str, signature: bytes) -> bool:
        """True when the signature matches the note under this key."""
        return verify_note(self.public_key, note, signature)


def verify_note(public_key: Ed25519PublicKey, note: str, signature: bytes) -> bool:
    """Check a checkpoint signature with a public key (what an offline auditor does)."""
    try:
        public_key.verify(signature, note.encode())
        return True
    except Exception:  # cryptography raises InvalidSignature; any failure means "not valid"
        return False


def current_size(session: Session) -> int:
    """How many leaves the log has."""
    head = session.get(LedgerHead, 1)
    return head.size if head else 0


def make_checkpoint(session: Session, signer: CheckpointSigner, reason: str) -> LedgerCheckpoint:
    """Sign the current tree head (on stage changes, on demand and on a schedule)."""
    size = lock_head(session).size
    root = merkle.tree_hash(size, DbHashReader(session)) if size else merkle.EMPTY_ROOT
    note = signer.note(size, root)
    cp = LedgerCheckpoint(tree_size=size, root_hash=root, note=note, signature=signer.sign(note),
                          key_id=signer.key_id, reason=reason, created_at=utcnow())
    session.add(cp)
    session.flush()
    return cp


def latest_checkpoint(session: Session) -> LedgerCheckpoint | None:
    """The newest signed checkpoint."""
    return session.execute(
        select(LedgerCheckpoint).order_by(LedgerCheckpoint.id.desc()).limit(1)
    ).scalar_one_or_none()


def checkpoint_json(cp: LedgerCheckpoint, signer: CheckpointSigner) -> dict:
    """A checkpoint as the API and the case file show it."""
    return {
        "tree_size": cp.tree_size,
        "root_hash": base64.b64encode(cp.root_hash).decode(),
        "note": cp.note,
        "signature": base64.b64encode(cp.signature).decode(),
        "key_id": cp.key_id,
        "public_key": signer.public_key_b64 if cp.key_id == signer.key_id else None,
        "algorithm": "Ed25519",
        "reason": cp.reason,
        "created_at": cp.created_at.isoformat(),
    }


def inclusion(session: Session, seq: int, tree_size: int) -> dict:
    """The inclusion proof of one entry in a tree of the given size."""
    entry = session.get(LedgerEntry, seq)
    if entry is None or seq >= tree_size:
        raise LedgerError(f"entry {seq} is not in a tree of size {tree_size}")
    reader = DbHashReader(session)
    proof = merkle.inclusion_proof(tree_size, seq, reader)
    return {
        "entry": seq,
        "kind": entry.kind,
        "subject_id": entry.subject_id,
        "leaf_hash": base64.b64encode(entry.leaf_hash).decode(),
        "tree_size": tree_size,
        "root_hash": base64.b64encode(merkle.tree_hash(tree_size, reader)).decode(),
        "proof": [base64.b64encode(h).decode() for h in proof],
    }


def consistency(session: Session, old_size: int, new_size: int) -> dict:
    """The consistency proof between two sizes of the log, with both roots."""
    reader = DbHashReader(session)
    proof = merkle.consistency_proof(old_size, new_size, reader) if old_size < new_size else []
    return {
        "from": old_size, "to": new_size,
        "from_root": base64.b64encode(merkle.tree_hash(old_size, reader)).decode(),
        "to_root": base64.b64encode(merkle.tree_hash(new_size, reader)).decode(),
        "proof": [base64.b64encode(h).decode() for h in proof],
    }


# --- verification ------------------------------------------------------------------------

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


def verify(session: Session, signer: CheckpointSigner, blobs=None, batch: int = 2000
           ) -> VerifyReport:
    """Recompute every leaf from the live rows (and blobs), the tree and every checkpoint."""
    damages: list[Damage] = []
    tree = merkle.MemoryHashStore()
    expected_seq = 0
    rehashed: dict[str, str | None] = {}
    stages: dict[str, tuple[int, str]] = {}  # case → (entry, stage) from intact leaves only
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
                elif entry.kind == "stage_change":
                    stages[row.case_id] = (entry.seq, row.to_stage)
                elif entry.kind == "case":
                    stages.setdefault(row.id, (entry.seq, "initiation"))
                if blobs is not None and entry.kind == "evidence":
                    if row.sha256 not in rehashed:
                        rehashed[row.sha256] = _blob_problem(blobs, row.sha256)
                    if rehashed[row.sha256]:
                        damages.append(Damage(entry.seq, f"entry {entry.seq}: blob of evidence "
                                              f"{row.id} {rehashed[row.sha256]}"))
            tree.append_leaf(leaf)
            expected_seq += 1
        last = entries[-1].seq
    size = tree.size
    head_size = current_size(session)
    if head_size != size:
        damages.append(Damage(None, f"the log head says {head_size} entries, {size} were found"))
    damages += _verify_stored_hashes(session, tree, size)
    damages += _verify_projections(session, stages, tainted)
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
        model = COVERED.get(kind)
        if model is None:
            continue
        table = model.__table__
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


def _verify_projections(session: Session, stages: dict[str, tuple[int, str]],
                        tainted: set[str | None]) -> list[Damage]:
    """Each case's stage must be where its last intact logged stage change put it."""
    damages = []
    for case_id, stage in session.execute(select(Case.id, Case.stage)):
        if case_id in tainted or case_id not in stages:
            continue  # already reported at the damaged entry (or the case row is missing)
        seq, expected = stages[case_id]
        if stage != expected:
            damages.append(Damage(seq, f"entry {seq}: case {case_id} shows stage {stage!r} but "
                                  f"its logged stage changes end at {expected!r}"))
    return damages
