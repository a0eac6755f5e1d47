"""An upload's transactions (A31.1 intake, issue 13 item 1): the bearer token is looked up once
per request, its use still recorded; the check before the body only reads, so on SQLite it
does not queue behind the write lock of other uploads; a read-only unit of work cannot write."""

from __future__ import annotations

import sqlite3
import time

import pytest
from sqlalchemy import event, select, update

from core.people.models import AccessLog, ApiToken
from tests.conftest import BACKEND
from tests.evidence.support import photo, stranger, upload


def _statements(container):
    """Collect the SQL run on the container's engine (detach with the returned callable)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(container.engine, "before_cursor_execute", record)
    return seen, lambda: event.remove(container.engine, "before_cursor_execute", record)


def test_upload_looks_up_the_token_once_and_records_its_use(client, people, case, container,
                                                            tmp_path):
    """A31.1: one upload, two units of work (the check before the body, the recording), one
    token lookup by hash (the recording re-reads the row by primary key, so a revocation
    meanwhile still counts); the token's last use is still written, by the recording."""
    with container.uow() as uow:
        uow.session.execute(update(ApiToken).values(last_used_at=None))
    data = photo(tmp_path).read_bytes()
    seen, stop = _statements(container)
    try:
        r = upload(client, people["officer"], case["id"], data)
    finally:
        stop()
    assert r.status_code == 201, r.get_json()
    lookups = [s for s in seen if s.lstrip().upper().startswith("SELECT")
               and "api_tokens.token_hash =" in s]
    assert len(lookups) == 1  # by hash once; the recording re-reads it by primary key only
    with container.uow() as uow:
        used = uow.session.execute(select(ApiToken.last_used_at).where(
            ApiToken.officer_id == people["officer"]["id"])).scalars().all()
    assert any(u is not None for u in used)


def test_a_revoked_token_is_refused_before_the_body(client, people, case, container, tmp_path):
    """A8.1: the one lookup still refuses a revoked token (401) and stores nothing."""
    with container.uow() as uow:
        uow.session.execute(update(ApiToken).where(
            ApiToken.officer_id == people["officer"]["id"]).values(revoked_at=uow.session.execute(
                select(ApiToken.created_at).limit(1)).scalar_one()))
    r = upload(client, people["officer"], case["id"], photo(tmp_path).read_bytes())
    assert r.status_code == 401


def test_a_token_revoked_while_the_body_arrives_records_nothing(client, people, case, container,
                                                               tmp_path, monkeypatch):
    """Issue 12 finding 4, A31.1: a token revoked after the check before the body (while a long
    upload is still arriving) is refused when the upload would be recorded: 401, no evidence."""
    from api import evidence as routes
    from core.cases.models import Evidence

    checked = routes.service.may_upload

    def check_then_revoke(uow, actor, case_id):
        result = checked(uow, actor, case_id)
        with container.uow() as other:  # the admin's revocation, committed meanwhile
            other.session.execute(update(ApiToken).where(
                ApiToken.officer_id == people["officer"]["id"]).values(
                    revoked_at=other.session.execute(
                        select(ApiToken.created_at).limit(1)).scalar_one()))
        return result

    monkeypatch.setattr(routes.service, "may_upload", check_then_revoke)
    r = upload(client, people["officer"], case["id"], photo(tmp_path).read_bytes())
    assert r.status_code == 401
    with container.uow() as uow:
        assert uow.session.execute(select(Evidence).where(
            Evidence.case_id == case["id"])).first() is None


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's database-wide write lock")
def test_the_check_before_the_body_does_not_wait_for_the_write_lock(client, people, case,
                                                                     container, tmp_path):
    """The check before an upload's body reads only: while another writer holds SQLite's write
    lock, an upload to a case the caller may not add to is refused (404) at once, instead of
    queueing behind the lock (busy_timeout 30 s) as a BEGIN IMMEDIATE would."""
    outsider = stranger(container)
    data = photo(tmp_path).read_bytes()
    path = container.settings.effective_database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None, timeout=1)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        r = upload(client, outsider, case["id"], data)
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert r.status_code == 404
    assert waited < 10


def test_a_read_only_unit_of_work_refuses_to_write(container, people):
    """A read-only unit of work (the upload's check) raises before any write reaches the
    database, and nothing is stored."""
    with container.uow() as uow:
        before = len(uow.session.execute(select(AccessLog)).scalars().all())
    with pytest.raises(RuntimeError, match="read-only"), container.uow(read_only=True) as uow:
        uow.session.add(AccessLog(officer_id=people["officer"]["id"], action="read",
                                  subject_type="case", subject_id="x", channel="api"))
        uow.session.flush()
    with container.uow() as uow:
        assert len(uow.session.execute(select(AccessLog)).scalars().all()) == before
