"""A37.1: the ledger detects any change to any covered row or blob, naming the entry."""

from __future__ import annotations

import base64
from contextlib import contextmanager
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, update
from sqlalchemy import inspect as sa_inspect

from core import ledger
from core.archive import guard
from core.cases.models import Evidence
from core.kernel.clock import utcnow
from core.kernel.ids import new_id
from core.ledger import merkle
from core.ledger.models import LedgerEntry
from tests.helpers import approve, auth, filing_form, open_case


def _small_case(client, people, container) -> dict:
    """A case with a party, an approved filing form, a stage change and one evidence item."""
    case = open_case(client, people["officer"])
    form = filing_form(client, people["officer"], case["id"])
    assert approve(client, people["supervisor"], case["id"], form["id"]).status_code == 201
    assert approve(client, people["head"], case["id"], form["id"]).status_code == 201
    r = client.post(f"/api/v1/cases/{case['id']}/transitions", json={"to": "investigation"},
                    headers=auth(people["officer"]))
    assert r.status_code == 200
    with container.uow() as uow:
        blob = uow.blobs.put_bytes(b"\xff\xd8\xff fake jpeg bytes for the ledger test")
        ev = Evidence(id=new_id(), case_id=case["id"], sha256=blob.sha256, size=blob.size,
                      media_type="image/jpeg", filename="site.jpg", proves="现场状况",
                      method="photo", producer_id=people["officer"]["id"],
                      captured_at=utcnow(), meta={"make": "Xiaomi"},
                      checks=[{"name": "type", "status": "pass", "detail": "JPEG"}],
                      assurance="verified", created_at=utcnow())
        uow.session.add(ev)
        ledger.append(uow.session, "evidence", ev, case_id=case["id"])
    return case


@contextmanager
def forger(container):
    """A raw connection with foreign-key checks off: a forger would not respect them either."""
    if container.engine.dialect.name == "sqlite":
        # PRAGMA foreign_keys cannot change inside a transaction, so use a plain connection.
        engine = create_engine(container.engine.url)
        with engine.begin() as conn:
            # A forger with the database file drops the A34.1 guard's triggers first (and puts
            # them back); the ledger must catch what they change all the same.
            guard.remove(conn)
            yield conn
            guard.install(conn)
        engine.dispose()
    else:
        with container.engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            yield conn


def expected_columns(targets, container) -> int:
    """How many (row, column) pairs can be mutated: every non-key column not null or textual."""
    n = 0
    with container.uow() as uow:
        for _, kind, subject_id in targets:
            model = ledger.COVERED[kind].model
            row = uow.session.get(model, subject_id)
            for c in model.__table__.columns:
                if c.primary_key or c.name in ledger.COVERED[kind].projections:
                    continue
                value = getattr(row, sa_inspect(model).get_property_by_column(c).key)
                n += value is not None or c.type.python_type is str
    return n


def _verify(container):
    with container.uow() as uow:
        return ledger.verify(uow.session, uow.signer, uow.blobs)


def _mutated(value, column):
    """A value that differs from the original in one small way."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 0.0001
    if isinstance(value, str):
        if column.type.python_type is str and len(value) == 64 and column.name.endswith("sha256"):
            return value[:-1] + ("0" if value[-1] != "0" else "1")
        return value[:-1] + chr(ord(value[-1]) ^ 1) if value else "x"
    if isinstance(value, dict):
        return {**value, "tampered": True}
    if isinstance(value, list):
        return [*value, "tampered"]
    if hasattr(value, "tzinfo"):
        return value + timedelta(seconds=1)
    if value is None:
        return None  # handled by the caller
    raise AssertionError(f"no mutation for {type(value)}")


def test_every_column_of_every_covered_row_is_protected(client, people, container):
    """A37.1: changing one field of any covered row makes verify name that row's entry."""
    _small_case(client, people, container)
    assert _verify(container).ok
    with container.uow() as uow:
        entries = uow.session.execute(select(LedgerEntry).order_by(LedgerEntry.seq)).scalars().all()
        targets = [(e.seq, e.kind, e.subject_id) for e in entries]
    assert {k for _, k, _ in targets} >= {"party", "case", "record", "approval",
                                          "stage_change", "evidence"}
    tried = 0
    for seq, kind, subject_id in targets:
        model = ledger.COVERED[kind].model
        mapper = sa_inspect(model)
        for column in model.__table__.columns:
            if column.name in ledger.COVERED[kind].projections:
                continue
            if column.primary_key:
                continue  # re-keying is the next test
            attr = mapper.get_property_by_column(column).key
            with container.uow() as uow:
                row = uow.session.get(model, subject_id)
                original = getattr(row, attr)
            if original is None:
                new = "tampered" if column.type.python_type is str else None
                if new is None:
                    continue
            else:
                new = _mutated(original, column)
            with forger(container) as conn:
                conn.execute(update(model.__table__).where(model.__table__.c.id == subject_id)
                             .values({column.name: new}))
            report = _verify(container)
            with forger(container) as conn:
                conn.execute(update(model.__table__).where(model.__table__.c.id == subject_id)
                             .values({column.name: original}))
            assert not report.ok, f"{kind}.{column.name} change went unnoticed"
            assert report.first().seq == seq, (kind, column.name, report.first())
            tried += 1
    assert tried == expected_columns(targets, container)
    assert _verify(container).ok


