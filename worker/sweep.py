"""The sweep: claim due reminders, expand them into outbox messages, and pick the messages
due for a (re)try. Claiming and expanding share one transaction, so a crash between them
cannot leave a reminder claimed with nothing to send."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core import ledger
from core.bootstrap import Container
from core.deadlines.models import Reminder
from core.deadlines.reminders import (
    claim_due_reminders,
    expand_reminder,
    expand_reminders,
    reclaim_stale_reminders,
)
from core.evidence import media as media_tasks
from core.evidence import receipt_tasks
from core.evidence.uploads import purge_expired
from core.kernel.clock import utcnow
from core.ledger.timestamps import stamp_pending
from notifications.config import NotifyConfig
from notifications.outbox import due_outbox

from .config import WorkerConfig

log = logging.getLogger("quancheng.sweep")


@dataclass
class SweepResult:
    """How many reminders were expanded and which messages are now queued for delivery."""

    reminders: int = 0
    failed_reminders: list[str] = field(default_factory=list)
    outbox_ids: list[int] = field(default_factory=list)
    media_ids: list[str] = field(default_factory=list)  # evidence whose media job was lost
    # (record id, kind) of 送达回证 whose job was lost
    receipt_ids: list[tuple[str, str]] = field(default_factory=list)


def run_sweep(container: Container, notify: NotifyConfig, config: WorkerConfig, *,
              now: datetime | None = None, pick_outbox: bool = True) -> SweepResult:
    """One sweep; its cost follows the number of due rows, not the size of the tables.
    ``pick_outbox=False`` leaves messages alone while the queue still holds a backlog (their
    leases would run out in the queue and they would be queued twice)."""
    now = now or utcnow()
    tz = container.settings.legal_tz
    started, result = time.monotonic(), SweepResult()
    with container.uow() as uow:
        reclaim_stale_reminders(uow.session, now)
    while time.monotonic() - started < config.sweep_budget:
        with container.uow() as uow:
            ids = claim_due_reminders(uow.session, now, config.sweep_limit)
            _expand(uow.session, ids, now, tz, result)
        result.reminders += len(ids)
        if len(ids) < config.sweep_limit:
            break
    lease = timedelta(seconds=notify.lease_seconds)
    while pick_outbox and time.monotonic() - started < config.sweep_budget:
        with container.uow() as uow:
            batch = due_outbox(uow.session, now, config.sweep_limit, lease=lease)
        result.outbox_ids.extend(batch)
        if len(batch) < config.sweep_limit:
            break
    if pick_outbox:
        with container.uow() as uow:
            result.media_ids = media_tasks.due_for_enqueue(uow.session, now, config.sweep_limit)
            result.receipt_ids = receipt_tasks.due_for_enqueue(uow.session, now,
                                                               config.sweep_limit)
    housekeep(container, now)
    if result.reminders or result.outbox_ids:
        log.info("sweep: %d reminders expanded, %d messages queued", result.reminders,
                 len(result.outbox_ids))
    return result


def _expand(session, ids: list[str], now: datetime, tz, result: SweepResult) -> None:
    # One savepoint for the batch; only when it fails, one per reminder, so that a reminder
    # that cannot be expanded (a bug, bad data) is marked failed instead of rolling back,
    # and so blocking, every other one.
    try:
        with session.begin_nested():
            expand_reminders(session, ids, now=now, tz=tz)
        return
    except Exception:
        log.warning("a batch of %d reminders failed to expand; retrying one by one", len(ids))
    for reminder_id in ids:
        _expand_one(session, reminder_id, now, tz, result)


def _expand_one(session, reminder_id: str, now: datetime, tz, result: SweepResult) -> None:
    try:
        with session.begin_nested():
            expand_reminder(session, reminder_id, now=now, tz=tz)
    except Exception:
        log.exception("reminder %s could not be expanded; marked failed", reminder_id)
        reminder = session.get(Reminder, reminder_id)
        if reminder is not None:
            reminder.status = "failed"
        result.failed_reminders.append(reminder_id)


CHECKPOINT_EVERY = timedelta(hours=1)


def housekeep(container: Container, now: datetime) -> None:
    """Sign a scheduled ledger checkpoint when the log grew and the last one is an hour old
    (A37.1), and drop the bytes of resumable uploads past their expiry."""
    with container.uow() as uow:
        last = ledger.latest_checkpoint(uow.session)
        grew = ledger.current_size(uow.session) > (last.tree_size if last else 0)
        if grew and (last is None or last.created_at <= now - CHECKPOINT_EVERY):
            ledger.make_checkpoint(uow.session, uow.signer, reason="scheduled")
    if container.settings.tsa_url:
        # Trusted time for the checkpoints, fetched with no transaction open; a TSA that does
        # not answer is retried on a later run (A37.1).
        try:
            stamp_pending(container.uow, container.settings)
        except Exception:
            log.exception("timestamping checkpoints failed; retried on the next run")
    purged = purge_expired(container, now)
    if purged:
        log.info("housekeeping: %d expired uploads purged", purged)
