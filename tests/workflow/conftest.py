"""Fixtures of the workflow tests: a movable clock and a Flow driving cases through the API."""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest

import core.platform.db
from tests.workflow.flow import Flow


class Clock:
    """The system's "now", moved forward by the test to let legal periods run out."""

    def __init__(self, real):
        self.real = real
        self.offset = timedelta(0)

    def now(self):
        """The shifted current time (aware, UTC)."""
        return self.real() + self.offset

    def advance(self, **delta) -> None:
        """Let time pass (days=…, hours=…)."""
        self.offset += timedelta(**delta)

    def set(self, when) -> None:
        """Put the clock at an aware moment (time then runs on from there)."""
        self.offset = when - self.real()

    def iso(self, **delta) -> str:
        """The shifted time plus delta as ISO 8601 with offset."""
        return (self.now() + timedelta(**delta)).isoformat()


@pytest.fixture
def clock(app, monkeypatch) -> Clock:
    """Replace utcnow in every loaded core/api/worker module by a clock the test moves."""
    real = core.kernel.clock.utcnow
    c = Clock(real)
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in ("core", "api", "worker", "notifications", "bot") \
                and getattr(module, "utcnow", None) is real:
            monkeypatch.setattr(module, "utcnow", c.now)
    return c


@pytest.fixture
def flow(client, people, container, clock) -> Flow:
    """A driver of cases through the HTTP API with the demo people."""
    return Flow(client, people, container, clock)
