"""The commands of CONTRACT.md: demo seed, officers, bind codes, integrity check."""

from __future__ import annotations

import json

from core.people.officers import redeem_bind_code


def test_demo_seed_json_is_idempotent(app):
    """`flask demo seed --json` prints the department and six people, a custodian among them
    (A33.1, so archiving can be tried); a rerun adds none."""
    runner = app.test_cli_runner()
    first = json.loads(runner.invoke(args=["demo", "seed", "--json"]).output)
    second = json.loads(runner.invoke(args=["demo", "seed", "--json"]).output)
    roles = sorted(u["role"] for u in first["users"])
    assert roles == ["custodian", "head", "legal_reviewer", "officer", "officer", "supervisor"]
    assert [u["id"] for u in first["users"]] == [u["id"] for u in second["users"]]
    assert first["department"] == second["department"]
    assert all(set(u) >= {"name", "role", "token", "id"} for u in first["users"])
    client = app.test_client()
    for u in (first["users"][0], second["users"][0]):  # both tokens work
        r = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {u['token']}"})
        assert r.status_code == 200


def test_officers_add_token_and_bind_code(app, container):
    """Officers are added with roles; tokens are new each time; a bind code works once."""
    runner = app.test_cli_runner()
    out = runner.invoke(args=["officers", "add", "--department", "D1", "--department-name",
                              "测试局", "--name", "孙七", "--role", "officer", "--certificate",
                              "湘执1", "--json"])
    assert out.exit_code == 0, out.output
    officer = json.loads(out.output)
    bad = runner.invoke(args=["officers", "add", "--department", "D1", "--name", "x",
                              "--role", "wizard"])
    assert bad.exit_code != 0 and "roles must be chosen" in bad.output
    token = runner.invoke(args=["officers", "token", officer["id"]]).output.strip()
    assert token.startswith("qc_") and token != officer["token"]
    code = runner.invoke(args=["officers", "bind-code", officer["id"]]).output.strip()
    # Issue 12 finding 3: 16 characters (80 bits) in four groups, not 8 digits.
    assert len(code) == 19 and code.count("-") == 3 and code.replace("-", "").isalnum()
    with container.uow() as uow:
        bound = redeem_bind_code(uow.session, code, 424242)
        assert bound.id == officer["id"] and bound.telegram_user_id == 424242
    import pytest

    from core.kernel.errors import Invalid

    with pytest.raises(Invalid), container.uow() as uow:
        redeem_bind_code(uow.session, code, 424242)
    missing = runner.invoke(args=["officers", "token", "nobody"])
    assert missing.exit_code != 0 and "not found" in missing.output


def test_integrity_check_lists_mismatches(app, client, people, container):
    """A37.1: `flask integrity check` exits 0 when intact and 1 naming a changed blob."""
    from core.cases.models import Evidence
    from tests.integration.test_ledger_tamper import _small_case

    _small_case(client, people, container)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["integrity", "check"])
    assert ok.exit_code == 0 and "1 blobs checked, 0 mismatches" in ok.output
    with container.uow() as uow:
        from sqlalchemy import select

        sha = uow.session.execute(select(Evidence.sha256)).scalar_one()
    path = container.blobs.local_path(sha)
    path.chmod(0o644)
    path.write_bytes(b"changed")
    bad = runner.invoke(args=["integrity", "check"])
    assert bad.exit_code == 1 and f"MISMATCH {sha}" in bad.output