@pytest.mark.parametrize("kind", ["party", "case", "record", "approval", "stage_change",
                                  "evidence"])
def test_rekeyed_or_deleted_rows_are_named(client, people, container, kind):
    """A37.1: a covered row whose id changes (or that vanishes) is reported as missing."""
    _small_case(client, people, container)
    with container.uow() as uow:
        seq, subject_id = uow.session.execute(
            select(LedgerEntry.seq, LedgerEntry.subject_id).where(LedgerEntry.kind == kind)
            .order_by(LedgerEntry.seq)).first()
    model = ledger.COVERED[kind].model
    with forger(container) as conn:
        conn.execute(update(model.__table__).where(model.__table__.c.id == subject_id)
                     .values(id="f" * 32))
    report = _verify(container)
    assert report.first().seq == seq
    assert "missing" in report.first().message


def test_changed_blob_reordered_and_removed_entries(client, people, container):
    """A37.1: a changed blob, swapped entries and a removed entry are each detected."""
    _small_case(client, people, container)
    with container.uow() as uow:
        ev = uow.session.execute(select(Evidence)).scalar_one()
        ev_seq = uow.session.execute(select(LedgerEntry.seq).where(
            LedgerEntry.subject_id == ev.id)).scalar_one()
        path = uow.blobs.local_path(ev.sha256)
    path.chmod(0o644)
    original = path.read_bytes()
    path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    report = _verify(container)
    assert report.first().seq == ev_seq and "blob" in report.first().message
    path.write_bytes(original)
    assert _verify(container).ok

    # Swap the subjects of entries 1 and 2: each leaf now describes the other row.
    with container.engine.begin() as conn:
        t = LedgerEntry.__table__
        rows = {r.seq: r for r in conn.execute(select(t).where(t.c.seq.in_([1, 2])))}
        for a, b in ((1, 2), (2, 1)):
            conn.execute(update(t).where(t.c.seq == a).values(
                kind=rows[b].kind, subject_table=rows[b].subject_table,
                subject_id=rows[b].subject_id))
    assert _verify(container).first().seq == 1
    with container.engine.begin() as conn:
        for a in (1, 2):
            conn.execute(update(t).where(t.c.seq == a).values(
                kind=rows[a].kind, subject_table=rows[a].subject_table,
                subject_id=rows[a].subject_id))
    assert _verify(container).ok

    with container.engine.begin() as conn:
        conn.execute(t.delete().where(t.c.seq == 3))
    report = _verify(container)
    assert report.first().seq == 3


def test_projection_and_signature_tampering(client, people, container):
    """A37.1: a case's stage rewritten without a stage change, or a forged checkpoint, fails."""
    case = _small_case(client, people, container)
    from core.cases.models import Case
    from core.ledger.models import LedgerCheckpoint

    with container.engine.begin() as conn:
        conn.execute(update(Case.__table__).where(Case.__table__.c.id == case["id"])
                     .values(stage="archiving"))
    report = _verify(container)
    assert not report.ok and "stage" in report.first().message
    with container.engine.begin() as conn:
        conn.execute(update(Case.__table__).where(Case.__table__.c.id == case["id"])
                     .values(stage="investigation"))
        conn.execute(update(LedgerCheckpoint.__table__).values(signature=b"\0" * 64))
    assert any("signature" in d.message for d in _verify(container).damages)


