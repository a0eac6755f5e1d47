"""Verification: recompute every leaf from the live rows (and re-hash blobs), rebuild the tree,
and check every stored hash, checkpoint, timestamp and registered projection (A37.1).

Verify streams: for each covered table the log's entries of that kind are joined with their
rows (on PostgreSQL two server-side cursors matched by core.ledger.rowjoin, for the whole log
or, in parallel.py's worker processes, a stretch of it and the table blocks holding its rows;
elsewhere one query), the streams are merged in log order, and the
tree is rebuilt on its right edge only (merkle.CompactTree) while the stored hashes are read in
the same order and compared as they are produced. Memory stays O(log n) plus what the
projections keep and rowjoin's bounded window of rows, whatever the size of the log.
"""

from __future__ import annotations

import heapq
import itertools
import operator
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

import orjson
from sqlalchemy import JSON, func, not_, select, text
from sqlalchemy.orm import Session

from core.ledger import merkle, rowjoin, timestamps
from core.ledger.algorithms import suite_named
from core.ledger.checkpoints import CheckpointSigner
from core.ledger.log import (
    COVERED,
    LedgerError,
    _json_default,
    _leaf_columns,
    canonical_json,
    log_suite,
)
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
    # Leaves the fast encoder did not reproduce, checked with the reference encoder instead.
    reference_leaves: int = 0

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
    may also define ``observe_damaged(kind, seq, row)``, told of each damaged leaf, and
    ``kinds``, the leaf kinds it reads (verify then shows it no others)."""

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

    kinds = frozenset({"state"})

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
# Sorted keys, compact, UTF-8 unescaped, datetimes as RFC 3339 with +00:00: what
# log.canonical_json writes for the documents of a leaf (anything else falls back to it).
_ORJSON = orjson.OPT_SORT_KEYS
_AHEAD = 2  # batches a stream fetches ahead of the hashing


def _rows(session: Session, stmt, batch: int) -> Iterator[tuple]:
    """The rows of a statement as tuples, streamed (see _row_batches)."""
    for rows in _row_batches(session, stmt, batch):
        yield from rows


def _row_batches(session: Session, stmt, batch: int) -> Iterator[list]:
    """The rows of a statement as lists of tuples, streamed: on PostgreSQL through a
    server-side cursor in binary format, fetched ahead by a thread of its own (the database
    computes the next batch while this one is hashed: the two costs overlap instead of adding
    up), elsewhere through SQLAlchemy's result."""
    if session.get_bind().dialect.name != "postgresql":
        yield from session.execute(stmt.execution_options(stream_results=True,
                                                          yield_per=batch)).partitions()
        return
    compiled = stmt.compile(dialect=session.get_bind().dialect,
                            compile_kwargs={"render_postcompile": True})
    dbapi = session.connection().connection.dbapi_connection
    ahead: queue.Queue = queue.Queue(maxsize=_AHEAD)  # bounded: memory stays a few batches
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        try:
            # psycopg's named cursor is a PostgreSQL cursor in this transaction: the same
            # snapshot. A psycopg connection may be shared by threads (each statement holds
            # its lock); this cursor is used by this thread alone.
            with dbapi.cursor(name=f"verify_{uuid.uuid4().hex}", binary=True) as cur:
                cur.execute(str(compiled), compiled.params)
                while True:
                    rows = cur.fetchmany(batch)  # a list per round trip: no per-row call
                    if not put(rows) or not rows:
                        return
        except BaseException as exc:  # handed to the reader, which raises it
            put(exc)

    worker = threading.Thread(target=fetch, name="verify-fetch", daemon=True)
    worker.start()
    try:
        while True:
            rows = ahead.get()
            if isinstance(rows, BaseException):
                raise rows
            if not rows:
                return
            yield rows
    finally:
        stop.set()  # a reader that stops early (an error) lets the thread close its cursor
        worker.join()


