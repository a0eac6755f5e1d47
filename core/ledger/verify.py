"""Verification: recompute every leaf from the live rows (and re-hash blobs), rebuild the tree,
and check every stored hash, checkpoint, timestamp and registered projection (A37.1).

Verify streams: for each covered table one query joins the log's entries of that kind with
their rows (a server-side cursor on PostgreSQL), the streams are merged in log order, and the
tree is rebuilt on its right edge only (merkle.CompactTree) while the stored hashes are read in
the same order and compared as they are produced. Memory stays O(log n) plus what the
projections keep, whatever the size of the log.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import func, not_, select
from sqlalchemy.orm import Session

from core.ledger import merkle, timestamps
from core.ledger.algorithms import suite_named
from core.ledger.checkpoints import CheckpointSigner
from core.ledger.log import COVERED, LedgerError, _leaf_columns, canonical_json, log_suite
from core.ledger.models import (
    LedgerCheckpoint,
    LedgerEntry,
    LedgerHash,
    LedgerHead,
    LedgerTimestamp,
)
from core.ledger.states import (
    MIRRORED,
    ledgered_state,
    live_state,
    row_key,
)


@dataclass
class Damage:
    """One problem verify found; ``seq`` is the entry it concerns (None: the log as a whole).
    Differences of a mirrored table also name the table, the row's key and the column."""

    seq: int | None
    message: str
    table: str | None = None
    row: str | None = None
    column: str | None = None


