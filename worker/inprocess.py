"""The embedded-default worker: a daemon thread of the web process that sweeps every
SWEEP_INTERVAL_SECONDS, delivers inline and makes the thumbnails owed (no Redis). Retries come
back with a later sweep. It is the only background thread of the web process: media work has
no pool of its own there."""

from __future__ import annotations

import contextlib
import logging
import threading

from core.bootstrap import Container
from core.dossier import prerender
from core.evidence import media, receipt_tasks
from notifications.base import Channel
from notifications.channels import build_channels
from notifications.config import NotifyConfig
from notifications.live import Emit
from notifications.outbox import deliver

from .config import WorkerConfig
from .sweep import SweepResult, run_sweep

log = logging.getLogger("quancheng.inprocess")


class InprocessWorker:
    """Sweep and deliver in one thread; ``run_once`` is the whole job, for tests and tools."""

    def __init__(self, container: Container, channels: dict[str, Channel],
                 notify: NotifyConfig, config: WorkerConfig):
        self.container, self.channels = container, channels
        self.notify, self.config = notify, config
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._sheets_owed: set[str] = set()  # cases whose sheets to pre-render
        self._sheets_lock = threading.Lock()

    def owe_sheets(self, case_ids: list[str]) -> None:
        """Note cases whose case-file sheets changed, laid out at the next run."""
        with self._sheets_lock:
            self._sheets_owed.update(case_ids)
        self.wake()

    def run_once(self) -> SweepResult:
        """The media work due (thumbnails), one sweep, then every message it queued delivered
        in turn (admin reports too)."""
        media.run_due(self.container.uow, limit=self.config.sweep_limit)
        receipt_tasks.run_due(self.container.uow, limit=self.config.sweep_limit)
        result = run_sweep(self.container, self.notify, self.config)
        if result.media_ids:  # claims that ran out (this process restarted mid-thumbnail)
            for evidence_id in result.media_ids:
                # A failure is recorded on the task; a later run tries again.
                with contextlib.suppress(media.MediaRetry):
                    media.run_thumbnail(self.container.uow, evidence_id)
        for record_id, kind in result.receipt_ids:
            with contextlib.suppress(media.MediaRetry):
                receipt_tasks.run_receipt(self.container.uow, record_id, kind)
        pending = list(result.outbox_ids)
        while pending:
            outcome = deliver(self.container, pending.pop(0), self.channels, config=self.notify)
            pending.extend(outcome.follow_up)
        # Last: messages first, then the case-file sheets (an optimisation of the build).
        with self._sheets_lock:
            owed, self._sheets_owed = sorted(self._sheets_owed), set()
        prerender.run_owed(self.container, owed)
        return result

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the thread must outlive one bad sweep; the next one retries
                log.exception("in-process sweep failed; trying again in %s s",
                              self.config.sweep_interval)
            self._wake.wait(self.config.sweep_interval)
            self._wake.clear()

    def wake(self) -> None:
        """Sweep now rather than at the next interval (new messages wait in the outbox)."""
        self._wake.set()

    def start(self) -> InprocessWorker:
        """Start the daemon thread."""
        self._thread = threading.Thread(target=self._loop, name="inprocess-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current sweep."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)


def start_inprocess_worker(container: Container, *, emit: Emit,
                           notify: NotifyConfig | None = None,
                           config: WorkerConfig | None = None) -> InprocessWorker:
    """Start sweeping in this process; Socket.IO events go out through ``emit`` (the web app
    passes its own server's, see notifications.live.server_emitter)."""
    notify = notify or NotifyConfig.from_env()
    channels = build_channels(container, notify, emit=emit)
    worker = InprocessWorker(container, channels, notify, config or WorkerConfig.from_env())
    log.info("in-process worker: sweep every %s s, channels %s", worker.config.sweep_interval,
             ", ".join(sorted(channels)) or "none")
    container.outbox_hooks.append(worker.wake)
    container.media_hooks.append(lambda evidence_ids: worker.wake())
    container.receipt_hooks.append(lambda owed: worker.wake())
    container.sheet_hooks.append(worker.owe_sheets)
    return worker.start()
