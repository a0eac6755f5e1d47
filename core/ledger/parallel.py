"""Recomputing a large log's leaves in several processes (issue 13: verify at scale).

On PostgreSQL the verifying transaction exports its snapshot; each worker process imports it
(REPEATABLE READ, SET TRANSACTION SNAPSHOT), so every process reads exactly the same database
state, and recomputes the leaves of one stretch of the log at a time. A stretch is read like
the whole log (rowjoin: entries by index range, rows as they lie, matched by id): its rows are
the covered tables' heap blocks from its first entry's row to the next stretch's (a TID range
scan; a row elsewhere is looked up by id), so every process's reads stay sequential. The
parent receives the stretches in log order (leaf hashes, damages, what projections read) and
does everything that needs the whole log — the tree, the stored hashes, checkpoints,
projections — so the result is the same as a single-process verify. Serialising and hashing
(not the database) bound verify's speed, hence processes, not threads.
"""

from __future__ import annotations

import importlib
import os
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.ledger import merkle
from core.ledger.log import COVERED

# Below this, starting the processes costs about what they save (2 CPUs, measured with
# a script whose workers import little, as flask's: at 200,000 entries 1.9-2.0 s in one
# process and 1.9-2.1 s with two workers; at 1,000,000 8.9 s against 5.7 s).
PARALLEL_MIN = 500_000
CHUNK = 50_000  # entries per task: bounded memory in flight, enough work per round trip
_SNAPSHOT = re.compile(r"^[0-9A-Fa-f]+-[0-9A-Fa-f]+-[0-9]+$")

_worker: dict = {}
_BLOCK_SQL = ("SELECT (SELECT (t.ctid::text::point)[0]::bigint FROM ledger_entries e JOIN {table} "
              "t ON t.id = e.subject_id WHERE e.kind = %(kind)s AND e.seq >= u.b ORDER BY e.seq "
              "LIMIT 1) FROM unnest(%(starts)s::bigint[]) WITH ORDINALITY AS u(b, i) "
              "ORDER BY u.i")


