"""Database engine, session factory and the column types the models share."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import weakref
from datetime import UTC

from sqlalchemy import JSON, DateTime, Engine, MetaData, String, create_engine, event
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.types import TypeDecorator

ID = String(32)  # uuid4 hex: ids are not guessable and carry no order

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with stable constraint names for Alembic."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict: JSON, list: JSON}


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime stored as UTC (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: legal times must carry a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Execution option of a session's connection that only reads (core.bootstrap Container.uow).
READ_ONLY = "quancheng_read_only"


def refuse_writes(session, _flush_context, _instances) -> None:
    """A read-only unit of work that tries to write is a bug: refuse before any SQL runs."""
    raise RuntimeError("a read-only unit of work may not write")


class _WriteQueue:
    """This process's writers of one SQLite file, one at a time. Only an order of waiting:
    SQLite's own lock still decides who writes, so a queue held by a connection that holds
    no transaction any more (dropped without COMMIT or ROLLBACK) is taken over, not waited
    on, and past WRITE_QUEUE_WAIT_S a writer goes to SQLite's waiting as before."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: weakref.ref | None = None

    def take(self, conn: _WriterConnection) -> None:
        """Wait for this process's writer before ``conn`` to end."""
        waited = 0.0
        while not self._lock.acquire(timeout=STALE_CHECK_S):
            waited += STALE_CHECK_S
            if not self._holding() or waited >= WRITE_QUEUE_WAIT_S:
                break  # taken over: whoever releases the lock, it is released once
        self._holder = weakref.ref(conn)

    def _holding(self) -> bool:
        holder = self._holder() if self._holder is not None else None
        try:
            return holder is not None and holder.in_transaction
        except sqlite3.ProgrammingError:  # closed
            return False

    def give_back(self, conn: _WriterConnection) -> None:
        """``conn`` has committed or rolled back: the next writer may begin."""
        if self._holder is not None and self._holder() is conn:
            self._holder = None
            with contextlib.suppress(RuntimeError):  # taken over and released meanwhile
                self._lock.release()


_QUEUES: dict[str, _WriteQueue] = {}
_QUEUES_GUARD = threading.Lock()
STALE_CHECK_S = 1.0
WRITE_QUEUE_WAIT_S = 30.0  # as busy_timeout


def _queue(url: str) -> _WriteQueue:
    with _QUEUES_GUARD:
        return _QUEUES.setdefault(url, _WriteQueue())


class _WriterConnection(sqlite3.Connection):
    """A SQLite connection whose write transactions queue, within this process, before BEGIN
    IMMEDIATE (_WriteQueue), and let the next writer in once COMMIT or ROLLBACK has run, so it
    starts at once. Queued on SQLite's lock alone, waiters sleep in SQLite's busy handler in
    growing steps (up to 100 ms) while the lock stands idle: with four concurrent uploads a
    third of each request went there. Other processes still queue on SQLite's lock."""

    write_queue: _WriteQueue | None = None

    def take_write_lock(self) -> None:
        """Wait for this process's other writers."""
        if self.write_queue is not None:
            self.write_queue.take(self)

    def give_back_write_lock(self) -> None:
        """Let the next writer of this process in (no-op when not this connection's turn)."""
        if self.write_queue is not None:
            self.write_queue.give_back(self)

    def commit(self) -> None:
        """COMMIT, then let the next writer in."""
        try:
            super().commit()
        finally:
            self.give_back_write_lock()

    def rollback(self) -> None:
        """ROLLBACK, then let the next writer in."""
        try:
            super().rollback()
        finally:
            self.give_back_write_lock()

    def close(self) -> None:
        """Close (SQLite rolls back what is open), then let the next writer in."""
        try:
            super().close()
        finally:
            self.give_back_write_lock()


def make_engine(url: str) -> Engine:
    """Create the engine; SQLite gets WAL, synchronous=FULL and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False,
                                                  "factory": _WriterConnection})
        queue = _queue(url)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn, _record):
            if isinstance(conn, _WriterConnection):
                conn.write_queue = queue
            conn.isolation_level = None  # let SQLAlchemy's BEGIN below control transactions
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # IMMEDIATE takes the write lock up front, so two writers queue instead of
            # failing with "database is locked" when a reader upgrades. A transaction opened
            # read-only (refuse_writes) never upgrades, so it need not wait for the writers.
            read_only = conn.get_execution_options().get(READ_ONLY)
            raw = None if read_only else conn.connection.dbapi_connection
            if isinstance(raw, _WriterConnection):
                raw.take_write_lock()
            try:
                conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
            except BaseException:
                if isinstance(raw, _WriterConnection):
                    raw.give_back_write_lock()
                raise

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def make_session_factory(engine: Engine) -> sessionmaker:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
