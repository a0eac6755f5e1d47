"""Recomputing a large log's leaves in several processes (issue 13: verify at scale).

On PostgreSQL the verifying transaction exports its snapshot; each worker process imports it
(REPEATABLE READ, SET TRANSACTION SNAPSHOT), so every process reads exactly the same database
state, and recomputes the leaves of one stretch of the log at a time. The parent receives the
stretches in log order and does everything that needs the whole log — the tree, the stored
hashes, checkpoints, projections — so the result is the same as a single-process verify.
Serialising and hashing (not the database) bound verify's speed, hence processes, not threads.
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

PARALLEL_MIN = 200_000  # below this, starting processes costs more than it saves
CHUNK = 50_000  # entries per task: bounded memory in flight, enough work per round trip
_SNAPSHOT = re.compile(r"^[0-9A-Fa-f]+-[0-9A-Fa-f]+-[0-9]+$")

_worker: dict = {}


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
    ranges = [(lo, lo + chunk) for lo in range(0, size, chunk)]
    ranges.append((ranges[-1][1] if ranges else 0, None))  # anything past the head, too
    # The worker registers the same covered tables by importing the modules that define them
    # (the ledger itself knows none of them).
    modules = sorted({c.model.__module__ for c in COVERED.values()})
    return _run(url, snapshot, hasher.name, blobs, seen_kinds, batch, ranges, workers, modules)


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


def _chunk(rng: tuple[int, int | None]):
    """Recompute entries lo <= seq < hi in the exported snapshot; one Scanned."""
    from core.ledger.verify import Scanned, _scan

    lo, hi = rng
    w = _worker
    with Session(w["engine"]) as session, session.begin():
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        session.execute(text(f"SET TRANSACTION SNAPSHOT '{w['snapshot']}'"))
        out = Scanned([], b"", [], set(), [])
        leaves = []
        for part in _scan(session, w["hasher"], w["blobs"], w["seen_kinds"], w["batch"], lo, hi):
            out.seqs += part.seqs
            leaves.append(part.leaves)
            out.damages += part.damages
            out.tainted |= part.tainted
            out.observed += part.observed
            out.reference += part.reference
        out.leaves = b"".join(leaves)
    return out
