"""Ledger figures (issue 2): append rate, verify rate over 100,000 entries against plain
SHA-256 of the same bytes, and inclusion-proof time at 1,000,000 entries.

    .venv/bin/python bench/ledger_bench.py [--db sqlite|postgres] [--verify-n 100000]
                                           [--proof-n 1000000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch import make_db  # noqa: E402 - bench/ is on sys.path as the script's folder
from sqlalchemy import insert, select  # noqa: E402

from core import ledger
from core.bootstrap import bootstrap  # noqa: E402
from core.cases.models import Party  # noqa: E402
from core.kernel.clock import utcnow  # noqa: E402
from core.kernel.ids import new_id  # noqa: E402
from core.kernel.settings import Settings  # noqa: E402
from core.ledger import merkle  # noqa: E402
from core.ledger.models import LedgerEntry, LedgerHash, LedgerHead
from core.people.officers import add_officer, ensure_department  # noqa: E402
from core.platform.migrate import upgrade  # noqa: E402


def party(dept_id: str, officer_id: str, i: int) -> Party:
    """A realistic covered row."""
    return Party(id=new_id(), department_id=dept_id, kind="organisation",
                 name=f"岳阳某建设有限公司{i}", id_number=f"91430600MA4L{i:06d}",
                 phone="13800000000", address="岳阳市岳阳楼区某路1号", created_at=utcnow(),
                 created_by=officer_id)


def main() -> None:
    """Run the three measurements and print them."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    ap.add_argument("--append-n", type=int, default=2000)
    ap.add_argument("--verify-n", type=int, default=100_000)
    ap.add_argument("--proof-n", type=int, default=1_000_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="qc-bench-"))
    url, drop = make_db(args.db, tmp)
    try:
        c = bootstrap(Settings(database_url=url, instance_path=tmp / "instance",
                               storage_url=f"file://{tmp / 'blobs'}"))
        upgrade(c.engine)
        with c.uow() as uow:
            dept = ensure_department(uow.session, "BENCH", "bench")
            off = add_officer(uow.session, dept, "bench", ["officer"])
            dept_id, off_id = dept.id, off.id
        out = {"db": args.db}

        # 1. Append rate, one transaction per entry (what a request does).
        t0 = time.perf_counter()
        for i in range(args.append_n):
            with c.uow() as uow:
                p = party(dept_id, off_id, i)
                uow.session.add(p)
                ledger.append(uow.session, "party", p)
        dt = time.perf_counter() - t0
        out["append_per_tx_entries_per_s"] = round(args.append_n / dt, 1)
        print(f"append, one transaction each: {args.append_n / dt:,.0f} entries/s")

        # Batched appends fill the log up to verify-n (and measure the in-transaction rate).
        t0 = time.perf_counter()
        done = args.append_n
        while done < args.verify_n:
            with c.uow() as uow:
                for _ in range(min(1000, args.verify_n - done)):
                    p = party(dept_id, off_id, done)
                    uow.session.add(p)
                    ledger.append(uow.session, "party", p)
                    done += 1
        dt = time.perf_counter() - t0
        n_batched = args.verify_n - args.append_n
        if n_batched > 0:
            out["append_batched_entries_per_s"] = round(n_batched / dt, 1)
            print(f"append, 1,000 per transaction: {n_batched / dt:,.0f} entries/s")

        # 2. Verify over verify-n entries, against plain SHA-256 of the same leaf bytes.
        with c.uow() as uow:
            ledger.make_checkpoint(uow.session, uow.signer, reason="bench")
        t0 = time.perf_counter()
        with c.uow() as uow:
            report = ledger.verify(uow.session, uow.signer, uow.blobs)
        t_verify = time.perf_counter() - t0
        assert report.ok, report.first()
        with c.uow() as uow:
            entries = uow.session.execute(select(LedgerEntry).order_by(LedgerEntry.seq)
                                          ).scalars().all()
            rows = {p.id: p for p in uow.session.execute(select(Party)).scalars()}
            blobs = [ledger.canonical_json(ledger.leaf_document(e, rows[e.subject_id]))
                     for e in entries]
        t0 = time.perf_counter()
        for b in blobs:
            hashlib.sha256(b"\x00" + b).digest()
        t_sha = time.perf_counter() - t0
        total = sum(len(b) for b in blobs)
        out.update(verify_entries=report.entries, verify_s=round(t_verify, 3),
                   verify_entries_per_s=round(report.entries / t_verify, 1),
                   plain_sha256_s=round(t_sha, 4), leaf_bytes=total,
                   verify_over_sha256_ratio=round(t_verify / t_sha, 1))
        print(f"verify {report.entries:,} entries: {t_verify:.2f} s "
              f"({report.entries / t_verify:,.0f} entries/s); plain SHA-256 of the same "
              f"{total / 1e6:.1f} MB: {t_sha:.3f} s; ratio {t_verify / t_sha:.0f}x")

        # 3. Inclusion proofs at proof-n entries: the stored-hash table of a tree that size.
        store = merkle.MemoryHashStore()
        for i in range(args.proof_n):
            store.append_leaf(merkle.leaf_hash(i.to_bytes(8, "big")))
        count = merkle.stored_hash_count(args.proof_n)
        with c.engine.begin() as conn:
            conn.execute(LedgerHash.__table__.delete())
            conn.execute(LedgerEntry.__table__.delete())
            for start in range(0, count, 50_000):
                conn.execute(insert(LedgerHash), [
                    {"idx": i, "hash": h} for i, h in
                    zip(range(start, min(count, start + 50_000)),
                        store.read_hashes(range(start, min(count, start + 50_000))),
                        strict=True)])
            conn.execute(insert(LedgerEntry), [
                {"seq": s, "kind": "party", "subject_table": "parties", "subject_id": "x",
                 "case_id": None, "leaf_hash": merkle.leaf_hash(s.to_bytes(8, "big")),
                 "created_at": utcnow()} for s in range(0, args.proof_n, args.proof_n // 1000)])
            conn.execute(LedgerHead.__table__.update().values(size=args.proof_n))
        times = []
        root = store.root()
        with c.uow() as uow:
            for s in range(0, args.proof_n, args.proof_n // 1000):
                t0 = time.perf_counter()
                p = ledger.inclusion(uow.session, s, args.proof_n)
                times.append(time.perf_counter() - t0)
                import base64
                assert merkle.verify_inclusion(
                    base64.b64decode(p["leaf_hash"]), s, args.proof_n,
                    [base64.b64decode(h) for h in p["proof"]], root)
        times.sort()
        out.update(proof_tree_size=args.proof_n,
                   proof_median_ms=round(statistics.median(times) * 1000, 3),
                   proof_p99_ms=round(times[int(len(times) * 0.99) - 1] * 1000, 3))
        print(f"inclusion proof at {args.proof_n:,} entries ({args.db}): median "
              f"{out['proof_median_ms']} ms, p99 {out['proof_p99_ms']} ms over {len(times)} proofs")
        c.engine.dispose()
        print(json.dumps(out))
    finally:
        drop()


if __name__ == "__main__":
    main()
