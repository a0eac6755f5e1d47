"""Fixtures of the evidence tests: a case with a GCJ-02 site opened through the API."""

from __future__ import annotations

import pytest

from tests.helpers import open_case


@pytest.fixture
def case(client, people) -> dict:
    """A penalty case whose site is given in GCJ-02 (tests.helpers.open_case)."""
    return open_case(client, people["officer"])
