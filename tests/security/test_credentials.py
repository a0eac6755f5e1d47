"""Issue 12, findings 3 and 4: bind codes that cannot be guessed or used to take an account
over, and credentials an administrator can cut off, each change a ledgered event."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core.kernel.errors import AlreadyBound, BindCodeInvalid, RateLimited
from core.ledger.models import LedgerState
from core.notices.bindings import bind_telegram, unbind_officer
from core.notices.models import OutboxMessage
from core.people.access import officer_for_session
from core.people.models import ApiToken, BindCode, Officer
from core.people.officers import add_officer, department_by_code, ensure_department, issue_token
from tests.bot.support import bind_code
from tests.helpers import auth


def _bind(container, code: str, tg: int) -> str:
    return bind_telegram(container, code, tg, lambda o: o.id)


def _admin(container, dept_code: str = "YYZJ") -> dict:
    with container.uow() as uow:
        dept = department_by_code(uow.session, dept_code) or ensure_department(
            uow.session, dept_code, "另一局")
        officer = add_officer(uow.session, dept, "管理员" + dept_code, ["admin"])
        return {"id": officer.id, "token": issue_token(uow.session, officer)}


def _events(container, table: str) -> list[tuple[str, str | None]]:
    with container.uow() as uow:
        return [(s.event, s.actor) for s in uow.session.execute(
            select(LedgerState).where(LedgerState.table_name == table)
            .order_by(LedgerState.at)).scalars()]


def test_bind_code_is_long_short_lived_and_salted(container, people, clock):
    """Finding 3 and 8: 80-bit codes, valid 15 minutes, stored as a salted hash only."""
    code = bind_code(container, people["张伟"]["id"])
    bare = code.replace("-", "")
    assert len(bare) == 16
    with container.uow() as uow:
        row = uow.session.execute(select(BindCode)).scalars().one()
        assert bare[4:] not in row.code_hash and row.lookup == bare[:4]
    clock.advance(minutes=16)
    with pytest.raises(BindCodeInvalid):
        _bind(container, code, 7001)
    code = bind_code(container, people["张伟"]["id"])
    assert _bind(container, code.lower().replace("-", " "), 7001) == people["张伟"]["id"]


def test_wrong_secrets_spend_the_code(container, people):
    """Finding 3: five wrong secrets for one code lock it; the right one is refused after."""
    code = bind_code(container, people["李娜"]["id"])
    bare = code.replace("-", "")
    for i in range(5):
        wrong = bare[:4] + ("A" if bare[4] != "A" else "B") + bare[5:-1] + str(i + 2)
        with pytest.raises(BindCodeInvalid):
            _bind(container, wrong, 7100 + i)  # other accounts: the code's own count
    with pytest.raises(BindCodeInvalid):
        _bind(container, code, 7200)
    with container.uow() as uow:
        assert uow.session.get(Officer, people["李娜"]["id"]).telegram_user_id is None


def test_one_account_gets_five_wrong_codes_an_hour(container, people, clock):
    """Finding 3 and 6: the sixth try of an account is refused even with a right code; the
    failures are in the access log."""
    from core.people.models import AccessLog

    for i in range(5):
        with pytest.raises(BindCodeInvalid):
            _bind(container, f"ZZZZ{i:012d}", 7300)
    code = bind_code(container, people["王强"]["id"])
    with pytest.raises(RateLimited):
        _bind(container, code, 7300)
    assert _bind(container, code, 7301) == people["王强"]["id"]  # another account is free
    with container.uow() as uow:
        failed = uow.session.execute(select(AccessLog).where(
            AccessLog.action == "bind_failed")).scalars().all()
        assert len(failed) == 6 and {a.subject_id for a in failed} == {"tg:7300"}


def test_no_rebinding_without_unbind_and_the_old_chat_is_told(container, people):
    """Finding 3: a bound officer cannot be rebound by a new code; after an explicit unbind
    the old chat gets a message; every change is a ledgered officer event."""
    officer_id = people["刘洋"]["id"]
    _bind(container, bind_code(container, officer_id), 7400)
    second = bind_code(container, officer_id)
    with pytest.raises(AlreadyBound):
        _bind(container, second, 7401)
    with container.uow() as uow:
        unbind_officer(uow, None, officer_id)
    with container.uow() as uow:
        told = uow.session.execute(select(OutboxMessage).where(
            OutboxMessage.recipient == "7400")).scalars().one()
        assert told.channel == "telegram" and "解除绑定" in told.body
    assert _bind(container, bind_code(container, officer_id), 7401) == officer_id
    names = [e for e, _ in _events(container, "officers")]
    assert "officer.bound" in names and "officer.unbound" in names


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_cli_deactivate_cuts_every_credential(app, client, container, people):
    """Finding 4: `flask officers deactivate` revokes the tokens, ends the binding (the chat is
    told), and the core check fronts call refuses the officer; each change is ledgered."""
    who = people["张伟"]
    _bind(container, bind_code(container, who["id"]), 7500)
    assert client.get("/api/v1/cases", headers=auth(who)).status_code == 200
    out = _cli(app, "officers", "deactivate", who["id"])
    assert out.exit_code == 0, out.output
    assert client.get("/api/v1/cases", headers=auth(who)).status_code == 401
    with container.uow() as uow:
        officer = uow.session.get(Officer, who["id"])
        assert not officer.active and officer.telegram_user_id is None
        assert officer_for_session(uow.session, who["id"]) is None
        assert officer_for_session(uow.session, people["李娜"]["id"]) is not None
        assert all(t.revoked_at for t in uow.session.execute(
            select(ApiToken).where(ApiToken.officer_id == who["id"])).scalars())
        assert uow.session.execute(select(OutboxMessage).where(
            OutboxMessage.recipient == "7500")).scalars().one()
        with pytest.raises(Exception, match="not active"):
            issue_token(uow.session, officer)
    officer_events = _events(container, "officers")
    assert ("officer.deactivated+unbound", "cli:officers deactivate") in officer_events \
        or ("officer.deactivated", "cli:officers deactivate") in officer_events
    assert ("token.revoked", "cli:officers deactivate") in _events(container, "api_tokens")
    assert _cli(app, "officers", "reactivate", who["id"]).exit_code == 0
    assert client.get("/api/v1/cases", headers=auth(who)).status_code == 401  # new token needed


def test_cli_list_roles_and_revoke(app, client, container, people):
    """Finding 4: `flask officers list` shows certificate and token status; `roles` and
    `revoke-token` change who may do what, on the ledger."""
    with container.uow() as uow:
        dept = department_by_code(uow.session, "YYZJ")
        add_officer(uow.session, dept, "无证", ["officer"])
    out = _cli(app, "officers", "list", "--department", "YYZJ", "--json")
    listed = {o["name"]: o for o in json.loads(out.output)}
    assert listed["张伟"]["certified"] and not listed["无证"]["certified"]
    assert listed["张伟"]["tokens"][0]["status"] == "valid"
    assert listed["张伟"]["tokens"][0]["expires_at"]
    text = _cli(app, "officers", "list").output
    assert "NO CERTIFICATE" in text and "湘执430600001" in text
    who = people["李娜"]
    assert _cli(app, "officers", "roles", who["id"], "officer", "supervisor").exit_code == 0
    assert ("officer.roles_changed", "cli:officers roles") in _events(container, "officers")
    bad = _cli(app, "officers", "roles", who["id"], "wizard")
    assert bad.exit_code != 0 and "roles must be chosen" in bad.output
    token_id = listed["李娜"]["tokens"][0]["id"]
    assert _cli(app, "officers", "revoke-token", token_id).exit_code == 0
    assert client.get("/api/v1/cases", headers=auth(who)).status_code == 401


def test_expired_token_is_refused_and_last_use_is_kept(client, container, people, clock):
    """Finding 4: a token expires; its last use is recorded (not ledgered: working state)."""
    who = people["王强"]
    assert client.get("/api/v1/cases", headers=auth(who)).status_code == 200
    with container.uow() as uow:
        row = uow.session.execute(select(ApiToken).where(
            ApiToken.officer_id == who["id"])).scalars().one()
        assert row.last_used_at is not None and row.expires_at is not None
        expires = row.expires_at
    assert not any(e == "token.last_used_at_changed" for e, _ in
                   _events(container, "api_tokens"))
    clock.set(expires)
    assert client.get("/api/v1/cases", headers=auth(who)).status_code == 401


def test_demo_seed_refused_in_production(app, container, monkeypatch):
    """Finding 4: `flask demo seed` does nothing when APP_ENV=production."""
    import dataclasses

    monkeypatch.setattr(container, "settings",
                        dataclasses.replace(container.settings, app_env="production"))
    out = _cli(app, "demo", "seed")
    assert out.exit_code != 0 and "production" in out.output
    with container.uow() as uow:
        assert uow.session.execute(select(Officer)).first() is None


def test_admin_api_stays_in_its_department(client, container, people):
    """Finding 4: the same for administrators in the API; another department's officer is 404,
    a non-admin 403, oneself 409."""
    admin = _admin(container)
    other = _admin(container, "QTJ")
    target = people["陈静"]
    assert client.get("/api/v1/admin/officers", headers=auth(people["张伟"])).status_code == 403
    listed = client.get("/api/v1/admin/officers", headers=auth(admin)).get_json()["officers"]
    assert {o["name"] for o in listed} >= {"陈静", "张伟"}
    assert all(o["name"] != "管理员QTJ" for o in listed)
    url = f"/api/v1/admin/officers/{target['id']}"
    assert client.post(url + "/deactivate", headers=auth(other)).status_code == 404
    assert client.post(f"/api/v1/admin/officers/{admin['id']}/deactivate",
                       headers=auth(admin)).status_code == 409
    r = client.put(url + "/roles", headers=auth(admin), json={"roles": ["head", "supervisor"]})
    assert r.status_code == 200 and r.get_json()["roles"] == ["head", "supervisor"]
    r = client.post(url + "/deactivate", headers=auth(admin))
    assert r.status_code == 200 and not r.get_json()["active"]
    assert client.get("/api/v1/cases", headers=auth(target)).status_code == 401
    assert (("officer.deactivated", admin["id"]) in _events(container, "officers"))
