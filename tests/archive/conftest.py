"""Fixtures of the afterlife tests."""

from __future__ import annotations

import pytest

from tests.workflow.flow import Flow


@pytest.fixture
def flow(client, people, container, clock) -> Flow:
    """A driver of cases through the HTTP API with the demo people."""
    return Flow(client, people, container, clock)
