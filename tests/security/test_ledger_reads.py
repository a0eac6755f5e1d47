"""Issue 12, finding 10: ledger proofs of entries of no case (people, tokens, the calendar) are
for the oversight roles only, and a reader's GETs sign a bounded number of checkpoints."""

from __future__ import annotations

from sqlalchemy import func, select

from core.ledger.models import LedgerCheckpoint, LedgerEntry
from core.people.officers import add_officer, department_by_code, issue_token
from tests.helpers import auth, open_case


def test_entries_of_no_case_are_for_auditors(client, container, people):
    """An officer gets 404 for an officer-state entry, an auditor gets the proof."""
    open_case(client, people["officer"])
    with container.uow() as uow:
        seq = uow.session.execute(select(LedgerEntry.seq).where(
            LedgerEntry.case_id.is_(None)).order_by(LedgerEntry.seq)).scalars().first()
        auditor = add_officer(uow.session, department_by_code(uow.session, "YYZJ"), "审计",
                              ["auditor"])
        token = issue_token(uow.session, auditor)
    assert client.get(f"/api/v1/ledger/proof/{seq}",
                      headers=auth(people["officer"])).status_code == 404
    r = client.get(f"/api/v1/ledger/proof/{seq}", headers=auth({"token": token}))
    assert r.status_code == 200 and r.get_json()["entry"] == seq


def test_checkpoints_signed_on_demand_are_bounded(client, container, people):
    """30 on-demand checkpoints an hour per reader; then the newest one is returned."""
    hdr = auth(people["officer"])
    for _ in range(32):
        open_case(client, people["officer"])
        assert client.get("/api/v1/ledger/checkpoint", headers=hdr).status_code == 200
    with container.uow() as uow:
        on_demand = uow.session.execute(select(func.count()).select_from(LedgerCheckpoint)
                                        .where(LedgerCheckpoint.reason == "on_demand")
                                        ).scalar_one()
    assert on_demand == 1 + 30  # the log's first checkpoint, then the reader's 30
