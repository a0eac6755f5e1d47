"""The 送达回证 as rq jobs on a real `python -m worker` and real Redis (issue 12, finding 2):
the web side enqueues after the signature's commit; the worker draws the PDF (its signature
images through its own parser pool); the web process draws nothing."""

from __future__ import annotations

import redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import select

from core.cases.models import Evidence
from core.evidence import receipt_tasks
from core.evidence.models import MediaTask
from tests.worker.support import REDIS_URL, start_worker, stop_group, wait_for, worker_env
from tests.workflow.flow import Flow
from worker.config import WorkerConfig
from worker.cron import receipt_enqueuer


def _receipts(container, record_id: str) -> list[bool]:
    with container.uow() as uow:
        return sorted(e.meta["final"] for e in uow.session.execute(select(Evidence).where(
            Evidence.record_id == record_id, Evidence.method == "generated")).scalars())


def test_worker_draws_the_receipts_enqueued_by_the_web(client, container, people, clock,
                                                      settings, queue_name, tmp_path):
    """A23.1: the service record and its completing signature each enqueue one job after
    their commit; the worker process makes the draft and the final receipt."""
    container.receipt_hooks.append(receipt_enqueuer(REDIS_URL, WorkerConfig(queue=queue_name)))
    flow = Flow(client, people, container, clock)
    case = flow.filed()
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")
    notice = flow.done(case, "rights_notice")
    service = flow.record(case, "service_direct", officers=[flow.officer["id"]],
                          document_id=notice["id"])
    flow.sign(case, service, "server", officer_id=flow.officer["id"])
    flow.sign(case, service, "recipient")
    queue = Queue(f"{queue_name}-media", connection=redis.Redis.from_url(REDIS_URL),
                  serializer=JSONSerializer)
    assert queue.count == 2 and _receipts(container, service["id"]) == []
    log = tmp_path / "worker.log"
    proc = start_worker(worker_env(settings, WORKER_QUEUE=queue_name), log)
    try:
        wait_for(lambda: _receipts(container, service["id"]) == [False, True], 90,
                 interval=0.3, what=f"the receipts\n{log.read_text(errors='replace')[-3000:]}")
    finally:
        assert stop_group(proc) == 0
    with container.uow() as uow:
        assert {t.kind: t.status for t in uow.session.execute(select(MediaTask).where(
            MediaTask.record_id == service["id"])).scalars()} == {
            receipt_tasks.DRAFT: "done", receipt_tasks.FINAL: "done"}