def _streams(session: Session, hasher: merkle.Hasher, batch: int, slow_kinds: set[str],
             lo: int | None = None, hi: int | None = None,
             blocks: dict[str, tuple[int, int | None]] | None = None) -> list[Iterator]:
    """One stream per covered kind (entries joined with their rows, in log order) and one for
    entries of kinds nothing covers; each yields (seq, leaf, row tuple), where leaf is None
    unless the fast encoder reproduced the logged leaf hash (see _fast_leaves). `blocks`
    (PostgreSQL, a stretch lo..hi): the heap blocks of each covered table where the stretch's
    rows lie, read as they lie and joined here like the whole log's."""
    e = LedgerEntry.__table__
    entry_cols = [e.c[n].label(f"_e_{n}") for n in _ENTRY_COLUMNS]
    bounds = [c for c in (e.c.seq >= lo if lo is not None else None,
                          e.c.seq < hi if hi is not None else None) if c is not None]
    # The whole log (or a stretch given its blocks) on PostgreSQL: entries and rows read as
    # they lie, joined here (rowjoin).
    apart = (not bounds or blocks is not None) and session.get_bind().dialect.name == "postgresql"
    streams = []
    for kind, coverage in COVERED.items():
        t = coverage.model.__table__
        if blocks is not None and kind not in blocks:
            continue  # no entry of this kind in the stretch (parallel._present)
        if apart:
            streams.append(_apart_stream(_joined_apart(session, e, entry_cols, t, kind, batch,
                                                       bounds, (blocks or {}).get(kind)),
                                         None if kind in slow_kinds else
                                         _fast_leaves(hasher, t, apart=True), len(t.columns)))
            continue
        joined = _row_batches(session, select(*entry_cols, *t.columns)
                              .select_from(e.outerjoin(t, t.c.id == e.c.subject_id))
                              .where(e.c.kind == kind, *bounds).order_by(e.c.seq), batch)
        streams.append(_kind_stream(joined, None if kind in slow_kinds else
                                    _fast_leaves(hasher, t)))
    stmt = (select(*entry_cols).where(not_(e.c.kind.in_(list(COVERED))), *bounds) if COVERED
            else select(*entry_cols).where(*bounds)).order_by(e.c.seq)
    streams.append(_kind_stream(_row_batches(session, stmt, batch), None))
    return streams


def _joined_apart(session: Session, e, entry_cols, t, kind: str, batch: int, bounds=(),
                  blocks: tuple[int, int | None] | None = None) -> Iterator:
    """A kind's entries in log order, each batch with the list of its rows (None: no such
    row), what the outer join gives but with no join or sort on the server: the entries (an
    index range) and the table (read in physical order; `blocks`: only heap blocks
    first <= b < last, a TID range scan) stream from the first row, and rowjoin matches them
    by id (a row outside the blocks is looked up by id: the result is the same)."""
    entries = _row_batches(session, select(*entry_cols).where(e.c.kind == kind, *bounds)
                           .order_by(e.c.seq), batch)
    where = []
    if blocks is not None:
        first, last = blocks
        where.append(text(f"{t.name}.ctid >= '({int(first)},0)'::tid"))
        if last is not None:
            where.append(text(f"{t.name}.ctid < '({int(last)},0)'::tid"))
    rows = _row_batches(session, select(*t.columns).where(*where), batch)
    names = [c.name for c in t.columns]

    def lookup(ids: list) -> dict:
        found = _fetch(session, select(*t.columns).where(t.c.id.in_(ids)))
        return {r[names.index("id")]: r for r in found}

    return rowjoin.window_join(entries, rows, lookup, key_at=_ENTRY_COLUMNS.index("subject_id"),
                               id_at=names.index("id"))


def _fetch(session: Session, stmt) -> list[tuple]:
    """All rows of a small statement as tuples, decoded as the streams decode them (binary)."""
    compiled = stmt.compile(dialect=session.get_bind().dialect,
                            compile_kwargs={"render_postcompile": True})
    dbapi = session.connection().connection.dbapi_connection
    with dbapi.cursor(binary=True) as cur:
        cur.execute(str(compiled), compiled.params)
        return cur.fetchall()


def _kind_stream(batches: Iterator[list], leaves: Callable | None) -> Iterator:
    for rows in batches:
        seqs = [r[0] for r in rows]
        yield from zip(seqs, leaves(rows) if leaves else [None] * len(rows), rows, strict=True)


def _apart_stream(batches: Iterator, leaves: Callable | None, width: int) -> Iterator:
    """What _kind_stream yields, from batches of entries and their rows: the joined tuple is
    built only for an entry looked at alone (the rest need none)."""
    nothing = (None,) * width
    for entries, rows in batches:
        hashed = leaves(entries, rows) if leaves else [None] * len(entries)
        joined = ([e + (nothing if r is None else r) if h is None else None
                   for e, r, h in zip(entries, rows, hashed, strict=True)] if None in hashed
                  else itertools.repeat(None))
        yield from zip([e[0] for e in entries], hashed, joined, strict=False)  # repeat: endless


