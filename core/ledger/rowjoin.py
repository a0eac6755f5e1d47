"""Joining a kind's log entries (in log order) with its covered rows (in the table's physical
order) in the verifying process, with bounded memory (issue 13: verify at scale).

Rows are inserted in the transaction that appends their entry, so a table read in physical
order is nearly in log order. Instead of asking the database to join and sort (a hash join and
a sort of every wide row: seconds of server time before the first row arrives), verify reads
both streams as they lie and matches each entry with its row by id in a bounded buffer. A row
that is not found nearby (out of order, named by two entries, missing, or pushed out of the
buffer) is looked up by id in the same transaction, so the result is exactly the join's:
entry + row, or entry + Nones when no row has that id.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator

WINDOW = 20_000  # rows read ahead for one batch of entries, and kept at most twice that


def window_join(entries: Iterable[list], rows: Iterable[list], lookup: Callable[[list], dict],
                key_at: int, id_at: int, window: int = WINDOW, buffered: dict | None = None
                ) -> Iterator[tuple[list, list]]:
    """For each batch of `entries` (tuples whose item `key_at` names a row id), the batch and
    the list of its rows from `rows` (batches of tuples, the id at `id_at`), None where no row
    has that id. `lookup(ids)` gives {id: row} for the ids not matched nearby; `buffered`
    (empty) holds the rows read and not yet matched, at most twice `window` between batches."""
    buffered = {} if buffered is None else buffered
    pop = buffered.pop
    read: deque = deque()  # the ids of each batch of rows buffered, oldest first
    source = iter(rows)
    more = True
    seen = taken = 0  # entries matched so far, rows read so far

    def take() -> bool:
        nonlocal more, taken
        got = next(source, None) if more else None
        if not got:
            more = False
            return False
        ids = [r[id_at] for r in got]
        buffered.update(zip(ids, got, strict=True))
        read.append(ids)
        taken += len(got)
        return True

    try:
        for batch in entries:
            seen += len(batch)
            # In log order the rows are as many as the entries so far: read that far first.
            while taken < seen and take():
                pass
            found = [pop(e[key_at], None) for e in batch]
            if None in found:
                misses = [i for i, r in enumerate(found) if r is None]
                budget = taken + window
                while misses and taken < budget and take():
                    still = []
                    for i in misses:
                        if (r := pop(batch[i][key_at], None)) is None:
                            still.append(i)
                        else:
                            found[i] = r
                    misses = still
                if misses:
                    # Far out of order, a second entry for one row, or no such row: by id.
                    extra = lookup(list({batch[i][key_at] for i in misses}))
                    for i in misses:
                        found[i] = extra.get(batch[i][key_at])
            while len(buffered) > 2 * window and read:  # rows nobody asked for lately
                for key in read.popleft():
                    pop(key, None)
            yield batch, found
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()  # the rows' stream stops (its cursor closes) when the entries end
