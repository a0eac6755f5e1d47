"""Media work on evidence items (thumbnails of photos and videos), off the request path.

The ``media_tasks`` table is the truth of this work (ARCHITECTURE.md: the database is the
truth): the transaction that records an item also records the task, so a queue that loses a
job loses no thumbnail. After the commit the process's media hooks are told (an rq job is
enqueued, or the in-process worker is woken); the sweep re-enqueues tasks whose job was lost.
A run claims its task with a conditional UPDATE, renders in the sandboxed parser pool with no
transaction open, and stores the thumbnail as a blob of its own; running it twice, or again
after a crash, makes one thumbnail. Originals are only ever read (A37.1).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from capture.sniff import TYPES
from core.cases.models import Evidence
from core.evidence.models import EvidencePreview, MediaTask
from core.kernel.clock import utcnow
from core.kernel.ids import new_id
from core.platform.blobs import BlobStore
from core.platform.uow import UnitOfWork

log = logging.getLogger("quancheng.media")

THUMBNAIL = "thumbnail"
PREVIEW_MAX_PX = 512
MAX_ATTEMPTS = 4
# How long a queued task may wait for its job before the sweep enqueues it again (a Redis that
# restarted empty loses the queue; the sweep leaves tasks alone while the queue holds a backlog
# of SWEEP_LIMIT jobs), and how long a run may hold its claim (the sandbox's limit is 20 s).
QUEUED_LEASE = timedelta(minutes=3)
RUN_LEASE = timedelta(minutes=5)
RETRY_INTERVALS = (10, 60, 300)  # seconds between rq's attempts
QUEUED_KEY = "media_queued"  # session.info: ids of items whose tasks this transaction made

UowFactory = Callable[[], AbstractContextManager[UnitOfWork]]


class MediaRetry(Exception):
    """A run failed for a reason that may pass (recorded on the task): try again later."""


@dataclass(frozen=True)
class MediaOutcome:
    """What one run did: done, skipped (nothing to make), busy (claimed elsewhere or already
    finished), retry or failed; ``detail`` says why."""

    status: str
    detail: str = ""


def thumbnail_type(ev: Evidence) -> str | None:
    """The capture type key of an item we make thumbnails of (images and videos), else None."""
    key = next((t.key for t in TYPES.values() if t.mime == ev.media_type), None)
    if key is None or TYPES[key].family not in ("image", "video"):
        return None
    from capture.preview import THUMBNAIL_TYPES

    return key if key in THUMBNAIL_TYPES else None


def queue_thumbnail(session: Session, ev: Evidence, *, now: datetime | None = None) -> bool:
    """Record that ``ev`` is owed a thumbnail, in the caller's transaction; False for media
    without one. The commit tells the media hooks (core.bootstrap.Container)."""
    if thumbnail_type(ev) is None:
        return False
    now = now or utcnow()
    session.add(MediaTask(id=new_id(), evidence_id=ev.id, kind=THUMBNAIL, status="pending",
                          attempts=0, lease_until=now + QUEUED_LEASE, created_at=now,
                          updated_at=now))
    session.info.setdefault(QUEUED_KEY, []).append(ev.id)
    return True


def task_of(session: Session, evidence_id: str, kind: str = THUMBNAIL) -> MediaTask | None:
    """The task row of an item, if any."""
    return session.execute(select(MediaTask).where(
        MediaTask.evidence_id == evidence_id, MediaTask.kind == kind)).scalar_one_or_none()


def preview_of(session: Session, evidence_id: str) -> EvidencePreview | None:
    """The stored thumbnail row of an item, if made."""
    return session.execute(select(EvidencePreview).where(
        EvidencePreview.evidence_id == evidence_id)).scalar_one_or_none()


def due_for_enqueue(session: Session, now: datetime, limit: int) -> list[str]:
    """Evidence ids whose tasks lost their job (queued past their lease, or claimed by a run
    that died), put back to pending with a fresh lease: the sweep enqueues them again.
    Concurrent sweeps skip each other's rows on PostgreSQL."""
    rows = session.execute(
        select(MediaTask.id, MediaTask.evidence_id)
        .where(MediaTask.kind == THUMBNAIL, MediaTask.status.in_(("pending", "running")),
               MediaTask.lease_until <= now)
        .order_by(MediaTask.lease_until).limit(limit).with_for_update(skip_locked=True)).all()
    if rows:
        session.execute(update(MediaTask).where(MediaTask.id.in_([r.id for r in rows]))
                        .values(status="pending", lease_until=now + QUEUED_LEASE, updated_at=now)
                        .execution_options(synchronize_session=False))
    return [r.evidence_id for r in rows]


