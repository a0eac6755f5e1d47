"""An upload's transactions (A31.1 intake, issue 13 item 1): the bearer token is looked up once
per request, its use still recorded."""

from __future__ import annotations

from sqlalchemy import event, select, update

from core.people.models import ApiToken
from tests.evidence.support import photo, upload


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
    token lookup; the token's last use is still written, by the recording."""
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
               and "api_tokens.token_hash" in s]
    assert len(lookups) == 1
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
