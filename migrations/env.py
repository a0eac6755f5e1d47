"""Alembic environment: the engine comes from the application, the metadata from core."""

from alembic import context

import core.schema  # noqa: F401 - registers every table on the metadata
from core.kernel.settings import Settings
from core.platform.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Run migrations on the app's engine (or one built from the environment)."""
    engine = config.attributes.get("engine")
    if engine is None:
        from core.platform.db import make_engine

        engine = make_engine(Settings.from_env().effective_database_url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