def due_inline(session: Session, now: datetime, limit: int) -> list[str]:
    """Evidence ids an in-process worker should run now: new tasks, retries whose wait is
    over, and claims that ran out."""
    return list(session.execute(
        select(MediaTask.evidence_id).where(MediaTask.kind == THUMBNAIL, or_(
            and_(MediaTask.status == "pending",
                 or_(MediaTask.attempts == 0, MediaTask.lease_until <= now)),
            and_(MediaTask.status == "running", MediaTask.lease_until <= now)))
        .order_by(MediaTask.created_at).limit(limit)).scalars())


def _claim(session: Session, evidence_id: str, now: datetime) -> MediaTask | None:
    task = task_of(session, evidence_id)
    if task is None:
        # An item recorded before media tasks existed (or queued by hand): make its task.
        ev = session.get(Evidence, evidence_id)
        if ev is None:
            return None
        try:
            with session.begin_nested():
                queue_thumbnail(session, ev, now=now)
        except IntegrityError:  # another run made it at the same moment
            pass
        session.info.pop(QUEUED_KEY, None)  # this run is the job: nothing to enqueue
        task = task_of(session, evidence_id)
        if task is None:
            return None
    return claim(session, task, now)


def claim(session: Session, task: MediaTask, now: datetime) -> MediaTask | None:
    """Take a pending task, or one whose run died (lease over), with a conditional UPDATE: of
    two runs only one gets it. None when another run has it or it is finished."""
    claimed = session.execute(
        update(MediaTask).where(MediaTask.id == task.id, or_(
            MediaTask.status == "pending",
            and_(MediaTask.status == "running", MediaTask.lease_until <= now)))
        .values(status="running", attempts=MediaTask.attempts + 1, lease_until=now + RUN_LEASE,
                updated_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        return None
    session.refresh(task)
    return task


def finish(session: Session, task_id: str, status: str, error: str | None = None) -> None:
    """Record how a task's run ended (done, skipped, failed), with its error cut short."""
    now = utcnow()
    session.execute(update(MediaTask).where(MediaTask.id == task_id).values(
        status=status, last_error=(error or None) and error[:300], updated_at=now,
        lease_until=now).execution_options(synchronize_session=False))


def run_thumbnail(uow_factory: UowFactory, evidence_id: str, *,
                  max_attempts: int = MAX_ATTEMPTS, max_px: int = PREVIEW_MAX_PX) -> MediaOutcome:
    """Make the thumbnail of one item once (idempotent per item). Raises MediaRetry, after
    recording the failure on the task, when another attempt is worth it."""
    with uow_factory() as uow:
        task = _claim(uow.session, evidence_id, utcnow())
        if task is None:
            return MediaOutcome("busy", "no task to run: finished, or running elsewhere")
        task_id, attempt = task.id, task.attempts
        ev = uow.session.get(Evidence, evidence_id)
        key = thumbnail_type(ev) if ev is not None else None
        shared = key is not None and (preview_of(uow.session, ev.id) is not None or uow.session
                                      .execute(select(EvidencePreview.id).where(
                                          EvidencePreview.original_sha256 == ev.sha256)
                                          .limit(1)).first() is not None)
        if key is None:
            finish(uow.session, task_id, "skipped", "no thumbnail for this media type")
            return MediaOutcome("skipped", "no thumbnail for this media type")
        sha256 = ev.sha256
    try:
        # Rendered with no transaction open: a video's first frame may take seconds.
        rendered = None if shared else _render(uow.blobs, sha256, key, max_px)
        with uow_factory() as uow:
            make_preview(uow, evidence_id, max_px=max_px, rendered=rendered)
            finish(uow.session, task_id, "done")
        return MediaOutcome("done")
    except Exception as exc:  # noqa: BLE001 - recorded on the task; the original is safe
        reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        final = attempt >= max_attempts
        with uow_factory() as uow:
            if final:
                finish(uow.session, task_id, "failed", reason)
            else:
                # Back to pending until the next try; rq's retry (or the sweep, or the
                # in-process worker) runs it then, and the claim lets only one of them in.
                now = utcnow()
                wait = timedelta(seconds=RETRY_INTERVALS[min(attempt, len(RETRY_INTERVALS)) - 1])
                uow.session.execute(update(MediaTask).where(MediaTask.id == task_id).values(
                    status="pending", last_error=reason[:300], updated_at=now,
                    lease_until=now + wait).execution_options(synchronize_session=False))
        log.warning("thumbnail of evidence %s, attempt %d: %s", evidence_id, attempt, reason)
        if final:
            return MediaOutcome("failed", reason)
        raise MediaRetry(reason) from None


def run_due(uow_factory: UowFactory, *, limit: int = 50) -> list[MediaOutcome]:
    """Run the tasks due now in this thread (the in-process worker of embedded defaults,
    tests and tools); a failure is recorded and waits for a later call."""
    with uow_factory() as uow:
        ids = due_inline(uow.session, utcnow(), limit)
    outcomes = []
    for evidence_id in ids:
        try:
            outcomes.append(run_thumbnail(uow_factory, evidence_id))
        except MediaRetry as exc:
            outcomes.append(MediaOutcome("retry", str(exc)))
    return outcomes


class PreviewUnavailable(Exception):
    """The file cannot be rendered (unreadable, a limit hit, the sandbox crashed)."""


def _render(blobs: BlobStore, sha256: str, key: str, max_px: int):
    from capture.preview import PreviewError, thumbnail_sandboxed

    try:
        with blobs.local_copy(sha256) as path:  # a download when the store is remote
            return thumbnail_sandboxed(path, key, max_px=max_px)
    except PreviewError as exc:
        raise PreviewUnavailable(str(exc)) from None


def make_preview(uow: UnitOfWork, evidence_id: str, *, max_px: int = PREVIEW_MAX_PX,
                 rendered=None) -> EvidencePreview | None:
    """Store the thumbnail of an image or video item (a separate blob pointing at the
    original's hash), or return the one it has; None for other media. Originals are never
    touched. ``rendered`` is a thumbnail made beforehand, outside the transaction."""
    session = uow.session
    ev = session.get(Evidence, evidence_id)
    if ev is None or thumbnail_type(ev) is None:
        return None
    existing = preview_of(session, ev.id)
    if existing is not None:
        return existing
    same = session.execute(select(EvidencePreview).where(
        EvidencePreview.original_sha256 == ev.sha256).limit(1)).scalar_one_or_none()
    if same is not None:  # the same content was previewed already: share its blob
        sha, size, width, height = same.sha256, same.size, same.width, same.height
    else:
        thumb = rendered or _render(uow.blobs, ev.sha256, thumbnail_type(ev), max_px)
        blob = uow.blobs.put_bytes(thumb.data)
        sha, size, width, height = blob.sha256, blob.size, thumb.width, thumb.height
    row = EvidencePreview(id=new_id(), evidence_id=ev.id, original_sha256=ev.sha256, sha256=sha,
                          size=size, width=width, height=height, created_at=utcnow())
    session.add(row)
    session.flush()
    return row
