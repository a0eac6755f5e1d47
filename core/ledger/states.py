"""The ledger's record of mutable tables: who may do what (officers, roles, certificates,
tokens), every deadline and reminder, the working-day calendar.

Unlike the case record, these rows change. A package registers such a table with
:func:`mirror`; from then on every insert, update and delete of its rows made through a
session is written, in the same transaction, as a :class:`LedgerState` row — the event
("officer.roles_changed", "token.revoked", "deadline.closed", ...) and the full state of each
row after it — and that row is appended to the log as a leaf. Capturing at the session, not in
each service, means a new code path that changes an officer cannot forget to ledger it.

``ledger verify`` rebuilds every mirrored table from the intact state leaves, in log order, and
compares it with the live rows, column by column (:class:`MirrorProjection`). A live row that
was changed, added or removed behind the services' back is reported by table, row and column.

Working columns (a reminder's claim time, a token's last use) are left out of the state; a
table may also map working values onto the ledgered one (a claimed reminder is still pending).
Bulk ``update()`` statements bypass the session's unit of work: mirrored tables must be
changed through ORM objects (verify reports any change that was not).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from core.kernel.clock import utcnow
from core.kernel.ids import new_id
from core.ledger.log import append, append_many, cover
from core.ledger.models import LedgerState
from core.platform.db import Base

# (table, op, changed columns, object) -> event name, e.g. "officer.roles_changed".
EventNamer = Callable[[str, frozenset[str], object], str]
Normaliser = Callable[[dict], dict]

_PENDING = "ledger_states_pending"
_FLUSHES = "ledger_states_flushes"
ACTOR = "ledger_actor"


@dataclass(frozen=True)
class Mirror:
    """A mutable table the ledger follows."""

    model: type[Base]
    noun: str
    namer: EventNamer | None = None
    working: frozenset[str] = field(default_factory=frozenset)
    normalise: Normaliser | None = None

    @property
    def table(self) -> str:
        """The table name."""
        return self.model.__tablename__

    def columns(self) -> list[tuple[str, str]]:
        """(column name, ORM attribute key) of every ledgered column."""
        mapper = inspect(self.model)
        return [(c.name, mapper.get_property_by_column(c).key)
                for c in self.model.__table__.columns if c.name not in self.working]

    def key_columns(self) -> list[str]:
        """The primary key's column names."""
        return [c.name for c in self.model.__table__.primary_key.columns]

    def event_name(self, op: str, changed: frozenset[str], obj) -> str:
        """The event's name: the package's namer, else noun.created/changed/deleted."""
        if self.namer is not None:
            return self.namer(op, changed, obj)[:64]
        return f"{self.noun}.{op}"


MIRRORED: dict[str, Mirror] = {}


def mirror(model: type[Base], noun: str, *, namer: EventNamer | None = None,
           working: Sequence[str] = (), normalise: Normaliser | None = None) -> None:
    """Follow a mutable table: each change becomes a ledgered state event (idempotent)."""
    MIRRORED[model.__tablename__] = Mirror(model, noun, namer, frozenset(working), normalise)


def json_value(value):
    """A column value as it is kept in a state: datetimes as UTC ISO 8601, dates as ISO."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a ledgered state")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def row_key(m: Mirror, get: Callable[[str], object]) -> str:
    """The row's primary key as text (parts joined by '/')."""
    return "/".join(str(get(c)) for c in m.key_columns())


def object_state(m: Mirror, obj) -> dict:
    """The ledgered columns of an ORM object."""
    return {name: json_value(getattr(obj, key)) for name, key in m.columns()}


def live_state(m: Mirror, row) -> dict:
    """The ledgered columns of a Core row, normalised as the table asks."""
    mapping = row._mapping
    state = {name: json_value(mapping[name]) for name, _ in m.columns()}
    return m.normalise(state) if m.normalise else state


def ledgered_state(m: Mirror, state: dict) -> dict:
    """A state as logged, normalised the same way as live rows."""
    return m.normalise(dict(state)) if m.normalise else state


# --- capture -----------------------------------------------------------------------------


