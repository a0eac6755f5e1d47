"""Dossier builds off the request path: an rq job when REDIS_URL is set, else a thread of the
web process (the embedded default). The job takes the job id only."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from core.archive import builds

log = logging.getLogger("quancheng.dossier")
_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()
TIMEOUT = 6 * 3600  # a 1 GB case file takes minutes; the cap only stops a stuck job


def build(job_id: str) -> dict:
    """The rq job: run one dossier build in the worker's runtime."""
    from .runtime import runtime

    job = builds.run_build(runtime().container, job_id)
    return {"status": job.status, "dossier_id": job.dossier_id}


def _run_inline(container, job_id: str) -> None:
    try:
        builds.run_build(container, job_id)
    except Exception:  # the job row says failed, with the error; the thread must not die loud
        log.exception("dossier build %s failed", job_id)


def submit(container, job_id: str):
    """Queue a build: rq when the container has Redis, the in-process pool otherwise."""
    global _pool
    if container.settings.redis_url:
        from redis import Redis
        from rq import Queue
        from rq.serializers import JSONSerializer

        from .config import WorkerConfig

        queue = Queue(WorkerConfig.from_env().queue,
                      connection=Redis.from_url(container.settings.redis_url),
                      serializer=JSONSerializer)
        return queue.enqueue(build, job_id, job_timeout=TIMEOUT,
                             description=f"dossier build {job_id}")
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dossier")
    return _pool.submit(_run_inline, container, job_id)
