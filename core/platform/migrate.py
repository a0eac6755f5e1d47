"""Run the Alembic migrations programmatically (flask db upgrade, tests, make run)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from core.kernel.settings import PROJECT_ROOT


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to this engine."""
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema to a revision."""
    command.upgrade(alembic_config(engine), revision)
