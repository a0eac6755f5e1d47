"""Wire the adapters together from the settings, once per process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

# complaints and deadlines are imported for their side effect: they register their
# in-transaction event handlers in core.uow.EVENT_HANDLERS.
from . import alerts, complaints, deadlines  # noqa: F401
from .blobs import LocalBlobStore, open_blob_store
from .db import make_engine, make_session_factory
from .ledger import CheckpointSigner
from .settings import Settings
from .uow import UnitOfWork


@dataclass
class Container:
    """The process's adapters: engine, sessions, blob store, ledger signer."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker
    blobs: LocalBlobStore
    signer: CheckpointSigner

    @contextmanager
    def uow(self) -> Iterator[UnitOfWork]:
        """One transaction: committed when the block ends, rolled back on error."""
        session = self.sessions()
        # Core functions that only get a session (the gates' periods) read the settings here.
        session.info["settings"] = self.settings
        uow = UnitOfWork(session, self.settings, self.signer, self.blobs)
        try:
            with session.begin():
                yield uow
        finally:
            session.close()
        for callback in uow.after_commit:
            callback()


def bootstrap(settings: Settings | None = None) -> Container:
    """Build the container from the settings (read from the environment when not given)."""
    settings = settings or Settings.from_env()
    deadlines.rule_table(settings)  # a malformed DEADLINE_OVERRIDES stops the start here
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    signer = CheckpointSigner.from_file(settings.effective_ledger_key_path,
                                        settings.ledger_origin, create=not settings.production)
    return Container(settings, engine, make_session_factory(engine),
                     open_blob_store(settings.effective_storage_url), signer)
