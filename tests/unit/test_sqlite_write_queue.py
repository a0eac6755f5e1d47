"""SQLite writers of one process queue before BEGIN IMMEDIATE (core.platform.db): every
writer commits, and a turn held by a connection with no transaction is taken over."""

from __future__ import annotations

import threading

from sqlalchemy import text

from core.platform import db
from core.platform.db import make_engine


def _url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/queue.db"


def _engine(tmp_path):
    engine = make_engine(_url(tmp_path))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (writer INTEGER, n INTEGER)"))
    return engine


def test_concurrent_writers_all_commit(tmp_path):
    """Eight threads, fifty write transactions each: every row is there, none is lost."""
    engine = _engine(tmp_path)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            for n in range(50):
                with engine.begin() as conn:
                    conn.execute(text("INSERT INTO t VALUES (:w, :n)"), {"w": writer, "n": n})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*), count(DISTINCT writer) FROM t")).one() == (
            400, 8)
    assert not db._queue(_url(tmp_path))._lock.locked()  # every turn was given back
    engine.dispose()


def test_a_turn_left_without_a_transaction_is_taken_over(tmp_path, monkeypatch):
    """A connection that took its turn and never began (or was dropped) does not keep the
    other writers out (without the take-over they would wait WRITE_QUEUE_WAIT_S, an hour
    here); the queue still works once it is closed."""
    monkeypatch.setattr(db, "WRITE_QUEUE_WAIT_S", 3600.0)
    engine = _engine(tmp_path)
    raw = engine.raw_connection()
    raw.dbapi_connection.take_write_lock()  # its turn, but no BEGIN follows
    done = threading.Event()

    def write(n: int) -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1, :n)"), {"n": n})
        done.set()

    t = threading.Thread(target=write, args=(1,), daemon=True)
    t.start()
    t.join(120)
    assert done.is_set()
    raw.close()
    write(2)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
    engine.dispose()


def test_a_rolled_back_writer_lets_the_next_in(tmp_path):
    """A write transaction that fails and rolls back gives its turn back."""
    engine = _engine(tmp_path)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2, 1)"))
            raise RuntimeError("refused")
    except RuntimeError:
        pass
    assert not db._queue(_url(tmp_path))._lock.locked()  # its turn was given back
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (2, 2)"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t")).scalars().all() == [2]
    engine.dispose()
