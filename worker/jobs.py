"""The rq jobs. They take ids only and find everything else in the process's runtime."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from rq import Queue, Retry

from core import queues
from core.dossier import prerender
from core.evidence import media as evidence_media
from core.evidence import receipt_tasks
from notifications import outbox

from .runtime import Runtime, runtime
from .sweep import run_sweep

log = logging.getLogger("quancheng.jobs")

RESULT_TTL, FAILURE_TTL = queues.RESULT_TTL, queues.FAILURE_TTL


class DeliveryDeferred(Exception):
    """Raised after a failed attempt was recorded, so rq's Retry runs the job again."""


def sweep() -> dict:
    """Claim due reminders, expand them, and enqueue a delivery per message due."""
    rt = runtime()
    backlog = rt.queue.count
    result = run_sweep(rt.container, rt.notify, rt.config,
                       pick_outbox=backlog < rt.config.sweep_limit)
    enqueue_deliveries(rt, result.outbox_ids)
    enqueue_media(rt.media_queue or rt.queue, result.media_ids)
    enqueue_receipts(rt.media_queue or rt.queue, result.receipt_ids)
    return {"reminders": result.reminders, "queued": len(result.outbox_ids), "backlog": backlog,
            "failed_reminders": result.failed_reminders, "media": len(result.media_ids),
            "receipts": len(result.receipt_ids)}


def media(evidence_id: str) -> dict:
    """Make the thumbnail of one evidence item (idempotent per item: the media_tasks row is
    claimed first); a failure worth retrying raises so rq's Retry runs the job again."""
    rt = runtime()
    outcome = evidence_media.run_thumbnail(rt.container.uow, str(evidence_id))
    return {"status": outcome.status, "detail": outcome.detail}


def enqueue_media(queue: Queue, evidence_ids: Iterable[str]) -> int:
    """Enqueue one media job per item in one round trip, with rq's retries; return how many
    (the same jobs the web and bot processes enqueue, core.queues)."""
    return queues.enqueue_media(queue, evidence_ids, media)


def receipt(record_id: str, kind: str) -> dict:
    """Make the draft or final 送达回证 of one service record (idempotent: the media_tasks row
    is claimed first); a failure worth retrying raises so rq's Retry runs the job again."""
    rt = runtime()
    outcome = receipt_tasks.run_receipt(rt.container.uow, str(record_id), str(kind))
    return {"status": outcome.status, "detail": outcome.detail}


def enqueue_receipts(queue: Queue, owed: Iterable[tuple[str, str]]) -> int:
    """Enqueue one receipt job per (record id, kind) in one round trip, with rq's retries
    (the same jobs the web and bot processes enqueue, core.queues)."""
    return queues.enqueue_receipts(queue, owed, receipt)


def sheets(case_id: str) -> dict:
    """Lay out the case-file sheets of one case not cached yet (core.dossier.prerender)."""
    rt = runtime()
    done = prerender.prerender_case(rt.container, str(case_id))
    return {"rendered": done.rendered, "reused": done.reused}


def deliver(outbox_id: int) -> dict:
    """Deliver one outbox message; a retryable failure raises so rq retries with backoff."""
    rt = runtime()
    outcome = outbox.deliver(rt.container, int(outbox_id), rt.channels, config=rt.notify)
    if outcome.follow_up:
        enqueue_deliveries(rt, outcome.follow_up)
    if outcome.status == "retry":
        raise DeliveryDeferred(f"outbox {outbox_id}: {outcome.detail}; next attempt at "
                               f"{outcome.retry_at.isoformat() if outcome.retry_at else '?'}")
    return {"status": outcome.status, "detail": outcome.detail}


def enqueue_deliveries(rt: Runtime, outbox_ids: Iterable[int]) -> int:
    """Enqueue one deliver job per id in a single round trip; return how many."""
    retries = rt.notify.max_attempts - 1
    retry = Retry(max=retries, interval=rt.notify.retry_intervals()) if retries else None
    timeout = int(rt.notify.timeout_seconds * 3) + 30
    jobs = [Queue.prepare_data(deliver, args=(int(i),), retry=retry, timeout=timeout,
                               result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL,
                               description=f"deliver outbox {i}")
            for i in outbox_ids]
    if jobs:
        rt.queue.enqueue_many(jobs)
    return len(jobs)
