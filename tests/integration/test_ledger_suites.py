"""A37.1 (issue 12, 国密): LEDGER_ALGORITHMS=sm3-sm2 runs the whole ledger on SM3 leaves and
tree with SM2-signed checkpoints, records the suite in the head and every checkpoint, and a
process configured with another suite than the database's refuses to start or append."""

from __future__ import annotations

import base64
import dataclasses

import pytest
from sqlalchemy import select, update

from core import ledger
from core.bootstrap import bootstrap
from core.cases.models import Party
from core.ledger import merkle
from core.ledger.algorithms import verify_sm2
from core.ledger.models import LedgerEntry, LedgerHead
from core.people.models import Officer
from core.people.officers import demo_seed
from tests.helpers import approve, auth, filing_form, open_case


@pytest.fixture
def sm_container(settings):
    """A container on the 国密 suite."""
    c = bootstrap(dataclasses.replace(settings, ledger_algorithms="sm3-sm2"))
    yield c
    c.engine.dispose()


def _people(c) -> dict:
    with c.uow() as uow:
        users = demo_seed(uow.session)["users"]
    return {u["role"]: u for u in users}


def _case(c) -> dict:
    from api import create_app

    client = create_app({"CONTAINER": c, "TESTING": True}).test_client()
    people = _people(c)
    case = open_case(client, people["officer"])
    form = filing_form(client, people["officer"], case["id"])
    assert approve(client, people["supervisor"], case["id"], form["id"]).status_code == 201
    assert approve(client, people["head"], case["id"], form["id"]).status_code == 201
    r = client.post(f"/api/v1/cases/{case['id']}/transitions", json={"to": "investigation"},
                    headers=auth(people["officer"]))
    assert r.status_code == 200
    cp = client.get("/api/v1/ledger/checkpoint", headers=auth(people["officer"])).get_json()
    # An entry of the case: entries of no case are for the oversight roles (issue 12).
    with c.uow() as uow:
        seq = uow.session.execute(select(LedgerEntry.seq).where(
            LedgerEntry.case_id == case["id"]).order_by(LedgerEntry.seq)).scalars().first()
    proof = client.get(f"/api/v1/ledger/proof/{seq}",
                       headers=auth(people["officer"])).get_json()
    return {"case": case, "checkpoint": cp, "proof": proof}


def test_sm3_sm2_ledger_end_to_end(sm_container):
    """A37.1 国密: leaves are SM3 of the leaf document, the tree is SM3, checkpoints are SM2
    over a note that names the suite; an auditor checks both with the public key; verify
    passes, and a changed party is caught."""
    out = _case(sm_container)
    cp = out["checkpoint"]
    assert cp["algorithms"] == "sm3-sm2" and cp["hash"] == "sm3"
    assert cp["algorithm"] == "SM2-with-SM3" and "algorithms sm3-sm2\n" in cp["note"]
    public = base64.b64decode(cp["public_key"])
    assert verify_sm2(public, base64.b64decode(cp["signature"]), cp["note"].encode())
    assert cp["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    sm3 = merkle.hasher_named("sm3")
    proof = out["proof"]
    assert merkle.verify_inclusion(base64.b64decode(proof["leaf_hash"]), proof["entry"],
                                   proof["tree_size"],
                                   [base64.b64decode(h) for h in proof["proof"]],
                                   base64.b64decode(cp["root_hash"]), sm3)
    with sm_container.uow() as uow:
        assert uow.session.get(LedgerHead, 1).algorithms == "sm3-sm2"
        entry = uow.session.get(LedgerEntry, 3)
        model = ledger.COVERED[entry.kind].model
        row = uow.session.get(model, entry.subject_id)
        doc = ledger.canonical_json(ledger.leaf_document(entry, row))
        assert entry.leaf_hash == sm3.leaf(doc) != merkle.SHA256.leaf(doc)
        report = ledger.verify(uow.session, uow.signer, uow.blobs)
    assert report.ok, report.damages
    with sm_container.engine.begin() as conn:
        conn.execute(update(Party.__table__).values(phone="13900000000"))
    with sm_container.uow() as uow:
        party_seq = uow.session.execute(select(LedgerEntry.seq).where(
            LedgerEntry.kind == "party")).scalar_one()
        assert ledger.verify(uow.session, uow.signer, uow.blobs).first().seq == party_seq


def test_another_suite_refuses_to_start_or_append(settings, sm_container):
    """A37.1 国密: the suite is chosen at installation — a database whose ledger is SM3/SM2 is
    refused by a default process, and a SHA-256 ledger by an sm3-sm2 process."""
    _case(sm_container)
    with pytest.raises(ledger.LedgerError, match="refusing to start"):
        bootstrap(settings)


def test_default_database_refuses_the_sm_suite(container, people, settings):
    """A37.1 国密: a SHA-256 ledger cannot be continued under sm3-sm2, at start or at append
    (a change made anyway is rolled back)."""
    with pytest.raises(ledger.LedgerError, match="refusing to start"):
        bootstrap(dataclasses.replace(settings, ledger_algorithms="sm3-sm2"))
    with pytest.raises(ledger.LedgerError, match="refusing to append"), container.uow() as uow:
        uow.session.info["settings"] = dataclasses.replace(settings,
                                                           ledger_algorithms="sm3-sm2")
        uow.session.get(Officer, people["officer"]["id"]).name = "改名"
    with container.uow() as uow:
        assert uow.session.get(Officer, people["officer"]["id"]).name == people["officer"]["name"]
        assert ledger.verify(uow.session, uow.signer).ok