def _changed(obj, m: Mirror) -> frozenset[str]:
    state = inspect(obj)
    mapper = state.mapper
    out = set()
    for c in m.model.__table__.columns:
        if c.name in m.working:
            continue
        key = mapper.get_property_by_column(c).key
        if state.attrs[key].history.has_changes():
            out.add(c.name)
    return frozenset(out)


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _ctx) -> None:
    """Note each mirrored row the flush wrote (states are taken now: later flushes may
    change the object again, and each change is its own event)."""
    if not MIRRORED:
        return
    flush_no = session.info[_FLUSHES] = session.info.get(_FLUSHES, 0) + 1
    # The innermost transaction: a savepoint rolled back later takes its changes with it.
    tx = session.get_nested_transaction() or session.get_transaction()
    found: list[tuple] = []
    for op, objects in (("created", session.new), ("changed", session.dirty),
                        ("deleted", session.deleted)):
        for obj in objects:
            m = MIRRORED.get(getattr(obj, "__tablename__", ""))
            if m is None:
                continue
            changed = frozenset()
            if op == "changed":
                changed = _changed(obj, m)
                if not changed:
                    continue  # only working columns moved
            key = row_key(m, lambda c, o=obj, m=m: getattr(o, _attr(m, c)))
            state = None if op == "deleted" else object_state(m, obj)
            found.append((flush_no, m.table, m.event_name(op, changed, obj), key, state,
                          tx))
    if found:
        session.info.setdefault(_PENDING, []).extend(found)


def _attr(m: Mirror, column: str) -> str:
    return inspect(m.model).get_property_by_column(m.model.__table__.c[column]).key


@event.listens_for(Session, "before_commit")
def _write(session: Session) -> None:
    """Write the noted changes as state rows and append each to the log, before commit."""
    if not MIRRORED:
        return
    session.flush()  # what is still unflushed is noted too
    while session.info.get(_PENDING):
        pending = session.info.pop(_PENDING)
        # One batch: the head is locked once and the leaves hashed without a flush each.
        states = [_state(session, table, name, rows) for (_, table, name), rows in
                  _groups(pending)]
        append_many(session, [("state", st, None) for st in states])


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction) -> None:
    """What a rolled-back transaction or savepoint (and its savepoints) flushed is not
    ledgered: it never happened."""
    pending = session.info.get(_PENDING)
    if not pending:
        return

    def inside(tx) -> bool:
        while tx is not None:
            if tx is previous_transaction:
                return True
            tx = tx.parent
        return False

    session.info[_PENDING] = [p for p in pending if not inside(p[5])]


def _groups(pending: list[tuple]) -> Iterable[tuple[tuple, list[dict]]]:
    """Consecutive changes of one flush, table and event share one state row."""
    current, rows = None, []
    for flush_no, table, name, key, state, _tx in pending:
        if (flush_no, table, name) != current:
            if rows:
                yield current, rows
            current, rows = (flush_no, table, name), []
        rows.append({"key": key, "state": state})
    if rows:
        yield current, rows


def _state(session: Session, table: str, event_name: str, rows: list[dict]) -> LedgerState:
    """A state event row, added to the session (not yet appended)."""
    actor = session.info.get(ACTOR)
    st = LedgerState(id=new_id(), table_name=table, event=event_name, rows=rows,
                     actor=str(actor)[:100] if actor else None, at=utcnow())
    session.add(st)
    return st


def write_state(session: Session, table: str, event_name: str, rows: list[dict]) -> LedgerState:
    """Write one state event and append it to the log (in the caller's transaction)."""
    st = _state(session, table, event_name, rows)
    append(session, "state", st)
    return st


def acting(session: Session, who: str | None) -> None:
    """Name who makes the following changes in this session (an officer id, a CLI label)."""
    if who:
        session.info[ACTOR] = who
    else:
        session.info.pop(ACTOR, None)


def adopt_unledgered(session: Session, tables: Iterable[str] | None = None) -> dict[str, int]:
    """Ledger, as "<noun>.adopted", every live row of a mirrored table that has no state yet:
    run once after upgrading a database whose people and deadlines predate this ledgering."""
    known: dict[str, set[str]] = {}
    for table_name, rows in session.execute(select(LedgerState.table_name, LedgerState.rows)):
        keys = known.setdefault(table_name, set())
        for r in rows:
            keys.add(r["key"])
    out = {}
    for table in tables or list(MIRRORED):
        m = MIRRORED[table]
        fresh = []
        for row in session.execute(select(m.model.__table__)):
            key = row_key(m, lambda c, r=row: r._mapping[c])
            if key not in known.get(table, set()):
                mapping = row._mapping
                fresh.append({"key": key, "state": {n: json_value(mapping[n])
                                                    for n, _ in m.columns()}})
        for start in range(0, len(fresh), 500):
            write_state(session, table, f"{m.noun}.adopted", fresh[start:start + 500])
        out[table] = len(fresh)
    return out


cover("state", LedgerState)
