"""A37.1 (issue 13): verify's in-process join of a kind's entries (log order) with its rows (the
table's physical order) gives exactly what the SQL outer join gives, whatever the order of the
rows, with rows missing, named twice or never named, and keeps a bounded buffer."""

from __future__ import annotations

import random

import pytest

from core.ledger import rowjoin


def _batches(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _join(entries, rows, window, batch=7):
    table = {r[0]: r for r in rows}
    asked: list[int] = []

    def lookup(ids):
        asked.append(len(ids))
        return {i: table[i] for i in ids if i in table}

    out = []
    for es, found in rowjoin.window_join(iter(_batches(entries, batch)),
                                         iter(_batches(rows, batch)), lookup, key_at=1,
                                         id_at=0, window=window):
        assert len(es) == len(found)
        out += list(zip(es, found, strict=True))
    return out, asked


@pytest.mark.parametrize("disorder", ["in order", "near", "shuffled", "reversed"])
def test_same_as_the_outer_join(disorder):
    """Every entry gets the row with its id, or None; the lookups only serve what the window
    did not reach."""
    rng = random.Random(13)
    rows = [(f"r{i}", f"value {i}") for i in range(300)]
    entries = [(seq, f"r{seq}") for seq in range(300)]
    entries[40] = (40, "r41")  # a second entry for one row
    entries[90] = (90, "gone")  # a row that does not exist
    del rows[150]  # a row deleted after its entry was logged
    rows += [(f"junk{i}", "never logged") for i in range(30)]
    if disorder == "near":
        for i in range(0, len(rows) - 3, 3):
            rows[i], rows[i + 2] = rows[i + 2], rows[i]
    elif disorder == "shuffled":
        rng.shuffle(rows)
    elif disorder == "reversed":
        rows.reverse()
    table = {r[0]: r for r in rows}
    got, asked = _join(entries, rows, window=20)
    assert got == [(e, table.get(e[1])) for e in entries]
    if disorder == "in order":
        assert sum(asked) == 3  # only r41 the second time, "gone" and the deleted r150


def test_the_buffer_stays_bounded():
    """Rows nobody names are dropped once more than two windows are buffered, and an entry
    whose row is missing reads at most a window ahead before it is looked up."""
    rows = [(f"junk{i}", None) for i in range(1000)] + [("r0", "x")]
    entries = [(s, "r0" if s == 0 else f"missing{s}") for s in range(200)]
    buffered: dict = {}
    sizes, asked = [], []

    def lookup(ids):
        asked.append(len(ids))
        return {"r0": ("r0", "x")} if "r0" in ids else {}

    got = []
    for es, found in rowjoin.window_join(iter(_batches(entries, 7)), iter(_batches(rows, 7)),
                                         lookup, key_at=1, id_at=0, window=30,
                                         buffered=buffered):
        sizes.append(len(buffered))
        got += list(zip(es, found, strict=True))
    assert got[0] == ((0, "r0"), ("r0", "x")) and all(r is None for _, r in got[1:])
    assert max(sizes) <= 60 and sum(asked) == 200