def _fast_leaves(hasher: merkle.Hasher, table, apart: bool = False) -> Callable[..., list]:
    """A function from a batch of joined (entry, row) tuples (`apart`: from a batch of entries
    and the list of their rows, None where missing) to their leaf hashes, each None unless it
    equals the logged one (the row is then looked at alone, by _leaf_maker).

    The document log.leaf_document builds is written as one dict literal per table, compiled
    once (no per-column Python logic per row), with its keys already in sorted order (what
    canonical_json's sort_keys gives), so orjson need not sort. Equal bytes from two JSON
    encoders mean equal JSON values, so a changed row can never pass here."""
    names = [c.name for c in table.columns]
    order = sorted(_leaf_columns(table.name))  # code point order, as json.dumps sorts
    at = 0 if apart else _E  # where the row's columns start in r
    row = ", ".join(f"{name!r}: r[{at + names.index(name)}]" for name in order)
    # The entry's columns are _ENTRY_COLUMNS: seq, kind, subject_table, subject_id, case_id,
    # leaf_hash, created_at; the document's keys below are in sorted order too.
    # Documents held in a column (JSON) have keys of their own: those tables are sorted.
    sort = any(_holds_documents(c) for c in table.columns if c.name in order)
    option = ", option=sort" if sort else ""
    e, missing, loop = (("e", "r is None", "for e, r in zip(entries, rows)") if apart else
                        ("r", f"r[{_E}] is None", "for r in rows"))
    source = (f"lambda entries, rows, new, dumps, sort: [None if {missing} else h if (h := new("
              f"b'\\x00' + dumps({{'at': {e}[6], 'case_id': {e}[4], 'id': {e}[3], "
              f"'kind': {e}[1], 'row': {{{row}}}, 'seq': {e}[0], 'table': {e}[2], 'v': 1}}"
              f"{option})).digest()) == {e}[5] else None {loop}]")
    compiled = eval(compile(source, f"<leaves of {table.name}>", "eval"))  # noqa: S307
    new, dumps = hasher.new, orjson.dumps

    def leaves(*batch: list) -> list:
        try:
            return compiled(batch[0], batch[-1], new, dumps, _ORJSON)
        except (TypeError, orjson.JSONEncodeError):
            return [None] * len(batch[0])  # a value orjson does not take: the reference decides

    leaves.source = source  # type: ignore[attr-defined]
    return leaves


def _holds_documents(column) -> bool:
    """Whether a column's values may be dicts or lists (whose keys orjson must sort)."""
    if isinstance(column.type, JSON):
        return True
    try:
        return column.type.python_type not in (str, int, float, bool, bytes, datetime, date)
    except NotImplementedError:  # a type that does not say: sort, to be safe
        return True


def _leaf_maker(hasher: merkle.Hasher) -> Callable:
    """A function from a joined (entry, row) result and its logged leaf hash to the recomputed
    leaf hash, building the document log.leaf_document builds.

    The document is serialised with orjson first (ten times faster); only when that does not
    give the logged hash is it serialised again with the reference encoder that append uses
    (log.canonical_json), whose result is then the verdict. Equal bytes from two JSON encoders
    mean equal JSON values, so the fast path can never pass a changed row."""
    plans: dict[str, tuple[tuple[str, ...], Callable]] = {}
    new = hasher.new
    counts = {"reference": 0}

    def leaf_hash(data: bytes) -> bytes:
        return new(b"\x00" + data).digest()  # hasher.leaf in one call: documents are small

    def plan(table) -> tuple[tuple[str, ...], Callable]:
        names = [c.name for c in table.columns]
        wanted = _leaf_columns(table.name)
        at = [_E + names.index(name) for name in wanted]
        pick = operator.itemgetter(*at) if len(at) > 1 else (lambda r: (r[at[0]],))
        return tuple(wanted), pick

    def leaf(r, table, logged: bytes) -> bytes:
        p = plans.get(table.name)
        if p is None:
            p = plans[table.name] = plan(table)
        doc = {"v": 1, "seq": r[0], "kind": r[1], "table": r[2], "id": r[3], "case_id": r[4],
               "at": r[6], "row": dict(zip(p[0], p[1](r), strict=True))}
        try:
            fast = leaf_hash(orjson.dumps(doc, option=_ORJSON, default=_json_default))
        except (TypeError, orjson.JSONEncodeError):
            fast = None
        if fast == logged:
            return fast
        counts["reference"] += 1
        return leaf_hash(canonical_json(doc))

    leaf.counts = counts  # type: ignore[attr-defined]
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


