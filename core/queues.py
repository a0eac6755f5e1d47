"""The rq queues that work goes to after a commit, when REDIS_URL is set.

Every process that records things installs the same hooks on its container — the web
processes and the bot's polling process (`python -m bot`) alike — so a photo sent to the bot
gets its thumbnail job (and a signed service record its 送达回证 job) whichever way the update
arrived, and queued messages go out at once.
Jobs are named by their import path in the worker package (rq stores only that name), so the
fronts need not import the worker. The database rows stay the truth: a hook that fails loses
nothing, the sweep enqueues the work again (core.evidence.media).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping

from core.bootstrap import Container
from core.evidence import media

DEFAULT_QUEUE = "quancheng"
SWEEP_JOB = "worker.jobs.sweep"
MEDIA_JOB = "worker.jobs.media"
RECEIPT_JOB = "worker.jobs.receipt"
SHEETS_JOB = "worker.jobs.sheets"
RESULT_TTL = 600  # results are for monitoring only; the database keeps the truth
FAILURE_TTL = 7 * 24 * 3600


def queue_base(env: Mapping[str, str] | None = None) -> str:
    """The queue name of WORKER_QUEUE (default quancheng); the others are named after it."""
    env = os.environ if env is None else env
    return env.get("WORKER_QUEUE", "").strip() or DEFAULT_QUEUE


def sweep_queue_name(base: str) -> str:
    """Sweeps have their own queue, listened to first, so a long delivery backlog cannot
    hold back the next sweep."""
    return f"{base}-sweep"


def media_queue_name(base: str) -> str:
    """Thumbnails have their own queue, listened to last: at 17:30 a thousand of them must not
    hold back a reminder's delivery."""
    return f"{base}-media"


def _queue(redis_url: str, name: str):
    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    redis = Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    return Queue(name, connection=redis, serializer=JSONSerializer)  # ids only, never pickles


def enqueue_media(queue, evidence_ids: Iterable[str], func=MEDIA_JOB) -> int:
    """Enqueue one media job per item in one round trip, with rq's retries; return how many."""
    from rq import Queue, Retry

    retry = Retry(max=media.MAX_ATTEMPTS - 1, interval=list(media.RETRY_INTERVALS))
    timeout = int(media.RUN_LEASE.total_seconds())
    jobs = [Queue.prepare_data(func, args=(str(i),), retry=retry, timeout=timeout,
                               result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL,
                               description=f"thumbnail of evidence {i}")
            for i in evidence_ids]
    if jobs:
        queue.enqueue_many(jobs)
    return len(jobs)


def enqueue_receipts(queue, owed: Iterable[tuple[str, str]], func=RECEIPT_JOB) -> int:
    """Enqueue one 送达回证 job per (record id, kind) in one round trip, with rq's retries."""
    from rq import Queue, Retry

    retry = Retry(max=media.MAX_ATTEMPTS - 1, interval=list(media.RETRY_INTERVALS))
    timeout = int(media.RUN_LEASE.total_seconds())
    jobs = [Queue.prepare_data(func, args=(str(r), str(k)), retry=retry, timeout=timeout,
                               result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL,
                               description=f"送达回证 ({k}) of record {r}")
            for r, k in owed]
    if jobs:
        queue.enqueue_many(jobs)
    return len(jobs)


def enqueue_sheets(queue, case_ids: Iterable[str], func=SHEETS_JOB) -> int:
    """Enqueue one sheet pre-rendering job per case (core.dossier.prerender); no retries: a
    job lost or failed only leaves the build more to lay out."""
    from rq import Queue

    jobs = [Queue.prepare_data(func, args=(str(c),), timeout=int(media.RUN_LEASE.total_seconds()),
                               result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL,
                               description=f"case-file sheets of case {c}")
            for c in case_ids]
    if jobs:
        queue.enqueue_many(jobs)
    return len(jobs)


def sheet_enqueuer(redis_url: str, base: str) -> Callable[[list[str]], None]:
    """A function that enqueues the sheet jobs of cases a commit changed, on the media queue."""
    queue = _queue(redis_url, media_queue_name(base))

    def enqueue(case_ids: list[str]) -> None:
        enqueue_sheets(queue, case_ids)

    return enqueue


def sweep_nudger(redis_url: str, base: str) -> Callable[[], None]:
    """A function that enqueues a sweep now unless one is already waiting: called after a
    commit that queued outbox messages (an approval request), so they go out in seconds
    instead of at the next minute's sweep."""
    queue = _queue(redis_url, sweep_queue_name(base))

    def nudge() -> None:
        if queue.count == 0:
            queue.enqueue(SWEEP_JOB, job_timeout=300, result_ttl=RESULT_TTL,
                          failure_ttl=FAILURE_TTL)

    return nudge


def media_enqueuer(redis_url: str, base: str) -> Callable[[list[str]], None]:
    """A function that enqueues the media jobs of evidence ids just recorded."""
    queue = _queue(redis_url, media_queue_name(base))

    def enqueue(evidence_ids: list[str]) -> None:
        enqueue_media(queue, evidence_ids)

    return enqueue


def receipt_enqueuer(redis_url: str, base: str) -> Callable[[list[tuple[str, str]]], None]:
    """A function that enqueues the 送达回证 jobs owed by a commit (record id, kind), on the
    media queue."""
    queue = _queue(redis_url, media_queue_name(base))

    def enqueue(owed: list[tuple[str, str]]) -> None:
        enqueue_receipts(queue, owed)

    return enqueue


def install_queue_hooks(container: Container, base: str | None = None) -> bool:
    """Give the container the rq hooks (prompt sweeps, thumbnail and 送达回证 jobs) when
    REDIS_URL is set;
    True when it did. Without Redis the in-process worker of the web process sweeps."""
    redis_url = container.settings.redis_url
    if not redis_url:
        return False
    base = base or queue_base()
    container.outbox_hooks.append(sweep_nudger(redis_url, base))
    container.media_hooks.append(media_enqueuer(redis_url, base))
    container.receipt_hooks.append(receipt_enqueuer(redis_url, base))
    container.sheet_hooks.append(sheet_enqueuer(redis_url, base))
    return True
