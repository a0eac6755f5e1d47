"""The sweep and the rq jobs in this process: reminders claimed once and expanded, messages
queued and delivered, jobs stored as JSON, retries scheduled by rq."""

from __future__ import annotations

import json
import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import redis
from rq.registry import ScheduledJobRegistry
from rq.serializers import JSONSerializer

from core.notices.models import OutboxMessage
from notifications.base import DeliveryError
from notifications.config import NotifyConfig
from tests.helpers import open_case
from tests.notifications.test_outbox import Recorder
from tests.worker.support import (
    REDIS_URL,
    add_due_reminders,
    outbox_rows,
    reminder_statuses,
)
from worker import jobs, runtime
from worker.__main__ import QuanchengWorker
from worker.config import WorkerConfig
from worker.cron import SweepClock, sweep_queue_name
from worker.inprocess import InprocessWorker
from worker.sweep import run_sweep

NOTIFY = NotifyConfig(max_attempts=3, backoff_base_seconds=30, lease_seconds=60)
WORKER = WorkerConfig(sweep_limit=2)  # small batches, so the loop over batches is exercised


def mine(container, reminder_ids) -> list[OutboxMessage]:
    """The outbox rows expanded from the given reminders."""
    return [r for r in outbox_rows(container) if r.reminder_id in set(reminder_ids)]


def test_sweep_claims_each_due_reminder_once(client, container, people):
    """Due reminders become outbox messages in the same transaction; the future one waits;
    a second sweep finds nothing new (messages are leased, reminders done)."""
    case = open_case(client, people["officer"])
    due = add_due_reminders(container, case["id"], 5)
    later = add_due_reminders(container, case["id"], 1, due_in=timedelta(hours=2))
    first = run_sweep(container, NOTIFY, WORKER)
    assert first.reminders >= 5
    assert reminder_statuses(container, due) == {"done": 5}
    assert reminder_statuses(container, later) == {"pending": 1}
    rows = mine(container, due)
    assert len(rows) == 5  # one supervisor, Socket.IO to the department room
    assert {r.recipient for r in rows} == {people["department"]["id"]}
    assert {r.id for r in rows} <= set(first.outbox_ids)
    assert {r.status for r in rows} == {"queued"}
    second = run_sweep(container, NOTIFY, WORKER)
    assert second.reminders == 0 and second.outbox_ids == []


def test_a_sweep_behind_a_backlog_expands_but_does_not_queue(client, container, people):
    """While the queue still drains, the sweep claims reminders but leaves messages pending."""
    case = open_case(client, people["officer"])
    due = add_due_reminders(container, case["id"], 2)
    result = run_sweep(container, NOTIFY, WORKER, pick_outbox=False)
    assert result.outbox_ids == [] and {r.status for r in mine(container, due)} == {"pending"}


def test_a_reminder_that_cannot_be_expanded_does_not_block_the_rest(client, container, people,
                                                                    monkeypatch):
    """One bad reminder is marked failed and logged; the others go out."""
    import worker.sweep as sweep_module

    case = open_case(client, people["officer"])
    ids = add_due_reminders(container, case["id"], 3)
    real = sweep_module.expand_reminder

    def expand(session, reminder_id, **kw):
        if reminder_id == ids[1]:
            raise ValueError("bad data")
        return real(session, reminder_id, **kw)

    real_batch = sweep_module.expand_reminders

    def expand_batch(session, reminder_ids, **kw):
        if ids[1] in reminder_ids:
            raise ValueError("bad data")
        return real_batch(session, reminder_ids, **kw)

    monkeypatch.setattr(sweep_module, "expand_reminder", expand)
    monkeypatch.setattr(sweep_module, "expand_reminders", expand_batch)
    result = run_sweep(container, NOTIFY, WORKER)
    assert result.failed_reminders == [ids[1]]
    assert reminder_statuses(container, ids) == {"done": 2, "failed": 1}


