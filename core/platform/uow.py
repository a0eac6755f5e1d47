"""Unit of work: one transaction, the ledger signer, the blob store and the events raised."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from core.kernel.settings import Settings
from core.platform.blobs import BlobStore


@dataclass(frozen=True)
class Event:
    """Something that happened to a case; deadlines and notices hang off these names."""

    name: str
    case_id: str | None
    at: datetime
    data: dict = field(default_factory=dict)


# A handler runs inside the transaction that raised the event, so a deadline row or an
# outbox message is committed together with the record that starts it (the database is the
# truth). core.bootstrap decides which handlers a process runs.
EventHandler = Callable[["UnitOfWork", Event], None]


@dataclass
class UnitOfWork:
    """What a service needs: the session of this transaction and the shared adapters."""

    session: Session
    settings: Settings
    signer: Any  # core.ledger.CheckpointSigner (the ledger sits above this layer)
    blobs: BlobStore
    handlers: Sequence[EventHandler] = ()
    events: list[Event] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def emit(self, event: Event) -> None:
        """Record an event and let the in-transaction handlers react to it."""
        self.events.append(event)
        for handler in self.handlers:
            handler(self, event)

    def emit_all(self, events: Sequence[Event]) -> None:
        """Raise events that happen together: all are recorded before any handler runs, so a
        handler of the first can see what the later ones will do (a deadline opened and met in
        the same commit is written once, already met: core.deadlines.tracking)."""
        self.events.extend(events)
        for event in events:
            for handler in self.handlers:
                handler(self, event)


class UnitsOfWork(Protocol):
    """What opens units of work: core.bootstrap.Container (services that span several
    transactions, such as a resumable upload, take one of these)."""

    settings: Settings
    blobs: BlobStore

    def uow(self) -> AbstractContextManager[UnitOfWork]:
        """One transaction."""
