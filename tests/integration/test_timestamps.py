"""A37.1 (issue 12): RFC 3161 timestamps on signed checkpoints, from a local authority made
with `openssl ts`: queued with the checkpoint, fetched off the hot path, retried when the
authority is down, and checked by `ledger verify` (imprint, signature, chain)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core import ledger
from core.bootstrap import bootstrap
from core.kernel.clock import utcnow
from core.ledger.models import LedgerCheckpoint, LedgerTimestamp
from core.ledger.timestamps import Authority, TimestampError, request_token, stamp_pending
from core.people.officers import demo_seed
from tests.support.tsa import LocalTsa, openssl_available

pytestmark = pytest.mark.skipif(not openssl_available(), reason="the openssl command is absent")


@pytest.fixture
def tsa(tmp_path):
    """A running local TSA."""
    authority = LocalTsa(tmp_path / "tsa").start()
    yield authority
    authority.stop()


@pytest.fixture
def stamped(settings, tsa):
    """A container whose settings name the local TSA and its CA."""
    s = dataclasses.replace(settings, tsa_url=tsa.url, tsa_ca_path=str(tsa.ca_path),
                            tsa_cert_path=str(tsa.cert_path))
    c = bootstrap(s)
    yield c
    c.engine.dispose()


def _checkpoint(c) -> int:
    with c.uow() as uow:
        demo_seed(uow.session)
        return ledger.make_checkpoint(uow.session, uow.signer, reason="cli").id


def _verify(c):
    with c.uow() as uow:
        return ledger.verify(uow.session, uow.signer, uow.blobs)


def test_checkpoint_is_stamped_after_commit_and_verified(stamped, tsa):
    """A37.1: the checkpoint's transaction only queues the request; the stamp fetched later
    carries the note's SHA-256 and chains to the TSA's CA; verify counts it."""
    cp_id = _checkpoint(stamped)
    assert tsa.requests == 0  # nothing was asked while the checkpoint was written
    with stamped.uow() as uow:
        row = uow.session.execute(select(LedgerTimestamp)).scalar_one()
        assert row.checkpoint_id == cp_id and row.token is None
    assert stamp_pending(stamped.uow, stamped.settings) == {"stamped": 1, "failed": 0}
    with stamped.uow() as uow:
        row = uow.session.execute(select(LedgerTimestamp)).scalar_one()
        cp = uow.session.get(LedgerCheckpoint, cp_id)
        assert row.token and row.gen_time is not None and row.attempts == 1
        response = Authority.from_settings(stamped.settings).check(row.token, cp.note.encode())
        import hashlib

        assert response.tst_info.message_imprint.message == hashlib.sha256(
            cp.note.encode()).digest()
    report = _verify(stamped)
    assert report.ok and report.timestamps == 1, report.damages


@pytest.mark.parametrize("change", ["token", "gen_time", "other_note"])
def test_changed_or_moved_token_is_caught(stamped, change):
    """A37.1: a token altered by one byte, a stored time that is not the token's, and a token
    moved onto another checkpoint are each reported."""
    first = _checkpoint(stamped)
    second = _checkpoint(stamped)
    stamp_pending(stamped.uow, stamped.settings)
    t = LedgerTimestamp.__table__
    with stamped.engine.begin() as conn:
        rows = {r.checkpoint_id: r for r in conn.execute(select(t))}
        if change == "token":
            tok = rows[first].token
            i = len(tok) // 2
            conn.execute(update(t).where(t.c.checkpoint_id == first)
                         .values(token=tok[:i] + bytes([tok[i] ^ 1]) + tok[i + 1:]))
        elif change == "gen_time":
            conn.execute(update(t).where(t.c.checkpoint_id == first)
                         .values(gen_time=rows[first].gen_time - timedelta(days=1)))
        else:
            conn.execute(update(t).where(t.c.checkpoint_id == first)
                         .values(token=rows[second].token, gen_time=rows[second].gen_time))
    report = _verify(stamped)
    assert any(f"timestamp of checkpoint {first}" in d.message for d in report.damages), \
        report.damages


def test_authority_down_is_retried_and_never_blocks(stamped, tsa, clock):
    """A37.1: with the TSA down records and checkpoints are written as usual; the failure is
    kept with a later retry time, and the next try after it succeeds."""
    tsa.down = True
    _checkpoint(stamped)
    out = stamp_pending(stamped.uow, stamped.settings)
    assert out == {"stamped": 0, "failed": 1}
    with stamped.uow() as uow:
        row = uow.session.execute(select(LedgerTimestamp)).scalar_one()
        assert row.token is None and row.attempts == 1 and "503" in row.last_error
        assert row.next_try_at > utcnow()
    assert stamp_pending(stamped.uow, stamped.settings) == {"stamped": 0, "failed": 0}  # not due
    tsa.down = False
    clock.advance(minutes=1)
    assert stamp_pending(stamped.uow, stamped.settings) == {"stamped": 1, "failed": 0}
    assert _verify(stamped).ok


def test_token_of_another_authority_is_refused(stamped, tmp_path):
    """A37.1: a valid token from an authority outside the configured CA does not verify."""
    cp_id = _checkpoint(stamped)
    rogue = LocalTsa(tmp_path / "rogue", name="Rogue").start()
    try:
        with stamped.uow() as uow:
            note = uow.session.get(LedgerCheckpoint, cp_id).note
        token = request_token(rogue.url, note.encode())
    finally:
        rogue.stop()
    with pytest.raises(TimestampError):
        Authority.from_settings(stamped.settings).check(token, note.encode())
    with stamped.engine.begin() as conn:
        conn.execute(update(LedgerTimestamp.__table__).values(token=token, gen_time=utcnow()))
    report = _verify(stamped)
    assert any("does not verify" in d.message for d in report.damages), report.damages


def test_cli_stamp_and_verify(stamped, tsa):
    """A37.1: `flask ledger stamp` fetches pending stamps; `flask ledger verify` counts them."""
    from api import create_app

    app = create_app({"CONTAINER": stamped, "TESTING": True})
    _checkpoint(stamped)
    out = app.test_cli_runner().invoke(args=["ledger", "stamp"])
    assert out.exit_code == 0 and "1 stamped" in out.output, out.output
    out = app.test_cli_runner().invoke(args=["ledger", "verify", "--quiet"])
    assert out.exit_code == 0 and "1 timestamps" in out.output, out.output
