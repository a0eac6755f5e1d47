"""The OpenAPI document is the truth for a phone app: a schemathesis run against the served app
with a seeded case finds no server error, no undocumented status code, no wrong content type and
no body that breaks its schema; every operation is exercised with a valid token (issue 15). A few
examples per operation here; bench/api_fuzz.py runs many."""

from __future__ import annotations

import pytest

from tests.support import fuzz

EXAMPLES = 6


@pytest.fixture
def served(app):
    """The app on a 127.0.0.1 port."""
    server = fuzz.Served(app)
    yield server.url
    server.close()


def test_fuzzed_requests_meet_the_document(served, people):
    """0 server errors, 0 undocumented statuses, 0 response schema violations."""
    ids = fuzz.seed_case(served, people)
    report = fuzz.run(served, people["officer"]["token"], ids, examples=EXAMPLES)
    assert report.failures == []
    assert report.server_errors == 0
    # Every documented operation was called at least once with the officer's token.
    assert len(report.requests) == report.operations >= 50
