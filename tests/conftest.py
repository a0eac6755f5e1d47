"""Shared fixtures: a migrated database per test (SQLite, or PostgreSQL when
QC_TEST_DB=postgres), the app, a client, and the demo people."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from core import schema  # noqa: F401 - every table on the metadata
from core.bootstrap import Container, bootstrap
from core.kernel import clock as system_clock
from core.kernel.settings import Settings
from core.platform.db import Base
from tests.support.clock import Clock

PG_ADMIN_URL = os.environ.get("QC_TEST_PG_URL", "postgresql+psycopg://127.0.0.1:5432/test")
BACKEND = os.environ.get("QC_TEST_DB", "sqlite")
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


def pytest_collection_modifyitems(config, items):
    """Mark every test that touches the database, so the PostgreSQL pass can select them."""
    for item in items:
        if "db_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


def pytest_configure(config):
    """Register the db and both_stores markers."""
    config.addinivalue_line("markers", "db: touches the database (runs on SQLite and PostgreSQL)")
    config.addinivalue_line("markers", "both_stores: runs once on the folder store and once on "
                                       "the S3 server (the storage fixture)")


def pytest_generate_tests(metafunc):
    """Tests marked both_stores run on the folder store and on the S3-protocol server."""
    if metafunc.definition.get_closest_marker("both_stores") and \
            "storage" in metafunc.fixturenames:
        metafunc.parametrize("storage", ["file", "s3"], indirect=True)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """moto_server (moto[server] from PyPI) on a free 127.0.0.1 port for the whole run."""
    from tests.support.s3_server import S3Server

    server = S3Server(tmp_path_factory.mktemp("s3") / "moto_server.log")
    yield server
    server.stop()


@pytest.fixture
def storage(request, tmp_path) -> dict:
    """Where one test's blobs go: a folder of its own, or (both_stores, "s3") a new bucket
    with object lock on the test S3 server; as Settings fields."""
    if getattr(request, "param", "file") == "file":
        return {"storage_url": f"file://{tmp_path / 'blobs'}"}
    server = request.getfixturevalue("s3_server")
    return server.settings_for(server.bucket(), tmp_path / "spool")


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory):
    """A migrated database made once per run: a SQLite file, or a fresh PostgreSQL database."""
    from core.platform.db import make_engine
    from core.platform.migrate import upgrade

    if BACKEND == "postgres":
        name = f"qc_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # any connection failure: say so plainly
            message = f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({type(exc).__name__})"
            if os.environ.get("CI"):
                pytest.fail(message + ": CI must test on PostgreSQL", pytrace=False)
            pytest.skip(message + "; set QC_TEST_PG_URL or start PostgreSQL to run this pass")
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        engine.dispose()
        yield str(path)


def reset_database(url: str) -> None:
    """Empty every table of a migrated PostgreSQL database."""
    engine = create_engine(url, poolclass=NullPool)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    try:
        for attempt in range(5):
            try:
                with engine.begin() as conn:
                    conn.execute(text("SET LOCAL lock_timeout = '10s'"))
                    conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
                return
            except OperationalError:
                # A thread of the previous test (a bot application, an in-process worker)
                # may still be finishing a transaction: PostgreSQL then reports a deadlock
                # or a lock timeout, and the next attempt finds the tables free.
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))
    finally:
        engine.dispose()


@pytest.fixture
def db_url(_template_db, tmp_path) -> str:
    """An empty, migrated database for one test."""
    if BACKEND == "postgres":
        reset_database(_template_db)
        return _template_db
    path = tmp_path / "quancheng.db"
    shutil.copyfile(_template_db, path)
    return f"sqlite:///{path}"


@pytest.fixture
def settings(db_url, tmp_path, storage) -> Settings:
    """Settings for one test: its own instance folder, database and blob store."""
    # Tokens outlive the years the legal-period tests move the clock through.
    return Settings(database_url=db_url, instance_path=tmp_path / "instance",
                    token_ttl_days=3650, **storage)


@pytest.fixture
def container(settings) -> Container:
    """The adapters wired for one test."""
    c = bootstrap(settings)
    yield c
    c.engine.dispose()


@pytest.fixture
def app(container):
    """The Flask app over the test container."""
    from api import create_app

    return create_app({"CONTAINER": container, "TESTING": True})


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def people(container) -> dict:
    """The demo department's people by role and name, each with a token."""
    from core.people.officers import demo_seed

    with container.uow() as uow:
        out = demo_seed(uow.session)
    by = {}
    for u in out["users"]:
        by.setdefault(u["role"], u)
        by[u["name"]] = u
    by["officer2"] = [u for u in out["users"] if u["role"] == "officer"][1]
    by["department"] = out["department"]
    return by




@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counts in memory are per process: each test starts with none."""
    from core.platform import ratelimit

    ratelimit.reset()
    yield


@pytest.fixture
def clock():
    """The system's "now", moved by the test so that legal periods and reminders come due:
    installed as the process clock (core.kernel.clock.set_clock), restored afterwards."""
    c = Clock(system_clock.system_now)
    previous = system_clock.set_clock(c.now)
    yield c
    system_clock.set_clock(previous)