def scan(session: Session, hasher: merkle.Hasher, blobs, seen_kinds, batch: int,
         size: int, workers: int | None) -> Iterator | None:
    """The log's stretches recomputed by worker processes, in order; None when this database
    or log size does not call for it (the caller then scans in-process)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return None
    if workers == 0:  # one per CPU, for a log large enough to repay starting them
        workers = os.cpu_count() or 1
        if size < PARALLEL_MIN:
            return None
    if workers is None or workers <= 1:
        return None
    snapshot = session.execute(text("SELECT pg_export_snapshot()")).scalar_one()
    url = bind.url.render_as_string(hide_password=False)
    chunk = max(batch, min(CHUNK, -(-size // workers) or CHUNK))
    starts = list(range(0, size, chunk)) or [0]
    blocks = _blocks(session, starts[1:])
    present = _present(session, starts)
    ranges = []
    for i, lo in enumerate(starts):
        hi = starts[i + 1] if i + 1 < len(starts) else None  # the last: past the head, too
        # A kind with no entry in the stretch is not read at all (no cursors, no threads).
        ranges.append((lo, hi, {kind: _slice(b, i) for kind, b in blocks.items()
                                if present[kind][i] is not None
                                and (hi is None or present[kind][i] < hi)}))
    # The worker registers the same covered tables by importing the modules that define them
    # (the ledger itself knows none of them).
    modules = sorted({c.model.__module__ for c in COVERED.values()})
    return _run(url, snapshot, hasher.name, blobs, seen_kinds, batch, ranges, workers, modules)


def _blocks(session: Session, starts: list[int]) -> dict[str, list[int | None]]:
    """For each covered table, the heap block holding the row of the first entry of that kind
    at or after each of `starts` (rows are inserted with their entries, so a stretch's rows lie
    between its first row's block and the next stretch's); made never to decrease, None when
    no later entry has a row. A row elsewhere (moved by an update) is looked up by id."""
    out = {}
    for kind, coverage in COVERED.items():
        t = coverage.model.__table__.name
        # The table's name is a model's (code), not input; the values are parameters.
        sql = _BLOCK_SQL.replace("{table}", t)
        found = _column(session, sql, {"kind": kind, "starts": starts})
        rising: list[int | None] = []
        top = 0
        for b in found:
            if b is None or (rising and rising[-1] is None):
                rising.append(None)
            else:
                top = max(top, int(b))
                rising.append(top)
        out[kind] = rising
    return out


def _present(session: Session, starts: list[int]) -> dict[str, list[int | None]]:
    """For each covered kind, the number of its first entry at or after each of `starts`
    (None: none), whether or not its row exists."""
    return {kind: _column(session, "SELECT (SELECT min(e.seq) FROM ledger_entries e WHERE "
                          "e.kind = %(kind)s AND e.seq >= u.b) FROM unnest(%(starts)s::bigint[]) "
                          "WITH ORDINALITY AS u(b, i) ORDER BY u.i",
                          {"kind": kind, "starts": starts}) for kind in COVERED}


def _column(session: Session, sql: str, params: dict) -> list:
    """The first column of a query's rows, planned for its own parameters each time: a plan
    made for no kind in particular (a prepared statement's generic plan) walks the whole log
    for a rare kind (seconds, measured: 8 s at 1,000,000 entries)."""
    dbapi = session.connection().connection.dbapi_connection
    with dbapi.cursor() as cur:
        return [r[0] for r in cur.execute(sql, params, prepare=False).fetchall()]


def _slice(bounds: list[int | None], i: int) -> tuple[int, int | None]:
    """Stretch i's heap blocks (first, end; None: to the table's end) from the blocks of the
    stretches' first rows; the block of the next stretch's first row is read by both (it may
    hold this stretch's last rows too)."""
    first = bounds[i - 1] if i else 0
    if first is None:  # no later entry has a row: its entries' rows are looked up by id
        return (0, 0)
    end = bounds[i] if i < len(bounds) else None
    return (first, None if end is None else end + 1)


def _run(url, snapshot, hash_name, blobs, seen_kinds, batch, ranges, workers,
         modules) -> Iterator:
    ctx = get_context("spawn")  # no inherited connections or locks
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init,
                             initargs=(url, snapshot, hash_name, blobs, seen_kinds, batch,
                                       modules)) as pool:
        pending: deque = deque()
        todo = iter(ranges)
        for rng in todo:
            pending.append(pool.submit(_chunk, rng))
            if len(pending) >= 2 * workers:
                break
        while pending:
            result = pending.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(_chunk, nxt))
            yield result


def _init(url, snapshot, hash_name, blobs, seen_kinds, batch, modules) -> None:
    """A worker: its own engine, the covered tables registered, what every stretch needs."""
    from core.platform.db import make_engine

    for name in modules:
        importlib.import_module(name)

    if not _SNAPSHOT.match(snapshot):
        raise ValueError(f"unexpected snapshot id {snapshot!r}")
    _worker.update(engine=make_engine(url), snapshot=snapshot,
                   hasher=merkle.hasher_named(hash_name), blobs=blobs, seen_kinds=seen_kinds,
                   batch=batch)


def _chunk(rng: tuple[int, int | None, dict]):
    """Recompute entries lo <= seq < hi, reading the covered rows of the given heap blocks, in
    the exported snapshot; one Scanned (its numbers a range when they have no gap: less to
    send back)."""
    from core.ledger.verify import Scanned, _scan

    lo, hi, blocks = rng
    w = _worker
    with Session(w["engine"]) as session, session.begin():
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        session.execute(text(f"SET TRANSACTION SNAPSHOT '{w['snapshot']}'"))
        out = Scanned([], b"", [], set(), [])
        leaves = []
        for part in _scan(session, w["hasher"], w["blobs"], w["seen_kinds"], w["batch"], lo, hi,
                          blocks):
            out.seqs += part.seqs
            leaves.append(part.leaves)
            out.damages += part.damages
            out.tainted |= part.tainted
            out.observed += part.observed
            out.reference += part.reference
        out.leaves = b"".join(leaves)
    seqs = out.seqs
    if seqs and seqs[-1] - seqs[0] == len(seqs) - 1:
        out.seqs = range(seqs[0], seqs[-1] + 1)
    return out
