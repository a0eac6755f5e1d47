"""The outbox: each message is handed to its channel once and marked sent only after that.

States: ``pending`` (waiting, due at ``next_attempt_at``) → ``queued`` (a sweep enqueued a
job) → ``sending`` (a worker holds a lease) → ``sent`` | ``pending`` again (backoff) |
``dead``; ``cancelled`` when the deadline of its reminder was met first.
``queued`` and ``sending`` carry a lease in ``next_attempt_at``: when it runs out the next
sweep takes the message again, so a lost job or a killed worker loses nothing (at most one
duplicate send). The lease is taken with a short conditional update instead of a row lock
held across the network call: a slow SMTP server must not hold a database lock (on SQLite,
the whole database) for seconds, and the lease survives the process that took it.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.bootstrap import Container
from core.cases.models import Case
from core.deadlines.models import Deadline, Reminder
from core.kernel.clock import utcnow
from core.notices.models import OutboxMessage
from core.people.models import Officer

from .base import Channel, DeliveryError, redact
from .config import NotifyConfig
from .templates import render

log = logging.getLogger("quancheng.outbox")

OPEN = ("pending", "queued", "sending")
CLOCK_SKEW = timedelta(seconds=1)  # a retry job may run a moment before its row is due
ADMIN_REPORT = "admin_report"


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt did; ``follow_up`` are admin reports it queued."""

    outbox_id: int
    status: str  # sent | retry | dead | skipped
    detail: str = ""
    retry_at: datetime | None = None
    follow_up: tuple[int, ...] = ()


def due_outbox(session: Session, now: datetime, limit: int, *,
               lease: timedelta = timedelta(seconds=120)) -> list[int]:
    """Ids of messages due (new, retrying, or whose lease ran out), marked ``queued`` with a
    fresh lease; concurrent sweeps skip each other's rows on PostgreSQL."""
    ids = list(session.execute(
        select(OutboxMessage.id)
        .where(OutboxMessage.status.in_(OPEN), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).scalars())
    if ids:
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                        .values(status="queued", next_attempt_at=now + lease)
                        .execution_options(synchronize_session=False))
    return ids


_channel_cache: dict[int, tuple[Container, dict[str, Channel]]] = {}


def default_channels(container: Container, config: NotifyConfig) -> dict[str, Channel]:
    """The channels for this container, built once per process."""
    from .channels import build_channels

    cached = _channel_cache.get(id(container))
    if cached is None or cached[0] is not container:
        cached = (container, build_channels(container, config))
        _channel_cache[id(container)] = cached
    return cached[1]


def deliver(container: Container, outbox_id: int,
            channels: Mapping[str, Channel] | None = None, *,
            config: NotifyConfig | None = None) -> Outcome:
    """Claim one message, hand it to its channel, and record what happened."""
    config = config or NotifyConfig.from_env()
    if channels is None:
        channels = default_channels(container, config)
    message, skipped = _claim(container, outbox_id, config)
    if message is None:
        return skipped
    error = _send(channels, message)
    return _record(container, message, error, config)


def _claimable(row: OutboxMessage, now: datetime) -> bool:
    if row.status == "queued":
        return True
    if row.status == "pending":
        return row.next_attempt_at <= now + CLOCK_SKEW
    return row.status == "sending" and row.next_attempt_at <= now  # the holder's lease ran out