def test_inprocess_worker_delivers_what_the_sweep_found(client, container, people):
    """Embedded defaults: one thread sweeps and delivers inline."""
    case = open_case(client, people["officer"])
    due = add_due_reminders(container, case["id"], 3)
    channel = Recorder()
    channel.name = "socketio"
    InprocessWorker(container, {"socketio": channel}, NOTIFY, WORKER).run_once()
    rows = mine(container, due)
    assert {r.status for r in rows} == {"sent"}
    assert sorted(channel.sent) == sorted(r.idempotency_key for r in rows)


@pytest.fixture
def rq_runtime(container, monkeypatch, queue_name):
    """The worker runtime over the test container and a queue of the test's own."""
    connection = redis.Redis.from_url(REDIS_URL)
    channel = Recorder()
    channel.name = "socketio"
    config = WorkerConfig(queue=queue_name)
    rt = runtime.Runtime(container, NOTIFY, config, {"socketio": channel}, connection,
                         runtime.make_queue(connection, config))
    monkeypatch.setattr(runtime, "_runtime", rt)
    return rt


def test_rq_worker_runs_sweep_and_deliveries_as_json_jobs(client, container, people,
                                                          rq_runtime):
    """A real rq worker (burst) runs the sweep job, which enqueues JSON deliver jobs."""
    case = open_case(client, people["officer"])
    due = add_due_reminders(container, case["id"], 3)
    clock = SweepClock(REDIS_URL, replace(rq_runtime.config, sweep_interval=60))
    assert clock.tick() is True and clock.tick() is False  # not due again within the minute
    [sweep_id] = clock.queue.job_ids
    raw = zlib.decompress(rq_runtime.redis.hget(f"rq:job:{sweep_id}", "data"))
    assert json.loads(raw)[0] == "worker.jobs.sweep"  # JSON, not a pickle

    queues = [sweep_queue_name(rq_runtime.config), rq_runtime.config.queue]
    QuanchengWorker(queues, connection=rq_runtime.redis, serializer=JSONSerializer).work(
        burst=True)
    rows = mine(container, due)
    assert {r.status for r in rows} == {"sent"}
    assert sorted(rq_runtime.channels["socketio"].sent) == sorted(r.idempotency_key
                                                                  for r in rows)


def test_a_failed_delivery_is_retried_by_rq_with_backoff(container, rq_runtime):
    """The job records the failure, then raises so rq schedules the retry (30 s here)."""
    from tests.notifications.test_outbox import add_message

    outbox_id = add_message(container, channel="socketio", recipient="room")
    rq_runtime.channels["socketio"].error = DeliveryError("no listener", retryable=True)
    jobs.enqueue_deliveries(rq_runtime, [outbox_id])
    [job_id] = rq_runtime.queue.job_ids
    QuanchengWorker([rq_runtime.queue.name], connection=rq_runtime.redis,
                    serializer=JSONSerializer).work(burst=True)
    scheduled = ScheduledJobRegistry(queue=rq_runtime.queue)
    assert job_id in scheduled.get_job_ids()
    job = rq_runtime.queue.fetch_job(job_id)
    assert job.retries_left == NOTIFY.max_attempts - 2
    assert job.retry_intervals == NOTIFY.retry_intervals() == [30, 120]
    with container.uow() as uow:
        row = uow.session.get(OutboxMessage, outbox_id)
    assert row.status == "pending" and row.attempts == 1


def test_sweep_signs_a_scheduled_checkpoint_when_the_log_grew(client, container, people):
    """A37.1: the ledger gets a signed checkpoint on a schedule, not only on stage changes."""
    from core import ledger
    from worker.sweep import CHECKPOINT_EVERY, housekeep

    open_case(client, people["officer"])
    now = datetime.now(UTC)
    housekeep(container, now)
    with container.uow() as uow:
        first = ledger.latest_checkpoint(uow.session)
        assert first.reason == "scheduled"
        assert first.tree_size == ledger.current_size(uow.session)
    open_case(client, people["officer"])
    housekeep(container, now)  # within the hour: no new checkpoint
    with container.uow() as uow:
        assert ledger.latest_checkpoint(uow.session).id == first.id
    housekeep(container, now + CHECKPOINT_EVERY + timedelta(seconds=1))
    with container.uow() as uow:
        newer = ledger.latest_checkpoint(uow.session)
        assert newer.id != first.id and newer.tree_size > first.tree_size
