"""Unit of work: one transaction, the ledger signer, the blob store and the events raised."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from .blobs import LocalBlobStore
    from .ledger import CheckpointSigner
    from .settings import Settings


@dataclass(frozen=True)
class Event:
    """Something that happened to a case; deadlines and notices hang off these names."""

    name: str
    case_id: str | None
    at: datetime
    data: dict = field(default_factory=dict)


# Handlers run inside the transaction that raised the event, so a deadline row is
# committed together with the record that starts it (the database is the truth).
EVENT_HANDLERS: list[Callable[[UnitOfWork, Event], None]] = []


@dataclass
class UnitOfWork:
    """What a service needs: the session of this transaction and the shared adapters."""

    session: Session
    settings: Settings
    signer: CheckpointSigner
    blobs: LocalBlobStore
    events: list[Event] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def emit(self, event: Event) -> None:
        """Record an event and let in-transaction handlers react to it."""
        self.events.append(event)
        for handler in EVENT_HANDLERS:
            handler(self, event)
