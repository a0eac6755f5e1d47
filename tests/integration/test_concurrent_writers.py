"""Many writers at once, as at 17:30 when a district syncs (issue 13 items 4 and 6): case
numbers never repeat or skip (A2.1), ledger sequence numbers stay gapless and the log
verifies; on PostgreSQL the writers really overlap (the head row lock orders them)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from core import ledger
from core.cases.models import Case
from core.ledger.models import LedgerEntry
from tests.helpers import open_case

WRITERS, EACH = 8, 4


def test_concurrent_case_openings_number_and_ledger_in_order(app, container, people):
    """8 clients open 4 cases each at once: serials 1..32 with no repeat or gap, ledger
    seqs 0..n-1 with no gap, every case's entry present, and verify passes."""
    start = threading.Barrier(WRITERS)

    def writer(_):
        client = app.test_client()
        start.wait(10)
        return [open_case(client, people["officer"])["number"] for _ in range(EACH)]

    with ThreadPoolExecutor(WRITERS) as pool:
        numbers = [n for batch in pool.map(writer, range(WRITERS)) for n in batch]
    assert len(set(numbers)) == WRITERS * EACH
    with container.uow() as uow:
        serials = sorted(uow.session.execute(select(Case.serial)).scalars())
        seqs = list(uow.session.execute(select(LedgerEntry.seq).order_by(LedgerEntry.seq))
                    .scalars())
        cased = set(uow.session.execute(select(LedgerEntry.subject_id)
                                        .where(LedgerEntry.kind == "case")).scalars())
        case_ids = set(uow.session.execute(select(Case.id)).scalars())
        report = ledger.verify(uow.session, uow.signer, uow.blobs)
    assert serials == list(range(1, WRITERS * EACH + 1))
    assert seqs == list(range(len(seqs)))
    assert cased == case_ids
    assert report.ok
