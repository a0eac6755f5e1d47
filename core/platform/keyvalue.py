"""Small working state kept in the database, by namespace and key: the bot's dialogs (what an
officer has answered so far, which question comes next), so that any process can take the
next message of a dialog and a restart loses nothing.

Values are JSON with tags for the few Python types JSON lacks (tuple, set, datetime, date,
bytes); anything else is refused when written, never pickled.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, Text, delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.kernel.clock import utcnow
from core.platform.db import Base, UTCDateTime

MAX_KEY = 200


class KeyValue(Base):
    """One value under (namespace, key)."""

    __tablename__ = "kv_entries"
    namespace: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def _tag(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return {"__dict__": [[_tag(k), _tag(v)] for k, v in value.items()]}
        return {k: _tag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tag(v) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [_tag(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"__set__": [_tag(v) for v in sorted(value, key=repr)]}
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, date):
        return {"__date__": value.isoformat()}
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode()}
    raise TypeError(f"{type(value).__name__} cannot be kept as dialog state (JSON values, "
                    f"tuples, sets, dates and bytes can)")


def _untag(obj: dict) -> Any:
    if len(obj) == 1:
        (name, inner), = obj.items()
        if name == "__tuple__":
            return tuple(inner)
        if name == "__set__":
            return set(inner)
        if name == "__datetime__":
            return datetime.fromisoformat(inner)
        if name == "__date__":
            return date.fromisoformat(inner)
        if name == "__bytes__":
            return base64.b64decode(inner)
        if name == "__dict__":
            return {(tuple(k) if isinstance(k, list) else k): v for k, v in inner}
    return obj


def dumps(value: Any) -> str:
    """A value as tagged JSON text."""
    return json.dumps(_tag(value), ensure_ascii=False, sort_keys=True, allow_nan=False)


def loads(text: str) -> Any:
    """Tagged JSON text back as the value."""
    return json.loads(text, object_hook=_untag)


def get(session: Session, namespace: str, key: str) -> Any | None:
    """The value under a key, or None."""
    text = session.execute(select(KeyValue.value).where(
        KeyValue.namespace == namespace, KeyValue.key == key)).scalar_one_or_none()
    return None if text is None else loads(text)


def get_many(session: Session, namespace: str, keys: Iterable[str] | None = None
             ) -> dict[str, Any]:
    """Every value of a namespace (or those of the given keys), by key."""
    query = select(KeyValue.key, KeyValue.value).where(KeyValue.namespace == namespace)
    if keys is not None:
        query = query.where(KeyValue.key.in_(list(keys)))
    return {k: loads(v) for k, v in session.execute(query)}


def get_pairs(session: Session, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The values of several (namespace, key) pairs in one query; absent pairs are left out."""
    pairs = list(pairs)
    if not pairs:
        return {}
    rows = session.execute(select(KeyValue.namespace, KeyValue.key, KeyValue.value).where(
        tuple_(KeyValue.namespace, KeyValue.key).in_(pairs)))
    return {(ns, k): loads(v) for ns, k, v in rows}


def put(session: Session, namespace: str, key: str, value: Any) -> None:
    """Write a value (insert or replace: the newest answer of a dialog wins)."""
    if len(key) > MAX_KEY:
        raise ValueError(f"key longer than {MAX_KEY} characters")
    row = {"namespace": namespace, "key": key, "value": dumps(value), "updated_at": utcnow()}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(KeyValue).values(**row)
    session.execute(statement.on_conflict_do_update(
        index_elements=[KeyValue.namespace, KeyValue.key],
        set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at}))


def drop(session: Session, namespace: str, key: str) -> None:
    """Remove a key (nothing happens when it is absent)."""
    session.execute(delete(KeyValue).where(KeyValue.namespace == namespace,
                                           KeyValue.key == key))


def claim(session: Session, namespace: str, key: str, value: Any = True) -> bool:
    """Write a key only if it is absent; True for the one caller that wrote it (an atomic
    "first one wins", e.g. a Telegram update re-delivered while the first is still handled)."""
    if len(key) > MAX_KEY:
        raise ValueError(f"key longer than {MAX_KEY} characters")
    row = {"namespace": namespace, "key": key, "value": dumps(value), "updated_at": utcnow()}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # RETURNING, not rowcount: the drivers do not agree on rowcount for an upsert.
    won = session.execute(insert(KeyValue).values(**row).on_conflict_do_nothing(
        index_elements=[KeyValue.namespace, KeyValue.key]).returning(KeyValue.key))
    return won.scalar_one_or_none() is not None


def prune(session: Session, namespace: str, before: datetime) -> int:
    """Remove a namespace's keys written before a time (working state past its use)."""
    result = session.execute(delete(KeyValue).where(KeyValue.namespace == namespace,
                                                    KeyValue.updated_at < before))
    return result.rowcount or 0
