"""The clock: the current time from one replaceable source, and aware ISO 8601 parsing.

Every service reads the time through :func:`utcnow`, so a test (or a replay) moves the whole
system's clock with :func:`set_clock` instead of patching each module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


def system_now() -> datetime:
    """The machine's time, timezone-aware, in UTC."""
    return datetime.now(UTC)


_source: Callable[[], datetime] = system_now


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC, from the installed clock."""
    return _source()


def set_clock(source: Callable[[], datetime] | None) -> Callable[[], datetime]:
    """Install a clock (None: the machine's); return the one it replaces."""
    global _source
    previous, _source = _source, source or system_now
    return previous


def parse_aware(value: Any) -> datetime:
    """Parse an ISO 8601 datetime that carries its offset; a naive one is refused."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 datetime string")
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be an ISO 8601 datetime such as 2026-11-26T09:30:00+08:00") from None
    if dt.tzinfo is None:
        raise ValueError("must carry a time zone offset, e.g. +08:00")
    return dt
