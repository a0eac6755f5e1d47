"""A movable clock for tests: installed with core.kernel.clock.set_clock, so every service
reads it (no module is patched)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta


class Clock:
    """The system's "now", moved forward by the test to let legal periods run out."""

    def __init__(self, real: Callable[[], datetime]):
        self.real = real
        self.offset = timedelta(0)

    def now(self) -> datetime:
        """The shifted current time (aware, UTC)."""
        return self.real() + self.offset

    def advance(self, **delta) -> None:
        """Let time pass (days=…, hours=…)."""
        self.offset += timedelta(**delta)

    def set(self, when: datetime) -> None:
        """Put the clock at an aware moment (time then runs on from there)."""
        self.offset = when - self.real()

    def iso(self, **delta) -> str:
        """The shifted time plus delta as ISO 8601 with offset."""
        return (self.now() + timedelta(**delta)).isoformat()
