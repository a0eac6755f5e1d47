"""The tamper-evident log (A37.1): every covered row is a leaf of an RFC 9162 Merkle log.

The ledger knows no domain table: each package registers the tables it wants covered with
:func:`cover` (core/cases does so for parties, cases, records, ...), so the ledger sits below
them. A leaf hashes the entry's own facts plus every column of the covered row, except the
projections the registering package re-derives (``Case.stage``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.kernel.clock import utcnow
from core.ledger import merkle
from core.ledger.algorithms import AlgorithmError, Suite, suite_named
from core.ledger.models import LedgerEntry, LedgerHash, LedgerHead
from core.platform.db import Base


@dataclass(frozen=True)
class Coverage:
    """A covered table: its model, the columns left out of the leaf, and the column naming a
    blob whose bytes verify re-hashes."""

    kind: str
    model: type[Base]
    projections: frozenset[str] = field(default_factory=frozenset)
    blob_column: str | None = None


# Every table whose rows are leaves, by ledger kind (filled by cover()).
COVERED: dict[str, Coverage] = {}
_LEAF_COLUMNS: dict[str, tuple[str, ...]] = {}


def cover(kind: str, model: type[Base], *, projections: Sequence[str] = (),
          blob_column: str | None = None) -> None:
    """Register a table whose rows are ledger leaves under `kind` (idempotent)."""
    known = COVERED.get(kind)
    if known is not None and known.model is not model:
        raise LedgerError(f"ledger kind {kind!r} is already covered by {known.model.__name__}")
    COVERED[kind] = Coverage(kind, model, frozenset(projections), blob_column)
    _LEAF_COLUMNS.pop(model.__tablename__, None)


def coverage_of_table(table_name: str) -> Coverage:
    """The coverage of a table by its name."""
    for c in COVERED.values():
        if c.model.__tablename__ == table_name:
            return c
    raise LedgerError(f"table {table_name!r} is not covered by the ledger")


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
        coverage = coverage_of_table(table_name)
        cols = tuple(c.name for c in coverage.model.__table__.columns
                     if c.name not in coverage.projections)
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


def configured_suite(session: Session) -> Suite | None:
    """The suite LEDGER_ALGORITHMS names for this session's process (None: not known here)."""
    settings = session.info.get("settings")
    name = getattr(settings, "ledger_algorithms", None)
    return suite_named(name) if name else None


def log_suite(head: LedgerHead | None) -> Suite:
    """The suite the log was written with (recorded in its head; absent: the default)."""
    try:
        return suite_named(head.algorithms if head is not None else None)
    except AlgorithmError as exc:
        raise LedgerError(f"the ledger head names an unknown suite: {exc}") from None


def session_suite(session: Session) -> Suite:
    """The suite of this database's log."""
    return log_suite(session.get(LedgerHead, 1))


def _suite_for_append(session: Session, head: LedgerHead) -> Suite:
    """The log's suite, recorded on the first append; a process configured otherwise is
    refused, so one log never mixes two hashes."""
    configured = configured_suite(session)
    if head.algorithms is None and head.size == 0:
        head.algorithms = (configured or suite_named(None)).name
    suite = log_suite(head)
    if configured is not None and configured.name != suite.name:
        raise LedgerError(f"this ledger uses {suite.name}; LEDGER_ALGORITHMS is "
                          f"{configured.name}: refusing to append")
    return suite


def append(session: Session, kind: str, row: Base, case_id: str | None = None) -> LedgerEntry:
    """Append a covered row as the next leaf, inside the caller's transaction."""
    return append_many(session, [(kind, row, case_id)])[0]


class _BatchHashReader(DbHashReader):
    """Stored hashes of the log plus those of the leaves appended in this batch (not flushed
    yet: read without autoflush, so a batch costs one flush)."""

    def __init__(self, session: Session):
        super().__init__(session)
        self.fresh: dict[int, bytes] = {}

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Batch read by stored index, in the order asked."""
        wanted = list(indexes)
        older = [i for i in wanted if i not in self.fresh]
        stored = dict(zip(older, super().read_hashes(older), strict=True))
        return [self.fresh[i] if i in self.fresh else stored[i] for i in wanted]


def append_many(session: Session, items: Sequence[tuple[str, Base, str | None]]
                ) -> list[LedgerEntry]:
    """Append covered rows ``(kind, row, case_id)`` as consecutive leaves, in order, inside the
    caller's transaction: the same leaves as one ``append`` each, under one lock of the head
    and two flushes (the states a commit writes come in one batch)."""
    for kind, row, _ in items:
        coverage = COVERED.get(kind)
        if coverage is None or coverage.model is not type(row):
            raise LedgerError(f"{type(row).__name__} is not the covered table of kind {kind!r}")
    session.flush()  # defaults (ids, timestamps) must be final before hashing
    head = lock_head(session)
    hasher = _suite_for_append(session, head).hasher
    reader = _BatchHashReader(session)
    entries = []
    with session.no_autoflush:
        for kind, row, case_id in items:
            entry = LedgerEntry(seq=head.size, kind=kind, subject_table=row.__tablename__,
                                subject_id=str(row.id), case_id=case_id, created_at=utcnow())
            entry.leaf_hash = hasher.leaf(canonical_json(leaf_document(entry, row)))
            start = merkle.stored_hash_count(head.size)
            for offset, h in enumerate(merkle.stored_hashes_for_leaf(
                    head.size, entry.leaf_hash, reader, hasher)):
                reader.fresh[start + offset] = h
                session.add(LedgerHash(idx=start + offset, hash=h))
            head.size += 1
            session.add(entry)
            entries.append(entry)
    session.flush()
    return entries


def current_size(session: Session) -> int:
    """How many leaves the log has."""
    head = session.get(LedgerHead, 1)
    return head.size if head else 0
