"""A scratch database for one benchmark run: a SQLite file, or a fresh PostgreSQL database
that is dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

PG = os.environ.get("QC_BENCH_PG_URL", "postgresql+psycopg://127.0.0.1:5432/test")


def make_db(kind: str, tmp: Path) -> tuple[str, Callable[[], None]]:
    """A fresh database URL and a function that drops it."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}", lambda: None
    name = f"qc_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return PG.rsplit("/", 1)[0] + "/" + name, drop
