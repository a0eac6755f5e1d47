"""Fixtures of the evidence tests: a case with a GCJ-02 site opened through the API."""

from __future__ import annotations

import pytest

from core.evidence import intake as evidence
from tests.helpers import open_case


@pytest.fixture
def case(client, people) -> dict:
    """A penalty case whose site is given in GCJ-02 (tests.helpers.open_case)."""
    return open_case(client, people["officer"])


@pytest.fixture(autouse=True)
def _previews_done(request):
    """No preview thread may outlive its test's database: wait before the engine is disposed
    (asking for the container here makes this fixture's teardown run first)."""
    if "container" in request.fixturenames:
        request.getfixturevalue("container")
    yield
    assert evidence.wait_for_previews(30), "a preview job did not finish"