@dataclass
class Scanned:
    """What one stretch of the log recomputed: each entry's number and leaf hash (the logged
    one when its row is missing), the damages found, the rows the projections read, and how
    many leaves needed the reference encoder."""

    seqs: list[int]
    leaves: bytes
    damages: list[Damage]
    tainted: set
    observed: list[tuple[int, str, bool, dict | None]]  # (seq, kind, intact, row)
    reference: int = 0


def one_snapshot(session: Session) -> None:
    """Make this transaction read one snapshot from its first query on (PostgreSQL's
    REPEATABLE READ), so an entry appended while verify runs is either wholly seen or not at
    all; call it before the transaction's first query. SQLite's read transaction already is."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))


def _prepare(session: Session, whole: bool = True) -> None:
    """Set this transaction up for reading the covered rows (PostgreSQL); `whole`: the
    cursors read the log (or a stretch) and the tables as they lie, not by index probes."""
    if session.get_bind().dialect.name != "postgresql":
        return
    # Datetimes come back in UTC, as the leaves wrote them (else the fast path misses).
    session.execute(text("SET LOCAL TIME ZONE 'UTC'"))
    if not whole:
        # A stretch (parallel.py): one index probe per entry, as planned for cursors by
        # default; a hash join would read the whole covered table for every stretch.
        return
    # Verify reads every row of its cursors: plan them for the whole result, not for the
    # first tenth (PostgreSQL's default for cursors). The whole log joins no rows on the
    # server (rowjoin: 1,000,000 parties, server CPU of a whole verify 1.9-2.1 s, against
    # 4.1-4.7 s for a hash join and a sort, which also hold back the first row for ~3 s).
    session.execute(text("SET LOCAL cursor_tuple_fraction = 1"))
    session.execute(text("SET LOCAL work_mem = '64MB'"))


def _scan(session: Session, hasher: merkle.Hasher, blobs, seen_kinds: set[str] | None,
          batch: int, lo: int | None = None, hi: int | None = None,
          blocks: dict[str, tuple[int, int | None]] | None = None) -> Iterator[Scanned]:
    """Recompute the leaves of entries lo <= seq < hi, a batch at a time (`blocks`: see
    _streams).

    Leaves of intact rows of kinds no projection reads and with no blob were recomputed by
    their stream a batch at a time; every other entry (missing, changed, read by a
    projection, with a blob) is looked at here one by one."""
    _prepare(session, whole=(lo is None and hi is None) or blocks is not None)
    leaf_of = _leaf_maker(hasher)
    tables = {kind: c.model.__table__ for kind, c in COVERED.items()}
    names_of = {kind: tuple(f"_e_{n}" for n in _ENTRY_COLUMNS) + tuple(c.name for c in t.columns)
                for kind, t in tables.items()}
    blob_at = {kind: _E + [c.name for c in tables[kind].columns].index(c.blob_column)
               for kind, c in COVERED.items() if c.blob_column and blobs is not None}
    slow_kinds = set(blob_at) | (set(COVERED) if seen_kinds is None else set(seen_kinds))
    rehashed: dict[str, str | None] = {}
    # Sequence numbers are the log's primary key: tuples never compare past their first item.
    merged = heapq.merge(*_streams(session, hasher, batch, slow_kinds, lo, hi, blocks))
    while True:
        chunk = list(itertools.islice(merged, batch))
        part = Scanned([c[0] for c in chunk], b"", [], set(), [])
        leaves = [c[1] for c in chunk]
        if None in leaves:
            for i, (seq, leaf, r) in enumerate(chunk):
                if leaf is None:
                    leaves[i] = _one_leaf(part, seq, r, leaf_of, tables, names_of, seen_kinds,
                                          blob_at, blobs, rehashed)
        part.leaves, part.reference = b"".join(leaves), leaf_of.counts["reference"]
        leaf_of.counts["reference"] = 0
        yield part
        if len(chunk) < batch:
            return


def _one_leaf(part: Scanned, seq: int, r, leaf_of, tables, names_of, seen_kinds, blob_at,
              blobs, rehashed) -> bytes:
    """The leaf of one entry looked at alone, noting into `part` what it finds."""
    kind, subject_table, subject_id, case_id, logged = r[1], r[2], r[3], r[4], r[5]
    if kind not in tables or r[_E] is None:
        part.damages.append(Damage(seq, f"entry {seq}: {kind} {subject_id} is missing from "
                                   f"{subject_table}"))
        part.tainted.add(case_id)
        part.observed.append((seq, kind, False, None))
        return logged
    leaf = leaf_of(r, tables[kind], logged)
    if leaf != logged:
        part.damages.append(Damage(seq, f"entry {seq}: {kind} {subject_id} differs "
                                   "from what was logged"))
        part.tainted.add(case_id)
        part.observed.append((seq, kind, False, dict(zip(names_of[kind], r, strict=True))))
    elif seen_kinds is None or kind in seen_kinds:
        part.observed.append((seq, kind, True, dict(zip(names_of[kind], r, strict=True))))
    if kind in blob_at and r[blob_at[kind]]:
        sha = r[blob_at[kind]]
        if sha not in rehashed:
            rehashed[sha] = _blob_problem(blobs, sha)
        if rehashed[sha]:
            part.damages.append(Damage(seq, f"entry {seq}: blob of {kind} {subject_id} "
                                            f"{rehashed[sha]}"))
    return leaf


def verify(session: Session, signer: CheckpointSigner, blobs=None, batch: int = 5000,
           progress: Progress | None = None, workers: int | None = None) -> VerifyReport:
    """Recompute every leaf from the live rows (and blobs), the tree, every checkpoint and
    timestamp, and every projection; `progress(done, total)` is called after each batch.

    On PostgreSQL `workers` > 1 processes (0: one per CPU, from parallel.PARALLEL_MIN entries
    on; what `flask ledger verify` does by default) recompute the leaves reading the same
    snapshot, each a stretch of the log and the table blocks that hold its rows, read as they
    lie; the tree, stored hashes, checkpoints and projections are checked here, in log order.
    The default is this process alone."""
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
    projections = [make() for make in PROJECTIONS]  # fed intact leaves only
    tainted: set[str | None] = set()
    # Rows are passed to the projections only for the kinds they read (all when unsaid).
    seen_kinds: set[str] | None = set()
    for projection in projections:
        kinds = getattr(projection, "kinds", None)
        seen_kinds = None if kinds is None or seen_kinds is None else seen_kinds | set(kinds)
    from core.ledger import parallel

    parts = parallel.scan(session, hasher, blobs, seen_kinds, batch, head_size, workers) \
        or _scan(session, hasher, blobs, seen_kinds, batch)
    expected_seq = 0
    reference = 0
    try:
        for part in parts:
            damages += part.damages
            tainted |= part.tainted
            reference += part.reference
            for seq, kind, intact, row in part.observed:
                view = _RowView(row) if row is not None else None
                for projection in projections:
                    if intact:
                        projection.observe(kind, seq, view)
                    elif hasattr(projection, "observe_damaged"):
                        projection.observe_damaged(kind, seq, view)
            seqs, joined = part.seqs, part.leaves
            # The numbers rise (merged in log order), so the stretch has no gap when its ends are
            # as far apart as its length; else name each gap.
            if seqs and (seqs[0] != expected_seq or seqs[-1] - seqs[0] != len(seqs) - 1):
                for seq in seqs:
                    if seq != expected_seq:
                        damages.append(Damage(expected_seq, f"entry {expected_seq} is missing: "
                                              f"the log jumps to {seq}"))
                        expected_seq = seq
                    expected_seq += 1
            else:
                expected_seq += len(seqs)
            leaves = [joined[i:i + 32] for i in range(0, len(joined), 32)]
            start = tree.size
            # Cut the stretch at every checkpoint size inside it: the root there is wanted.
            for cut in sorted(n for n in wanted_roots if start < n <= start + len(leaves)):
                stored.expect(tree.extend(leaves[tree.size - start:cut - start]))
                roots[cut] = tree.root()
            stored.expect(tree.extend(leaves[tree.size - start:]))
            if progress is not None:
                progress(tree.size, max(head_size, tree.size))
        size = tree.size
        stored_damages = stored.finish(merkle.stored_hash_count(size))
    finally:
        # Close the streams now, not when collected: each PostgreSQL stream's fetching thread
        # then closes its cursor while this transaction is still the connection's.
        stored.close()
        getattr(parts, "close", lambda: None)()
    if head_size != size:
        damages.append(Damage(None, f"the log head says {head_size} entries, {size} were found"))
    damages += stored_damages
    for projection in projections:
        damages += projection.check(session, tainted)
    damages += _check_checkpoints(checkpoints, signer, suite, size, roots)
    for check in CHECKPOINT_CHECKS:
        damages += check(session, checkpoints, roots)
    stamped = session.execute(select(func.count()).select_from(LedgerTimestamp)
                              .where(LedgerTimestamp.token.is_not(None))).scalar_one()
    return VerifyReport(size, len(checkpoints), damages, stamped, reference)


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
    """The ledger_hashes table read in index order, compared in chunks with the hashes the
    tree produces.

    On PostgreSQL each chunk arrives as one value: the stored hashes of its index range
    concatenated in index order, with their count and shortest and longest lengths (decoding
    two rows per entry cost the verifying process more than building the tree). All present
    and all of the hash's length, equal bytes mean equal hashes one by one; otherwise the
    range is read row by row to name the first gap, as elsewhere."""

    CHUNK = 20_000
    _AGG = ("SELECT count(*), min(length(hash)), max(length(hash)), "
            "string_agg(hash, ''::bytea ORDER BY idx) FROM ledger_hashes "
            "WHERE idx >= %(lo)s AND idx < %(hi)s")

    def __init__(self, session: Session, batch: int):
        t = LedgerHash.__table__
        self._session = session
        self._whole = session.get_bind().dialect.name == "postgresql"
        self._rows = (_rows(session, select(t.c.idx, t.c.hash).order_by(t.c.idx), batch * 2)
                      if not self._whole else None)
        self._pending: list[bytes] = []
        self._next = 0
        self.problem: str | None = None

    def _range(self, lo: int, hi: int, size: int) -> list[tuple]:
        """The stored (idx, hash) rows lo <= idx < hi in index order; one (None, all of them
        joined) when they are all there and each `size` bytes long (see the class)."""
        dbapi = self._session.connection().connection.dbapi_connection
        with dbapi.cursor(binary=True) as cur:
            count, short, long_, joined = cur.execute(self._AGG, {"lo": lo, "hi": hi}).fetchone()
            if count == hi - lo and short == long_ == size:
                return [(None, bytes(joined))]
            cur.execute("SELECT idx, hash FROM ledger_hashes WHERE idx >= %(lo)s "
                        "AND idx < %(hi)s ORDER BY idx", {"lo": lo, "hi": hi})
            return cur.fetchall()

    def expect(self, hashes: list[bytes]) -> None:
        """The next stored hashes must be these (checked a chunk at a time)."""
        self._pending += hashes
        if len(self._pending) >= self.CHUNK:
            self._compare()

    def _compare(self) -> None:
        pending, self._pending = self._pending, []
        if self.problem is not None or not pending:
            return
        first = self._next
        if self._whole:
            stored = self._range(first, first + len(pending), len(pending[0]))
            if stored and stored[0][0] is None:  # all there, each of the hash's length
                if stored[0][1] != b"".join(pending):
                    self.problem = "stored tree hashes differ from the recomputed tree"
                else:
                    self._next += len(pending)
                return
        else:
            stored = list(itertools.islice(self._rows, len(pending)))
        if len(stored) < len(pending) or stored[-1][0] != first + len(pending) - 1 \
                or (stored and stored[0][0] != first):
            for i, row in enumerate(stored):  # name the first gap
                if row[0] != first + i:
                    break
            else:
                i = len(stored)
            self.problem = f"stored hash {first + i} is missing"
            return
        if [bytes(h) for _, h in stored] != pending:
            self.problem = "stored tree hashes differ from the recomputed tree"
            return
        self._next += len(pending)

    def close(self) -> None:
        """Stop reading (the stream's cursor is closed)."""
        if self._rows is not None:
            self._rows.close()

    def finish(self, count: int) -> list[Damage]:
        """Damages found (the count is what a log of this size must have stored)."""
        self._compare()
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
