"""Wire the adapters and the event handlers together from the settings, once per process."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, event, inspect, select
from sqlalchemy.orm import sessionmaker

from capture.pool import settings_from_env as parser_settings
from core import schema  # noqa: F401 - every table (and its ledger coverage) is known
from core.archive import events as archive_events
from core.cases import act_end
from core.cases.projections import StageProjection
from core.complaints import tickets
from core.deadlines import tracking
from core.dossier import prerender
from core.evidence import receipt_tasks
from core.kernel import clock
from core.kernel.settings import Settings
from core.ledger import CheckpointSigner, LedgerError, add_projection, suite_named
from core.ledger.models import LedgerCheckpoint, LedgerHead
from core.notices import alerts, approvals
from core.platform.blobs import BlobStore, open_blob_store
from core.platform.db import READ_ONLY, make_engine, make_session_factory, refuse_writes
from core.platform.uow import EventHandler, UnitOfWork
from core.rules.deadline_rules import rule_table

# The in-transaction reactions to events, in order: deadlines open and close first, then the
# complainant's notices, the alerts the rules ask for and approval requests are queued in
# the outbox.
EVENT_HANDLERS: tuple[EventHandler, ...] = (
    tracking.handle_event,
    act_end.handle_event,  # the record that legally ends an act raises act.ended (A32.1)
    tickets.handle_event,
    alerts.handle_event,
    approvals.handle_event,
    archive_events.handle_event,
    receipt_tasks.handle_event,  # a service record's 送达回证 is queued, drawn after the commit
)

log = logging.getLogger("quancheng.bootstrap")


@dataclass
class Container:
    """The process's adapters: engine, sessions, blob store, ledger signer, event handlers."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker
    blobs: BlobStore
    signer: CheckpointSigner
    handlers: tuple[EventHandler, ...] = field(default=EVENT_HANDLERS)
    # Called after a commit that queued outbox messages, so they go out now rather than at
    # the next sweep (the in-process worker's wake, or an rq sweep job); the sweep stays the
    # safety net, so a hook that fails loses nothing.
    outbox_hooks: list[Callable[[], None]] = field(default_factory=list)
    # Called after a commit that owed media work (thumbnails, core.evidence.media) with the
    # evidence ids: an rq job is enqueued, or the in-process worker woken. The media_tasks
    # rows are the truth, so a hook that fails loses nothing (the sweep enqueues them again).
    media_hooks: list[Callable[[list[str]], None]] = field(default_factory=list)
    # The same for the 送达回证 owed (core.evidence.receipt_tasks), with (record id, kind).
    receipt_hooks: list[Callable[[list[tuple[str, str]]], None]] = field(default_factory=list)
    # The same for the case-file sheets to pre-render (core.dossier.prerender), with case ids.
    # No row keeps them: a lost job only means the dossier build lays those sheets out.
    sheet_hooks: list[Callable[[list[str]], None]] = field(default_factory=list)

    @contextmanager
    def uow(self, *, read_only: bool = False) -> Iterator[UnitOfWork]:
        """One transaction: committed when the block ends, rolled back on error. A
        ``read_only`` one (a check before an upload's body arrives) does not take SQLite's
        write lock, and refuses to flush anything."""
        session = self.sessions()
        if read_only:
            event.listen(session, "before_flush", refuse_writes)
        # Core functions that only get a session (the gates' periods) read the settings here.
        session.info["settings"] = self.settings
        # The cases whose case-file sheets change are noted, pre-rendered after the commit.
        event.listen(session, "before_flush", prerender.note_changes)
        uow = UnitOfWork(session, self.settings, self.signer, self.blobs, self.handlers)
        try:
            with session.begin():
                if read_only:  # the connection's BEGIN sees this (core.platform.db)
                    session.connection(execution_options={READ_ONLY: True})
                yield uow
            queued = session.info.pop("outbox_written", False)
            media_owed = session.info.pop("media_queued", None)
            receipts_owed = session.info.pop(receipt_tasks.QUEUED_KEY, None)
            sheets_owed = session.info.pop(prerender.OWED_KEY, None)
        finally:
            session.close()
        for callback in uow.after_commit:
            callback()
        if queued:
            for hook in self.outbox_hooks:
                try:
                    hook()
                except Exception:  # the next sweep delivers it anyway
                    log.warning("prompt delivery could not be requested", exc_info=True)
        if media_owed:
            for media_hook in self.media_hooks:
                try:
                    media_hook(list(media_owed))
                except Exception:  # the sweep enqueues the task again after its lease
                    log.warning("media work could not be queued", exc_info=True)
        if receipts_owed:
            for receipt_hook in self.receipt_hooks:
                try:
                    receipt_hook(list(dict.fromkeys(receipts_owed)))
                except Exception:  # the sweep enqueues the task again after its lease
                    log.warning("a 送达回证 could not be queued", exc_info=True)
        if sheets_owed:
            for sheet_hook in self.sheet_hooks:
                try:
                    sheet_hook(sorted(sheets_owed))
                except Exception:  # the build lays out what was not pre-rendered
                    log.warning("case-file sheets could not be queued", exc_info=True)


def bootstrap(settings: Settings | None = None, *,
              now: Callable[[], datetime] | None = None) -> Container:
    """Build the container from the settings (read from the environment when not given);
    ``now`` installs another clock for the whole process (tests, replays)."""
    settings = settings or Settings.from_env()
    rule_table(settings)  # a malformed DEADLINE_OVERRIDES stops the start here
    parser_settings()  # so does a malformed PARSER_* setting (capture.pool)
    if now is not None:
        clock.set_clock(now)
    add_projection(StageProjection)
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    try:
        check_ledger_algorithms(engine, settings.ledger_algorithms)
    except LedgerError:
        engine.dispose()  # a refused start leaves no connection open
        raise
    signer = CheckpointSigner.from_file(settings.effective_ledger_key_path,
                                        settings.ledger_origin, create=not settings.production,
                                        algorithms=settings.ledger_algorithms)
    return Container(settings, engine, make_session_factory(engine),
                     open_blob_store(settings.effective_storage_url, settings), signer)


def check_ledger_algorithms(engine: Engine, configured: str) -> None:
    """Refuse to start when the database's ledger was written with another suite than
    LEDGER_ALGORITHMS (the suite is chosen once, at installation)."""
    suite = suite_named(configured)
    insp = inspect(engine)
    if not insp.has_table(LedgerHead.__tablename__) or "algorithms" not in {
            c["name"] for c in insp.get_columns(LedgerHead.__tablename__)}:
        return  # not migrated yet: appending and signing check the suite themselves
    with engine.connect() as conn:
        head = conn.execute(select(LedgerHead.size, LedgerHead.algorithms)
                            .where(LedgerHead.id == 1)).first()
        found = {a for (a,) in conn.execute(select(LedgerCheckpoint.algorithms).distinct())}
    if head is not None and (head.algorithms or head.size):
        found.add(head.algorithms or "sha256-ed25519")
    other = found - {suite.name}
    if other:
        raise LedgerError(f"LEDGER_ALGORITHMS is {suite.name} but this database's ledger was "
                          f"written with {', '.join(sorted(other))}: refusing to start")