def _claim(container: Container, outbox_id: int, config: NotifyConfig
           ) -> tuple[OutboxMessage | None, Outcome]:
    with container.uow() as uow:
        now = utcnow()
        row = uow.session.execute(
            select(OutboxMessage).where(OutboxMessage.id == outbox_id)
            .with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if row is None:
            return None, Outcome(outbox_id, "skipped", "missing, or locked by another worker")
        if not _claimable(row, now):
            return None, Outcome(outbox_id, "skipped", f"status {row.status}, next attempt "
                                 f"{row.next_attempt_at.isoformat()}")
        if not _still_wanted(uow.session, row):
            row.status = "cancelled"
            return None, Outcome(outbox_id, "skipped", "its deadline was met first")
        if row.attempts >= config.max_attempts:
            # Every attempt so far ended without an outcome: the worker died while sending
            # (a message that crashes it, say). Stop, rather than crash workers for ever.
            row.status = "dead"
            row.last_error = (f"no outcome recorded after {row.attempts} attempts (the worker "
                              f"stopped while sending); last error: {row.last_error or '—'}")
            follow_up = queue_admin_report(uow.session, row)
            return None, Outcome(outbox_id, "dead", row.last_error, follow_up=tuple(follow_up))
        row.status, row.attempts = "sending", row.attempts + 1
        row.next_attempt_at = now + timedelta(seconds=config.lease_seconds)
    return row, Outcome(outbox_id, "sending")


def _still_wanted(session: Session, row: OutboxMessage) -> bool:
    # A reminder expanded before its deadline was met must not nag afterwards.
    if not row.reminder_id:
        return True
    reminder = session.get(Reminder, row.reminder_id)
    deadline = session.get(Deadline, reminder.deadline_id) if reminder else None
    return deadline is None or deadline.status == "open"


def _send(channels: Mapping[str, Channel], message: OutboxMessage) -> DeliveryError | None:
    channel = channels.get(message.channel)
    if channel is None:
        # Retryable: a worker started without a channel's settings may be replaced by one with.
        return DeliveryError(f"channel {message.channel!r} is not configured on this worker",
                             retryable=True)
    try:
        channel.send(message)
    except DeliveryError as exc:
        return exc
    except Exception as exc:  # a bug in a channel must not lose the message
        log.error("channel %s failed on outbox %s:\n%s", message.channel, message.id,
                  redact("".join(traceback.format_exception(exc))))
        return DeliveryError(f"{type(exc).__name__} in the {message.channel} channel",
                             retryable=True)
    return None


def _record(container: Container, message: OutboxMessage, error: DeliveryError | None,
            config: NotifyConfig) -> Outcome:
    with container.uow() as uow:
        session, now = uow.session, utcnow()
        if error is None:
            # Sent is the truth even if our lease ran out meanwhile: stop the other sender.
            done = {"status": "sent", "sent_at": now, "last_error": None}
            masked = (message.payload or {}).get("masked_body")
            if masked is not None:
                # A secret (a complaint's status code) leaves the outbox once delivered.
                done["body"] = masked
                done["payload"] = {k: v for k, v in message.payload.items()
                                   if k != "masked_body"}
            session.execute(update(OutboxMessage)
                            .where(OutboxMessage.id == message.id, OutboxMessage.status != "sent")
                            .values(**done)
                            .execution_options(synchronize_session=False))
            if (message.payload or {}).get("notice_record_id"):
                _record_notice(uow, message.id, now)
            return Outcome(message.id, "sent")
        row = session.execute(select(OutboxMessage).where(OutboxMessage.id == message.id)
                              .with_for_update()).scalar_one()
        if row.status != "sending" or row.attempts != message.attempts:
            return Outcome(message.id, "skipped", "another worker took the message over")
        row.last_error = error.message[:2000]
        if error.retryable and row.attempts < config.max_attempts:
            wait = config.backoff(row.attempts)
            if error.retry_after:
                wait = max(wait, timedelta(seconds=float(error.retry_after)))
            row.status, row.next_attempt_at = "pending", now + wait
            log.warning("outbox %s attempt %s failed, retry at %s: %s", row.id, row.attempts,
                        row.next_attempt_at.isoformat(), error.message)
            return Outcome(message.id, "retry", error.message, retry_at=row.next_attempt_at)
        row.status = "dead"
        _forget_secret(row)
        log.error("outbox %s is dead after %s attempts: %s", row.id, row.attempts, error.message)
        follow_up = queue_admin_report(session, row)
    return Outcome(message.id, "dead", error.message, follow_up=tuple(follow_up))


def _forget_secret(row: OutboxMessage) -> None:
    """A dead message keeps no secret either (the officer re-issues the code)."""
    masked = (row.payload or {}).get("masked_body")
    if masked is not None:
        row.body = masked
        row.payload = {k: v for k, v in row.payload.items() if k != "masked_body"}


def _record_notice(uow, outbox_id: int, sent_at: datetime) -> None:
    # A11.1: the case records that the complainant was told. In a savepoint, so a failure
    # here is logged without un-sending (and so re-sending) the notice.
    from core.complaints.tickets import record_notice_delivered

    try:
        with uow.session.begin_nested():
            record_notice_delivered(uow, outbox_id, sent_at)
    except Exception:
        log.exception("outbox %s was sent but its notice record could not be written",
                      outbox_id)


def queue_admin_report(session: Session, message: OutboxMessage) -> list[int]:
    """Queue one Socket.IO report per admin of the message's department (its supervisors and
    heads when it has no admin, never another department's staff: issue 12, finding 7); the
    report names no recipient and no subject (a complainant's address stays out of it). A
    report that itself dies is only logged, so reports cannot loop."""
    if (message.payload or {}).get("kind") == ADMIN_REPORT:
        return []
    department = _department_of(session, message)
    staff = [] if department is None else list(session.execute(
        select(Officer).where(Officer.active.is_(True), Officer.department_id == department)
        .order_by(Officer.id)).scalars())
    recipients = [o for o in staff if "admin" in o.roles] or [
        o for o in staff if {"supervisor", "head"} & set(o.roles)]
    if not recipients:
        log.error("outbox %s is dead and its department has nobody to tell", message.id)
        return []
    error = (message.last_error or "—").replace(message.recipient or "\0", "***")
    ids = []
    for admin in recipients:
        key = f"delivery-dead:{message.id}:{admin.id}"
        if session.execute(select(OutboxMessage.id)
                           .where(OutboxMessage.idempotency_key == key)).first():
            continue
        subject, body = render("delivery.dead", admin.lang, outbox_id=message.id,
                               channel=message.channel, recipient="***", subject="—",
                               attempts=message.attempts, error=error)
        report = OutboxMessage(
            idempotency_key=key, case_id=message.case_id, channel="socketio",
            recipient=f"officer:{admin.id}", officer_id=admin.id, subject=subject, body=body,
            payload={"event": "delivery_failed", "kind": ADMIN_REPORT,
                     "data": {"outbox_id": message.id, "channel": message.channel,
                              "attempts": message.attempts, "error": error}},
            status="pending", attempts=0, next_attempt_at=utcnow(), created_at=utcnow())
        session.add(report)
        session.flush()
        ids.append(report.id)
    return ids


def _department_of(session: Session, message: OutboxMessage) -> str | None:
    if message.officer_id:
        officer = session.get(Officer, message.officer_id)
        if officer is not None:
            return officer.department_id
    if message.case_id:
        case = session.get(Case, message.case_id)
        if case is not None:
            return case.department_id
    # A message of no case (a public complaint's confirmation code) names its department.
    department = (message.payload or {}).get("department_id")
    return department if isinstance(department, str) else None
