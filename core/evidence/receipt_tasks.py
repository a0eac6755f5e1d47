"""The 送达回证 (A23.1) made off the request path (issue 12, finding 2).

Recording a service record, or the signature or refusal that completes one, only records a
``media_tasks`` row (kind receipt_draft or receipt_final, naming the record) in the same
transaction, through the event handler below. After the commit the receipt hooks wake the
in-process worker or enqueue an rq job; the sweep re-enqueues a task whose job was lost. A run
claims the task with a conditional UPDATE, reads the rows, draws the PDF with no transaction
open (signature images decoded in the parser sandbox, core.cases.receipts.drawable), then
stores it in a short transaction. A receipt of the same signatures and refusals already kept
is not made twice, so a job run again, or after a crash, adds nothing. A failure is recorded
on the task and retried; the signature it follows stays committed whatever happens here.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.cases import receipts
from core.cases.models import Evidence, Record
from core.evidence import media
from core.evidence.media import (
    MAX_ATTEMPTS,
    QUEUED_LEASE,
    RETRY_INTERVALS,
    MediaOutcome,
    MediaRetry,
    UowFactory,
)
from core.evidence.models import MediaTask
from core.kernel.clock import utcnow
from core.kernel.ids import new_id
from core.platform.uow import Event, UnitOfWork
from core.rules.catalogue import BY_NAME

log = logging.getLogger("quancheng.receipts")

DRAFT, FINAL = "receipt_draft", "receipt_final"
KINDS = (DRAFT, FINAL)
QUEUED_KEY = "receipts_queued"  # session.info: (record id, kind) of tasks this transaction made
# Where the receipt appears once made: the record's evidence (GET …/records/{id}/status, the
# web desk's case page), as 送达回证-<case number>-<record>.pdf.
WHERE = {"zh": "送达回证正在生成，完成后列入该送达文书的证据"
               "（文书状态及网页端案件页面可查看、下载）",
         "en": "the 送达回证 is being prepared; once made it is listed with the service "
               "record's evidence (the record's status and the web desk's case page)"}


def has_receipt(record_type: str) -> bool:
    """True for the service records that get a 送达回证 (every method but the postal return,
    whose receipt is the post office's)."""
    rtype = BY_NAME.get(record_type)
    return bool(rtype and rtype.service_method and rtype.name != "service_postal_return")


def handle_event(uow: UnitOfWork, event: Event) -> None:
    """Queue the draft receipt when a service record is made, the final one when its last
    signer has signed or refused (in the transaction that raised the event)."""
    parts = event.name.split(".")
    if len(parts) != 3 or parts[0] != "record" or parts[2] not in ("created", "signed_by_all"):
        return
    if has_receipt(parts[1]) and isinstance(event.data.get("record_id"), str):
        queue_receipt(uow.session, event.data["record_id"],
                      FINAL if parts[2] == "signed_by_all" else DRAFT)


def queue_receipt(session: Session, record_id: str, kind: str, *,
                  now: datetime | None = None) -> MediaTask:
    """Record that a record is owed its draft or final receipt; a finished final task is
    made due again when a later signer completes the record again (the new one shows them)."""
    now = now or utcnow()
    task = task_of(session, record_id, kind)
    if task is None:
        try:
            with session.begin_nested():  # a concurrent signer may queue the same task
                task = MediaTask(id=new_id(), evidence_id=None, record_id=record_id,
                                 kind=kind, status="pending", attempts=0,
                                 lease_until=now + QUEUED_LEASE, created_at=now,
                                 updated_at=now)
                session.add(task)
        except IntegrityError:
            task = task_of(session, record_id, kind)
    if task is not None and task.status not in ("pending", "running"):
        task.status, task.attempts, task.last_error = "pending", 0, None
        task.lease_until, task.updated_at = now + QUEUED_LEASE, now
    session.info.setdefault(QUEUED_KEY, []).append((record_id, kind))
    return task


def queued_notice(session: Session, record_id: str) -> dict | None:
    """What to tell the officer when this transaction queued the record's receipt: that it is
    being prepared and where it will appear; None when it queued none."""
    owed = {k for r, k in session.info.get(QUEUED_KEY, []) if r == record_id}
    if not owed:
        return None
    return {"kind": "final" if FINAL in owed else "draft", "status": "pending",
            "message": WHERE["en"], "message_zh": WHERE["zh"]}


def task_of(session: Session, record_id: str, kind: str) -> MediaTask | None:
    """The receipt task of a record, if any."""
    return session.execute(select(MediaTask).where(
        MediaTask.record_id == record_id, MediaTask.kind == kind)).scalar_one_or_none()


def status_of(session: Session, record_id: str) -> dict | None:
    """Where the record's newest receipt work stands, for the API and the bot: pending,
    running, done, failed; with where the receipt appears. None when none was queued."""
    tasks = {t.kind: t for t in session.execute(select(MediaTask).where(
        MediaTask.record_id == record_id, MediaTask.kind.in_(KINDS))).scalars()}
    task = tasks.get(FINAL) or tasks.get(DRAFT)
    if task is None:
        return None
    return {"kind": "final" if task.kind == FINAL else "draft", "status": task.status,
            "attempts": task.attempts, "where": WHERE["en"], "where_zh": WHERE["zh"]}


def due_for_enqueue(session: Session, now: datetime, limit: int) -> list[tuple[str, str]]:
    """(record id, kind) of receipt tasks whose job was lost (queued past their lease, or
    claimed by a run that died), put back to pending with a fresh lease for the sweep."""
    rows = session.execute(
        select(MediaTask.id, MediaTask.record_id, MediaTask.kind)
        .where(MediaTask.kind.in_(KINDS), MediaTask.status.in_(("pending", "running")),
               MediaTask.lease_until <= now)
        .order_by(MediaTask.lease_until).limit(limit).with_for_update(skip_locked=True)).all()
    if rows:
        session.execute(update(MediaTask).where(MediaTask.id.in_([r.id for r in rows]))
                        .values(status="pending", lease_until=now + QUEUED_LEASE, updated_at=now)
                        .execution_options(synchronize_session=False))
    return [(r.record_id, r.kind) for r in rows]


def due_inline(session: Session, now: datetime, limit: int) -> list[tuple[str, str]]:
    """(record id, kind) an in-process worker should run now: new tasks, retries whose wait
    is over, claims that ran out."""
    return [(r.record_id, r.kind) for r in session.execute(
        select(MediaTask.record_id, MediaTask.kind).where(MediaTask.kind.in_(KINDS), or_(
            and_(MediaTask.status == "pending",
                 or_(MediaTask.attempts == 0, MediaTask.lease_until <= now)),
            and_(MediaTask.status == "running", MediaTask.lease_until <= now)))
        .order_by(MediaTask.created_at).limit(limit))]


def _claim(session: Session, record_id: str, kind: str, now: datetime) -> MediaTask | None:
    task = task_of(session, record_id, kind)
    return None if task is None else media.claim(session, task, now)


def _producer(data: receipts.ReceiptInput, final: bool) -> str:
    """Who the receipt is generated for: the officer who recorded the last signature or
    refusal that completed it, else the one who recorded the service."""
    acts = [(s.created_at, s.created_by) for s in data.sigs] + \
        [(r.created_at, r.created_by) for r in data.refusals]
    return max(acts)[1] if final and acts else data.record.created_by


def _kept(session: Session, data: receipts.ReceiptInput, final: bool) -> Evidence | None:
    return next((ev for ev in session.execute(select(Evidence).where(
        Evidence.record_id == data.record.id, Evidence.method == "generated")).scalars()
        if data.same_as(ev, final)), None)


def run_receipt(uow_factory: UowFactory, record_id: str, kind: str, *,
                max_attempts: int = MAX_ATTEMPTS) -> MediaOutcome:
    """Make a record's draft or final receipt once (idempotent). Raises MediaRetry, after
    recording the failure on the task, when another attempt is worth it."""
    if kind not in KINDS:
        return MediaOutcome("skipped", f"not a receipt task: {kind!r}")
    final = kind == FINAL
    with uow_factory() as uow:
        task = _claim(uow.session, record_id, kind, utcnow())
        if task is None:
            return MediaOutcome("busy", "no task to run: finished, or running elsewhere")
        task_id, attempt = task.id, task.attempts
        record = uow.session.get(Record, record_id)
        if record is None or not has_receipt(record.type):
            media.finish(uow.session, task_id, "skipped", "not a service record")
            return MediaOutcome("skipped", "not a service record")
        data = receipts.gather(uow.session, record)
        if _kept(uow.session, data, final) is not None:
            media.finish(uow.session, task_id, "done")
            return MediaOutcome("done", "already kept")
    try:
        # Drawn with no transaction open: the images go through the sandbox and may be slow.
        pdf = receipts.draw(uow, data, final)
        with uow_factory() as uow:
            if _kept(uow.session, data, final) is None:
                receipts.store(uow, _producer(data, final), data, pdf, final)
            media.finish(uow.session, task_id, "done")
        return MediaOutcome("done")
    except Exception as exc:  # noqa: BLE001 - recorded on the task; the signature is safe
        reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        last = attempt >= max_attempts
        with uow_factory() as uow:
            if last:
                media.finish(uow.session, task_id, "failed", reason)
            else:
                now = utcnow()
                wait = timedelta(seconds=RETRY_INTERVALS[min(attempt, len(RETRY_INTERVALS)) - 1])
                uow.session.execute(update(MediaTask).where(MediaTask.id == task_id).values(
                    status="pending", last_error=reason[:300], updated_at=now,
                    lease_until=now + wait).execution_options(synchronize_session=False))
        log.warning("送达回证 of record %s (%s), attempt %d: %s", record_id, kind, attempt, reason)
        if last:
            return MediaOutcome("failed", reason)
        raise MediaRetry(reason) from None


def run_due(uow_factory: UowFactory, *, limit: int = 50) -> list[MediaOutcome]:
    """Run the receipt tasks due now in this thread (the in-process worker, tests, tools)."""
    with uow_factory() as uow:
        due = due_inline(uow.session, utcnow(), limit)
    outcomes = []
    for record_id, kind in due:
        try:
            outcomes.append(run_receipt(uow_factory, record_id, kind))
        except MediaRetry as exc:
            outcomes.append(MediaOutcome("retry", str(exc)))
    return outcomes