@dataclass
class VerifyReport:
    """The outcome of a full recomputation."""

    entries: int
    checkpoints: int
    damages: list[Damage]
    timestamps: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing was found wrong."""
        return not self.damages

    def first(self) -> Damage | None:
        """The damage with the lowest entry number (log-wide damage last)."""
        return min(self.damages, key=lambda d: (d.seq is None, d.seq or 0), default=None)


class Projection(Protocol):
    """A mutable column derived from covered rows (a case's stage): verify re-derives it from
    the intact leaves it observes and reports where the live column disagrees. A projection
    may also define ``observe_damaged(kind, seq, row)``, told of each damaged leaf."""

    def observe(self, kind: str, seq: int, row) -> None:
        """See one intact leaf's row, in log order."""

    def check(self, session: Session, tainted: set[str | None]) -> list[Damage]:
        """Compare with the live rows; cases in `tainted` were already reported."""


# Factories of the projections verify re-derives, registered by the packages that own them.
PROJECTIONS: list[Callable[[], Projection]] = []

# Checks of a checkpoint's extra evidence (RFC 3161 timestamps), run after the tree: each gets
# the session, the checkpoints and the recomputed roots, and returns damages.
CHECKPOINT_CHECKS: list[Callable[..., list[Damage]]] = []

Progress = Callable[[int, int], None]


def add_projection(factory: Callable[[], Projection]) -> None:
    """Register a projection for verify to re-derive (idempotent)."""
    if factory not in PROJECTIONS:
        PROJECTIONS.append(factory)


class MirrorProjection:
    """Every mirrored table (officers, tokens, deadlines, the calendar, ...) rebuilt from its
    intact state leaves and compared with the live rows, column by column."""

    def __init__(self) -> None:
        """Start with nothing ledgered."""
        self.states: dict[tuple[str, str], tuple[int, str, dict | None]] = {}
        self.suspect = False

    def observe(self, kind: str, seq: int, row) -> None:
        """A state leaf: each row it names is now in the state it gives."""
        if kind == "state":
            for r in row.rows:
                self.states[(row.table_name, r["key"])] = (seq, row.event, r["state"])

    def observe_damaged(self, kind: str, seq: int, row) -> None:
        """A damaged state leaf: the rebuilt tables are no longer to be trusted."""
        if kind == "state":
            self.suspect = True

    def check(self, session: Session, tainted: set[str | None]) -> list[Damage]:
        """Report each live row that differs from, lacks or outlives its ledgered state."""
        damages: list[Damage] = []
        for table, m in MIRRORED.items():
            seen = set()
            stmt = select(m.model.__table__).execution_options(stream_results=True,
                                                                yield_per=2000)
            for row in session.execute(stmt):
                key = row_key(m, lambda c, r=row: r._mapping[c])
                seen.add(key)
                damages += self._compare(table, key, live_state(m, row), m)
            for (t, key), (seq, event_name, state) in self.states.items():
                if t == table and key not in seen and state is not None:
                    damages.append(self._damage(
                        seq, f"{table} row {key} is missing: the ledger's last state of it "
                             f"(entry {seq}, {event_name}) has it present", table, key))
        return damages

    def _compare(self, table: str, key: str, live: dict, m) -> list[Damage]:
        got = self.states.get((table, key))
        if got is None:
            return [self._damage(None, f"{table} row {key} is not on the ledger: it was added "
                                       "without a ledgered event", table, key)]
        seq, event_name, state = got
        if state is None:
            return [self._damage(seq, f"{table} row {key} is present but the ledger deleted it "
                                      f"(entry {seq}, {event_name})", table, key)]
        logged = ledgered_state(m, state)
        out = []
        for column, value in live.items():
            if column not in logged:
                if value is None:
                    continue  # a column added after this state, never set
                out.append(self._damage(seq, f"entry {seq}: {table} row {key} column {column} "
                                             f"is {value!r}, which the ledger never recorded",
                                        table, key, column))
            elif logged[column] != value:
                out.append(self._damage(seq, f"entry {seq}: {table} row {key} column {column} "
                                             f"is {value!r} but the ledger says "
                                             f"{logged[column]!r} ({event_name})",
                                        table, key, column))
        return out

    def _damage(self, seq, message, table, key, column=None) -> Damage:
        # With a damaged state leaf the rebuilt row may be stale, so the entry number would
        # point at the wrong place: the damaged leaf itself is reported first instead.
        return Damage(None if self.suspect else seq, message, table, key, column)


add_projection(MirrorProjection)
CHECKPOINT_CHECKS.append(timestamps.check_timestamps)


_ENTRY_COLUMNS = ("seq", "kind", "subject_table", "subject_id", "case_id", "leaf_hash",
                  "created_at")
_E = len(_ENTRY_COLUMNS)


def _streams(session: Session, batch: int) -> list[Iterator]:
    """One stream per covered kind (entries joined with their rows, in log order) and one for
    entries of kinds nothing covers; each yields (seq, kind, row-or-None, raw row)."""
    e = LedgerEntry.__table__
    entry_cols = [e.c[n].label(f"_e_{n}") for n in _ENTRY_COLUMNS]
    streams = []
    for kind, coverage in COVERED.items():
        t = coverage.model.__table__
        stmt = (select(*entry_cols, *t.columns)
                .select_from(e.outerjoin(t, t.c.id == e.c.subject_id))
                .where(e.c.kind == kind).order_by(e.c.seq)
                .execution_options(stream_results=True, yield_per=batch))
        streams.append(_kind_stream(session, stmt, kind, t))
    stmt = (select(*entry_cols).where(not_(e.c.kind.in_(list(COVERED)))) if COVERED
            else select(*entry_cols)).order_by(e.c.seq).execution_options(
        stream_results=True, yield_per=batch)
    streams.append(_kind_stream(session, stmt, None, None))
    return streams


def _kind_stream(session: Session, stmt, kind: str | None, table) -> Iterator:
    present = _E  # the first table column: the row's id (NULL when the row is missing)
    for r in session.execute(stmt):
        yield r[0], r, (table is not None and r[present] is not None)


def _leaf_maker(hasher: merkle.Hasher) -> Callable:
    """A function from a joined (entry, row) result to its leaf hash, building the exact
    document log.leaf_document does without going through ORM attribute access."""
    plans: dict[str, list[tuple[str, int, bool]]] = {}

    def plan(table) -> list[tuple[str, int, bool]]:
        cols = _leaf_columns(table.name)
        names = [c.name for c in table.columns]
        return [(name, _E + names.index(name),
                 table.c[name].type.python_type.__name__ == "datetime") for name in cols]

    def leaf(r, table) -> bytes:
        p = plans.get(table.name)
        if p is None:
            p = plans[table.name] = plan(table)
        row = {}
        for name, i, is_dt in p:
            value = r[i]
            if is_dt and value is not None:
                value = value.isoformat()  # UTCDateTime already gives UTC-aware values
            row[name] = value
        doc = {"v": 1, "seq": r[0], "kind": r[1], "table": r[2], "id": r[3], "case_id": r[4],
               "at": r[6].isoformat(), "row": row}
        return hasher.leaf(canonical_json(doc))

    return leaf


class _RowView:
    """Attribute access to the covered row's part of a joined result (for projections)."""

    __slots__ = ("_m",)

    def __init__(self, mapping):
        self._m = mapping

    def __getattr__(self, name):
        try:
            return self._m[name]
        except KeyError:
            raise AttributeError(name) from None


def verify(session: Session, signer: CheckpointSigner, blobs=None, batch: int = 5000,
           progress: Progress | None = None) -> VerifyReport:
    """Recompute every leaf from the live rows (and blobs), the tree, every checkpoint and
    timestamp, and every projection; `progress(done, total)` is called after each batch."""
    damages: list[Damage] = []
    head = session.get(LedgerHead, 1)
    try:
        suite = log_suite(head)
    except LedgerError as exc:  # a rewritten head: report it, recompute with our suite
        damages.append(Damage(None, str(exc)))
        suite = signer.suite
    hasher = suite.hasher
    head_size = head.size if head else 0
    if signer.suite.name != suite.name:
        damages.append(Damage(None, f"the log uses {suite.name} but this installation is "
                                    f"configured for {signer.suite.name}"))
    checkpoints = list(session.execute(select(LedgerCheckpoint).order_by(LedgerCheckpoint.id)
                                       ).scalars())
    wanted_roots = {cp.tree_size for cp in checkpoints}
    roots: dict[int, bytes] = {0: hasher.empty_root}
    tree = merkle.CompactTree(hasher)
    stored = _StoredHashes(session, batch)
    rehashed: dict[str, str | None] = {}
    projections = [make() for make in PROJECTIONS]  # fed intact leaves only
    tainted: set[str | None] = set()
    leaf_of = _leaf_maker(hasher)
    tables = {kind: c.model.__table__ for kind, c in COVERED.items()}
    expected_seq = 0
    since_report = 0
    for seq, r, present in heapq.merge(*_streams(session, batch), key=lambda x: x[0]):
        kind, subject_table, subject_id, case_id, logged = r[1], r[2], r[3], r[4], r[5]
        if seq != expected_seq:
            damages.append(Damage(expected_seq, f"entry {expected_seq} is missing: the log "
                                  f"jumps to {seq}"))
            expected_seq = seq
        if not present:
            damages.append(Damage(seq, f"entry {seq}: {kind} {subject_id} is missing from "
                                  f"{subject_table}"))
            tainted.add(case_id)
            for projection in projections:
                if hasattr(projection, "observe_damaged"):
                    projection.observe_damaged(kind, seq, None)
            leaf = logged
        else:
            leaf = leaf_of(r, tables[kind])
            row = _RowView(r._mapping)
            if leaf != logged:
                damages.append(Damage(seq, f"entry {seq}: {kind} {subject_id} differs from "
                                      "what was logged"))
                tainted.add(case_id)
                for projection in projections:
                    if hasattr(projection, "observe_damaged"):
                        projection.observe_damaged(kind, seq, row)
            else:
                for projection in projections:
                    projection.observe(kind, seq, row)
            blob_column = COVERED[kind].blob_column
            if blobs is not None and blob_column and r._mapping[blob_column]:
                sha = r._mapping[blob_column]
                if sha not in rehashed:
                    rehashed[sha] = _blob_problem(blobs, sha)
                if rehashed[sha]:
                    damages.append(Damage(seq, f"entry {seq}: blob of {kind} {subject_id} "
                                               f"{rehashed[sha]}"))
        stored.expect(tree.append(leaf))
        if tree.size in wanted_roots:
            roots[tree.size] = tree.root()
        expected_seq += 1
        since_report += 1
        if progress is not None and since_report >= batch:
            progress(tree.size, max(head_size, tree.size))
            since_report = 0
    size = tree.size
    if progress is not None:
        progress(size, max(head_size, size))
    if head_size != size:
        damages.append(Damage(None, f"the log head says {head_size} entries, {size} were found"))
    damages += stored.finish(merkle.stored_hash_count(size))
    for projection in projections:
        damages += projection.check(session, tainted)
    damages += _check_checkpoints(checkpoints, signer, suite, size, roots)
    for check in CHECKPOINT_CHECKS:
        damages += check(session, checkpoints, roots)
    stamped = session.execute(select(func.count()).select_from(LedgerTimestamp)
                              .where(LedgerTimestamp.token.is_not(None))).scalar_one()
    return VerifyReport(size, len(checkpoints), damages, stamped)


def _check_checkpoints(checkpoints, signer: CheckpointSigner, suite, size: int,
                       roots: dict[int, bytes]) -> list[Damage]:
    damages = []
    for cp in checkpoints:
        if cp.algorithms != suite.name:
            damages.append(Damage(None, f"checkpoint {cp.id} says {cp.algorithms} but the log "
                                        f"uses {suite.name}"))
        if cp.key_id != signer.key_id:
            damages.append(Damage(None, f"checkpoint {cp.id} names key {cp.key_id}, not this "
                                        f"installation's key {signer.key_id}: its signature "
                                        "cannot be checked"))
        elif not signer.verify(cp.note, cp.signature):
            damages.append(Damage(None, f"checkpoint {cp.id}: signature does not verify"))
        current = signer.note(cp.tree_size, cp.root_hash, cp.created_at, cp.reason)
        legacy = signer.note(cp.tree_size, cp.root_hash)
        if cp.note != current and not (cp.note == legacy
                                       and suite_named(cp.algorithms).name == "sha256-ed25519"):
            damages.append(Damage(None, f"checkpoint {cp.id}: note and columns disagree"))
        if cp.tree_size > size:
            damages.append(Damage(size, f"checkpoint {cp.id} covers {cp.tree_size} entries but "
                                  f"only {size} exist: entries were removed"))
        elif roots.get(cp.tree_size) != cp.root_hash:
            damages.append(Damage(None, f"checkpoint {cp.id} (size {cp.tree_size}): root does "
                                  "not match the recomputed log"))
    return damages


class _StoredHashes:
    """The ledger_hashes table read in index order, compared with the recomputed hashes as
    the tree produces them."""

    def __init__(self, session: Session, batch: int):
        t = LedgerHash.__table__
        self._rows = iter(session.execute(
            select(t.c.idx, t.c.hash).order_by(t.c.idx)
            .execution_options(stream_results=True, yield_per=batch * 2)))
        self._next = 0
        self.problem: str | None = None

    def expect(self, hashes: list[bytes]) -> None:
        """The next stored hashes must be these."""
        if self.problem is not None:
            return
        for h in hashes:
            row = next(self._rows, None)
            if row is None or row[0] != self._next:
                self.problem = f"stored hash {self._next} is missing"
                return
            if row[1] != h:
                self.problem = "stored tree hashes differ from the recomputed tree"
                return
            self._next += 1

    def finish(self, count: int) -> list[Damage]:
        """Damages found (the count is what a log of this size must have stored)."""
        if self.problem is not None:
            return [Damage(None, f"stored tree hashes: {self.problem}")]
        if self._next != count:
            return [Damage(None, f"stored tree hashes: {count} expected, {self._next} read")]
        return []


def _blob_problem(blobs, sha256: str) -> str | None:
    """None when the stored blob still hashes to its name, else what is wrong."""
    try:
        actual = blobs.rehash(sha256)
    except (FileNotFoundError, ValueError):
        return "is missing"
    return None if actual == sha256 else f"was changed (now {actual[:16]}…)"
