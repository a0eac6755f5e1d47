"""A37.1 (issue 12): how changes to mutable tables become ledgered state events — captured at
the session whatever service made them, only when committed, named, with who made them — and
the verify machinery around them: adoption of rows from before, the fast encoder checked by
the reference one, progress reporting, and worker processes that must agree with one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from core import ledger
from core.cases.models import Evidence
from core.kernel.clock import utcnow
from core.kernel.ids import new_id
from core.ledger.models import LedgerEntry, LedgerState
from core.people.models import ApiToken, Officer
from core.rules.calendar_store import add_override
from tests.conftest import BACKEND
from tests.integration.test_ledger_tamper import _small_case, forger


def _states(container, table: str) -> list[LedgerState]:
    with container.uow() as uow:
        return list(uow.session.execute(select(LedgerState).where(
            LedgerState.table_name == table).order_by(LedgerState.at)).scalars())


def test_each_change_is_one_named_event_with_its_actor(container, people):
    """A37.1: roles and certificate changed together are one event naming both; a token's
    revocation is token.revoked; the calendar edit carries who made it."""
    oid = people["officer"]["id"]
    with container.uow() as uow:
        ledger.acting(uow.session, "officer:admin1")
        o = uow.session.get(Officer, oid)
        o.roles, o.certificate_no = ["officer", "head"], "湘执999"
    with container.uow() as uow:
        t = uow.session.execute(select(ApiToken).where(ApiToken.officer_id == oid)
                                ).scalars().first()
        t.revoked_at = utcnow()
    with container.uow() as uow:
        add_override(uow.session, "cli:张三", "2027-02-07", True, "调休", channel="cli")
    officers = _states(container, "officers")
    last = officers[-1]
    assert last.event == "officer.certificate_changed+roles_changed"
    assert last.actor == "officer:admin1"
    assert last.rows == [{"key": oid, "state": {**last.rows[0]["state"],
                                                "roles": ["officer", "head"],
                                                "certificate_no": "湘执999"}}]
    assert _states(container, "api_tokens")[-1].event == "token.revoked"
    cal = _states(container, "calendar_overrides")
    assert cal[-1].event == "calendar.override_added" and cal[-1].actor == "cli:张三"
    with container.uow() as uow:
        assert ledger.verify(uow.session, uow.signer).ok


def test_rolled_back_changes_and_savepoints_are_not_ledgered(container, people):
    """A37.1: a transaction that fails ledgers nothing; a savepoint rolled back inside a
    committed transaction takes its change with it, while the rest is ledgered."""
    oid = people["officer"]["id"]
    before = len(_states(container, "officers"))
    with pytest.raises(RuntimeError), container.uow() as uow:
        uow.session.get(Officer, oid).name = "不存在"
        uow.session.flush()
        raise RuntimeError("the request failed")
    assert len(_states(container, "officers")) == before
    with container.uow() as uow:
        try:
            with uow.session.begin_nested():
                uow.session.get(Officer, oid).name = "也不存在"
                uow.session.flush()
                raise ValueError("undo this part")
        except ValueError:
            pass
        uow.session.get(Officer, oid).lang = "en"
    states = _states(container, "officers")
    assert len(states) == before + 1 and states[-1].event == "officer.language_changed"
    with container.uow() as uow:
        assert uow.session.get(Officer, oid).name == people["officer"]["name"]
        assert ledger.verify(uow.session, uow.signer).ok


def test_working_columns_and_bulk_updates(container, people):
    """A37.1: a change to working columns only is no event; a bulk UPDATE that bypasses the
    session is not captured, so verify reports it."""
    with container.uow() as uow:
        before = uow.session.execute(select(LedgerEntry.seq).order_by(
            LedgerEntry.seq.desc())).scalars().first()
        uow.session.execute(update(Officer).where(Officer.id == people["head"]["id"])
                            .values(active=False))
    with container.uow() as uow:
        report = ledger.verify(uow.session, uow.signer)
        after = uow.session.execute(select(LedgerEntry.seq).order_by(
            LedgerEntry.seq.desc())).scalars().first()
    assert before == after
    assert ("officers", people["head"]["id"], "active") in {
        (d.table, d.row, d.column) for d in report.damages}


def test_adopt_ledgers_rows_from_before(app, container, people):
    """A37.1: rows written before this ledgering (here: inserted without an event) are
    reported until `flask ledger adopt` ledgers their present state once."""
    with forger(container) as conn:
        conn.execute(ApiToken.__table__.insert().values(
            id=new_id(), officer_id=people["officer"]["id"], token_hash="1" * 64, label="old",
            created_at=datetime(2025, 1, 1, tzinfo=UTC), revoked_at=None))
    with container.uow() as uow:
        assert not ledger.verify(uow.session, uow.signer).ok
    out = app.test_cli_runner().invoke(args=["ledger", "adopt"])
    assert out.exit_code == 0 and "api_tokens: 1 rows adopted" in out.output, out.output
    assert "officers: 0 rows adopted" in out.output
    with container.uow() as uow:
        assert ledger.verify(uow.session, uow.signer).ok
    assert _states(container, "api_tokens")[-1].event == "token.adopted"


def test_fast_encoder_agrees_and_the_reference_decides(client, people, container):
    """A37.1: on real rows the fast encoder reproduces every logged leaf; a float the two
    encoders print differently (1e-05) is settled by the reference encoder, and still verifies;
    a changed value still fails."""
    case = _small_case(client, people, container)
    with container.uow() as uow:
        report = ledger.verify(uow.session, uow.signer, uow.blobs)
    assert report.ok and report.reference_leaves == 0
    with container.uow() as uow:
        blob = uow.blobs.put_bytes(b"\xff\xd8\xff exposure")
        ev = Evidence(id=new_id(), case_id=case["id"], sha256=blob.sha256, size=blob.size,
                      media_type="image/jpeg", filename="e.jpg", proves="曝光", method="photo",
                      producer_id=people["officer"]["id"], captured_at=utcnow(),
                      meta={"exposure_s": 1e-05, "big": 2**70}, checks=[],
                      assurance="verified", created_at=utcnow())
        uow.session.add(ev)
        ledger.append(uow.session, "evidence", ev, case_id=case["id"])
    with container.uow() as uow:
        report = ledger.verify(uow.session, uow.signer, uow.blobs)
    assert report.ok and report.reference_leaves == 1, report.damages
    with forger(container) as conn:
        conn.execute(update(Evidence.__table__).where(Evidence.__table__.c.id == ev.id)
                     .values(meta={"exposure_s": 2e-05, "big": 2**70}))
    with container.uow() as uow:
        assert not ledger.verify(uow.session, uow.signer, uow.blobs).ok


def test_progress_is_reported(app, client, people, container):
    """A37.1: verify calls the progress hook with the entries done and the total, ending at
    the total; the CLI shows it as a progress bar."""
    _small_case(client, people, container)
    calls = []
    with container.uow() as uow:
        report = ledger.verify(uow.session, uow.signer, batch=3,
                               progress=lambda done, total: calls.append((done, total)))
    assert len(calls) >= 3 and calls[-1] == (report.entries, report.entries)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    out = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert out.exit_code == 0 and "verifying the ledger" in out.output


@pytest.mark.skipif(BACKEND != "postgres", reason="worker processes read a PostgreSQL snapshot")
def test_worker_processes_agree_with_one_process(client, people, container):
    """A37.1: leaves recomputed by two worker processes on the exported snapshot give the same
    report as one process, intact and after a change."""
    for _ in range(3):
        _small_case(client, people, container)

    def both():
        with container.uow() as uow:
            one = ledger.verify(uow.session, uow.signer, uow.blobs, batch=7)
        with container.uow() as uow:
            two = ledger.verify(uow.session, uow.signer, uow.blobs, batch=7, workers=2)
        return one, two

    one, two = both()
    assert one.ok and two.ok and one.entries == two.entries
    with container.engine.begin() as conn:
        from core.cases.models import Party

        conn.execute(update(Party.__table__).values(phone="1"))
        conn.execute(update(Officer.__table__).where(Officer.id == people["head"]["id"])
                     .values(name="某"))
    one, two = both()
    assert not one.ok
    assert [(d.seq, d.message) for d in one.damages] == [(d.seq, d.message) for d in two.damages]


def test_states_of_one_commit_are_appended_as_one_batch(container, people):
    """A37.1: the states a commit writes are appended together (one lock of the head, hashes
    of the batch read before they are flushed); the log is the one single appends make: its
    stored hashes are those of the leaves appended one by one, and verify finds it intact."""
    from core.ledger import merkle
    from core.ledger.log import DbHashReader

    with container.uow() as uow:
        before = ledger.current_size(uow.session)
        for day in range(1, 8):  # seven flushes: seven state events, crossing tree levels
            add_override(uow.session, "cli:张三", f"2027-03-0{day}", False, f"第{day}天",
                         channel="cli")
    with container.uow() as uow:
        entries = list(uow.session.execute(select(LedgerEntry).order_by(LedgerEntry.seq))
                       .scalars())
        new = [e for e in entries if e.seq >= before]
        assert [e.kind for e in new] == ["state"] * 7
        assert [e.seq for e in new] == list(range(before, before + 7))
        one_by_one = merkle.MemoryHashStore(ledger.session_suite(uow.session).hasher)
        for e in entries:
            one_by_one.append_leaf(e.leaf_hash)
        size = ledger.current_size(uow.session)
        assert size == len(entries) == before + 7
        reader = DbHashReader(uow.session)
        count = merkle.stored_hash_count(size)
        assert reader.read_hashes(range(count)) == one_by_one.read_hashes(range(count))
        assert ledger.verify(uow.session, uow.signer).ok


@pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL's READ COMMITTED sees new rows")
def test_appends_committed_while_verify_runs_are_not_half_seen(client, people, container):
    """A37.1: `flask ledger verify` reads one snapshot (ledger.one_snapshot): a case opened by
    another writer while it runs is not seen at all, so an intact log is reported intact. Read
    committed, its later statements saw the new case's deadline and reminder rows without their
    entries and reported them as added without a ledgered event."""
    for _ in range(2):
        _small_case(client, people, container)
    opened = []

    def meanwhile(done: int, _total: int) -> None:
        if not opened:  # after the first batch: another writer commits a whole case
            opened.append(_small_case(client, people, container))

    with container.uow() as uow:
        ledger.one_snapshot(uow.session)
        size = ledger.current_size(uow.session)
        report = ledger.verify(uow.session, uow.signer, uow.blobs, batch=5, progress=meanwhile)
    assert opened
    assert report.ok, [d.message for d in report.damages]
    assert report.entries == size
