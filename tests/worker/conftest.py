"""Fixtures of the worker tests: a Redis queue of their own."""

from __future__ import annotations

import uuid

import pytest
import redis

from tests.worker.support import REDIS_URL, redis_ping


@pytest.fixture
def queue_name():
    """A queue name no other test run shares (several runs may share this Redis); its keys
    are deleted afterwards. Nothing is flushed: that would take other runs' jobs."""
    if not redis_ping():
        pytest.fail("Redis is not running on 127.0.0.1:6379")
    name = f"qc-test-{uuid.uuid4().hex[:10]}"
    yield name
    if redis_ping():
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"*{name}*", count=1000))
        if keys:
            client.delete(*keys)
