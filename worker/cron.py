"""The sweep clock: enqueues a sweep every SWEEP_INTERVAL_SECONDS with rq.cron's CronJob.

It keeps its schedule in memory, not in Redis, so a Redis that restarts empty gets its next
sweep on time; Redis errors are logged and retried, never fatal. rq's own CronScheduler
enqueues with the pickle serializer, hence the JSON subclass and this small loop.
"""

from __future__ import annotations

import logging
import threading

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.cron import CronJob
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.utils import now

from core import queues

from .config import WorkerConfig

log = logging.getLogger("quancheng.cron")


def sweep_queue_name(config: WorkerConfig) -> str:
    """The sweeps' queue (core.queues.sweep_queue_name)."""
    return queues.sweep_queue_name(config.queue)


def media_queue_name(config: WorkerConfig) -> str:
    """The thumbnails' queue (core.queues.media_queue_name)."""
    return queues.media_queue_name(config.queue)


class JSONCronJob(CronJob):
    """A cron job enqueued with the JSON serializer (never pickle)."""

    def enqueue(self, connection: Redis) -> Job:
        """Enqueue the function on its queue."""
        queue = Queue(self.queue_name, connection=connection, serializer=JSONSerializer)
        return queue.enqueue(self.func, args=self.args, kwargs=self.kwargs, **self.job_options)


class SweepClock(threading.Thread):
    """A daemon thread that enqueues a sweep on time unless one is already waiting."""

    def __init__(self, redis_url: str, config: WorkerConfig):
        super().__init__(name="sweep-clock", daemon=True)
        from .jobs import sweep

        self.redis = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        self.queue = Queue(sweep_queue_name(config), connection=self.redis,
                           serializer=JSONSerializer)
        self.job = JSONCronJob(queue_name=self.queue.name, func=sweep,
                               interval=config.sweep_interval, job_timeout=300,
                               result_ttl=600, failure_ttl=7 * 24 * 3600)
        self.stopping = threading.Event()
        self.enqueued = 0

    def tick(self) -> bool:
        """Enqueue a sweep if one is due and none is waiting; True when one was enqueued."""
        if not self.job.should_run():
            return False
        if self.queue.count == 0:
            self.job.enqueue(self.redis)
            self.enqueued += 1
        self.job.set_enqueue_time(now())
        return True

    def run(self) -> None:
        """Tick until stopped; Redis being away only delays the next sweep."""
        while not self.stopping.is_set():
            try:
                self.tick()
                wait = (self.job.next_enqueue_time - now()).total_seconds() \
                    if self.job.next_enqueue_time else 1.0
            except RedisError as exc:
                log.warning("cannot enqueue the sweep (%s); trying again", type(exc).__name__)
                wait = 2.0
            self.stopping.wait(min(max(wait, 0.05), self.job.interval or 60))

    def stop(self) -> None:
        """Stop after the current tick."""
        self.stopping.set()



def sweep_nudger(redis_url: str, config: WorkerConfig):
    """core.queues.sweep_nudger on this worker configuration's queues."""
    return queues.sweep_nudger(redis_url, config.queue)


def media_enqueuer(redis_url: str, config: WorkerConfig):
    """core.queues.media_enqueuer on this worker configuration's queues."""
    return queues.media_enqueuer(redis_url, config.queue)


def receipt_enqueuer(redis_url: str, config: WorkerConfig):
    """core.queues.receipt_enqueuer on this worker configuration's queues."""
    return queues.receipt_enqueuer(redis_url, config.queue)