def test_cli_verify_and_inclusion_proof(app, client, people, container):
    """A37.1: `flask ledger verify` exits 0 intact and 1 naming the entry; proofs verify."""
    case = _small_case(client, people, container)
    runner = CliRunner()
    ok = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert ok.exit_code == 0 and "ledger intact" in ok.output
    cp = client.get("/api/v1/ledger/checkpoint", headers=auth(people["officer"])).get_json()
    # An entry of the case: entries of no case are for the oversight roles (issue 12).
    with container.uow() as uow:
        seq = uow.session.execute(select(LedgerEntry.seq).where(
            LedgerEntry.case_id == case["id"]).order_by(LedgerEntry.seq)).scalars().first()
    proof = client.get(f"/api/v1/ledger/proof/{seq}",
                       headers=auth(people["officer"])).get_json()
    assert proof["tree_size"] == cp["tree_size"]
    assert merkle.verify_inclusion(base64.b64decode(proof["leaf_hash"]), seq,
                                   proof["tree_size"],
                                   [base64.b64decode(h) for h in proof["proof"]],
                                   base64.b64decode(cp["root_hash"]))
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(cp["public_key"]))
    assert ledger.verify_note(key, cp["note"], base64.b64decode(cp["signature"]))
    with container.engine.begin() as conn:
        from core.cases.models import Party

        conn.execute(update(Party.__table__).values(phone="13800000000"))
    bad = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert bad.exit_code == 1
    # The demo people's ledgered events come first; the party is the case's first entry.
    with container.uow() as uow:
        party_seq = uow.session.execute(select(LedgerEntry.seq).where(
            LedgerEntry.kind == "party")).scalar_one()
    assert f"entry {party_seq}: party" in bad.output
    del runner, case


def test_consistency_proof_between_checkpoints(client, people, container):
    """A37.1: an auditor holding an old checkpoint can prove the log only grew since."""
    _small_case(client, people, container)
    hdr = auth(people["officer"])
    old = client.get("/api/v1/ledger/checkpoint", headers=hdr).get_json()
    open_case(client, people["officer"])
    new = client.get("/api/v1/ledger/checkpoint", headers=hdr).get_json()
    assert new["tree_size"] > old["tree_size"]
    body = client.get(f"/api/v1/ledger/consistency?from={old['tree_size']}"
                      f"&to={new['tree_size']}", headers=hdr).get_json()
    assert body["from_root"] == old["root_hash"] and body["to_root"] == new["root_hash"]
    proof = [base64.b64decode(h) for h in body["proof"]]
    assert merkle.verify_consistency(old["tree_size"], new["tree_size"],
                                     base64.b64decode(old["root_hash"]),
                                     base64.b64decode(new["root_hash"]), proof)
    bad = client.get("/api/v1/ledger/consistency?from=0&to=1", headers=hdr)
    assert bad.status_code == 422


@pytest.mark.parametrize("chunk", [4, 20_000])
def test_stored_tree_hashes_changed_split_or_removed(client, people, container, monkeypatch,
                                                    chunk):
    """A37.1: a changed stored hash, two stored hashes whose bytes are shifted between them
    (the same bytes end to end) and a removed stored hash are each reported, whether they
    are compared a few at a time or all at once."""
    from core.ledger.models import LedgerHash
    from core.ledger.verify import _StoredHashes

    monkeypatch.setattr(_StoredHashes, "CHUNK", chunk)
    _small_case(client, people, container)
    t = LedgerHash.__table__
    with container.engine.begin() as conn:
        kept = {r.idx: r.hash for r in conn.execute(select(t).where(t.c.idx.in_([5, 6])))}
    assert _verify(container).ok

    def put(values: dict) -> None:
        with forger(container) as conn:
            for idx, h in values.items():
                conn.execute(update(t).where(t.c.idx == idx).values(hash=h))

    put({5: kept[5][:-1] + bytes([kept[5][-1] ^ 1])})
    assert [d.message for d in _verify(container).damages] == [
        "stored tree hashes: stored tree hashes differ from the recomputed tree"]
    joined = kept[5] + kept[6]
    put({5: joined[:31], 6: joined[31:]})
    assert [d.message for d in _verify(container).damages] == [
        "stored tree hashes: stored tree hashes differ from the recomputed tree"]
    put(kept)
    assert _verify(container).ok
    with forger(container) as conn:
        conn.execute(t.delete().where(t.c.idx == 6))
    assert [d.message for d in _verify(container).damages] == [
        "stored tree hashes: stored hash 6 is missing"]
