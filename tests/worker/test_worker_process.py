"""Real worker processes on real Redis: kill -9 at random points while delivering, and a
Redis that shuts down without saving. The database is the truth: nothing is lost, and a
kill costs at most one duplicate."""

from __future__ import annotations

import random
import subprocess
import time
from collections import Counter

import pytest
import redis
from rq import Queue

from tests.helpers import open_case
from tests.worker.support import (
    REDIS_CMD,
    REDIS_URL,
    LiveSubscriber,
    WebhookReceiver,
    add_due_reminders,
    add_webhook_messages,
    kill_group,
    outbox_rows,
    redis_ping,
    reminder_statuses,
    start_worker,
    stop_group,
    wait_for,
    worker_env,
)

KILLS = 20
SEED = 20261008


def open_rows(container) -> int:
    """Messages not yet sent."""
    return sum(1 for r in outbox_rows(container) if r.status != "sent")


def all_delivered(container, reminder_ids) -> bool:
    """Every reminder expanded and every message sent."""
    return (reminder_statuses(container, reminder_ids) == {"done": len(reminder_ids)}
            and open_rows(container) == 0)


def received(sms: WebhookReceiver, live: LiveSubscriber) -> Counter:
    """Deliveries seen by the two receivers, by idempotency key. Redis pub/sub channels span
    databases, so another test run's events may show up too: ours have unique keys."""
    return sms.counts + live.counts


def only(counts: Counter, keys: set[str]) -> Counter:
    """The counts of our own keys."""
    return Counter({k: n for k, n in counts.items() if k in keys})


def log_tail(path, n: int = 60) -> str:
    """The end of the worker's log, for a failing assertion."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:]) if path.exists() else ""


@pytest.mark.slow
def test_kill_9_during_delivery_loses_nothing(client, container, people, settings, queue_name,
                                              tmp_path):
    """20 times: start `python -m worker`, let it deliver, kill -9 its process group at a
    random moment. Then one worker finishes: every reminder expanded, every message sent,
    at most one duplicate per kill."""
    rng = random.Random(SEED)
    case = open_case(client, people["officer"])
    reminder_ids, log = [], tmp_path / "worker.log"
    with WebhookReceiver(delay=(0.0, 0.02)) as sms, LiveSubscriber() as live:
        env = worker_env(settings, SMS_WEBHOOK_URL=sms.url, WORKER_QUEUE=queue_name)
        for kill in range(KILLS):
            if open_rows(container) < 30:  # keep work in flight so every kill lands mid-delivery
                reminder_ids += add_due_reminders(container, case["id"], 5)
                add_webhook_messages(container, 40, f"kill{kill}")
            before = sum(received(sms, live).values())
            proc = start_worker(env, log)
            try:
                wait_for(lambda b=before: sum(received(sms, live).values()) > b, 30,
                         what=f"worker {kill} to deliver\n{log_tail(log)}")
                time.sleep(rng.uniform(0.0, 0.4))
            finally:
                kill_group(proc)
        proc = start_worker(env, log)
        try:
            wait_for(lambda: all_delivered(container, reminder_ids), 120, interval=0.5,
                     what=f"every message to be sent\n{log_tail(log)}")
        finally:
            assert stop_group(proc) == 0, log_tail(log)
        counts = received(sms, live)
    rows = outbox_rows(container)
    keys = {r.idempotency_key for r in rows}
    counts = only(counts, keys)
    duplicates = sum(n - 1 for n in counts.values())
    assert {r.status for r in rows} == {"sent"}
    assert set(counts) == keys  # everything arrived
    assert duplicates <= KILLS, f"{duplicates} duplicates for {KILLS} kills"
    assert sms.bad_signatures == 0
    assert len(reminder_ids) >= 5 and len(rows) >= 45
    print(f"\n{len(rows)} messages, {len(reminder_ids)} reminders, {KILLS} kills, "
          f"{duplicates} duplicates")


@pytest.mark.slow
def test_redis_shutdown_nosave_loses_no_reminder(client, container, people, settings, queue_name,
                                                 tmp_path):
    """Jobs queued in Redis and reminders falling due during the outage: after Redis comes
    back empty, the next sweeps find everything in the database and deliver it."""
    case = open_case(client, people["officer"])
    log = tmp_path / "worker.log"
    with WebhookReceiver(delay=(0.05, 0.1)) as sms, LiveSubscriber() as live:
        proc = start_worker(worker_env(settings, SMS_WEBHOOK_URL=sms.url,
                                       WORKER_QUEUE=queue_name), log)
        try:
            reminder_ids = add_due_reminders(container, case["id"], 10)
            add_webhook_messages(container, 40, "nosave")
            wait_for(lambda: sms.total() >= 3, 30, what=f"first deliveries\n{log_tail(log)}")
            queue = Queue(queue_name, connection=redis.Redis.from_url(REDIS_URL))
            queued_before = queue.count
            try:
                subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "SHUTDOWN",
                                "NOSAVE"], capture_output=True, timeout=10)
                wait_for(lambda: not redis_ping(), 10, what="Redis to stop")
                reminder_ids += add_due_reminders(container, case["id"], 10)  # due meanwhile
                time.sleep(1.0)
            finally:
                subprocess.run(REDIS_CMD, check=True, timeout=30)
                wait_for(redis_ping, 30, what="Redis to answer PING again")
            wait_for(lambda: all_delivered(container, reminder_ids), 90, interval=0.5,
                     what=f"every message after the restart\n{log_tail(log)}")
        finally:
            assert stop_group(proc) == 0, log_tail(log)
        counts = received(sms, live)
    rows = outbox_rows(container)
    counts = only(counts, {r.idempotency_key for r in rows})
    assert queued_before > 0  # Redis really held jobs that SHUTDOWN NOSAVE threw away
    assert {r.status for r in rows} == {"sent"} and set(counts) == {r.idempotency_key
                                                                     for r in rows}
    assert sum(n - 1 for n in counts.values()) == 0
    assert len(rows) == 60
