"""Fixtures of the afterlife tests."""

from __future__ import annotations

import pytest

from tests.archive.support import metrics_data_set
from tests.workflow.flow import Flow


@pytest.fixture
def flow(client, people, container, clock) -> Flow:
    """A driver of cases through the HTTP API with the demo people."""
    return Flow(client, people, container, clock)


@pytest.fixture
def metrics_data(flow, container, people, clock) -> dict:
    """The A36.1 data set of tests.archive.support.metrics_data_set."""
    return metrics_data_set(flow, container, people, clock)
