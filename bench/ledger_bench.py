"""Ledger figures (issues 2 and 13): append rate, streaming verify rate against plain SHA-256 of
the same leaf bytes (same run), the time to verify 10 million entries, and inclusion-proof time
at 1,000,000 entries.

    .venv/bin/python bench/ledger_bench.py [--db sqlite|postgres] [--verify-n 100000]
                                           [--scale-n 1000000] [--proof-n 1000000]
                                           [--algorithms sha256-ed25519|sm3-sm2]

The log is filled to --verify-n (then --scale-n) entries by a bulk writer that produces exactly
what ``ledger.append`` writes — the same leaf documents, leaf hashes and stored tree hashes —
but in large batches, so that a million entries take minutes rather than hours; verify passing
over it is the proof that it is a valid log. The 10-million figure is measured when
--scale-n is 10,000,000, else extrapolated linearly from the largest measured size: verify is
one pass over the entries with O(log n) tree memory, so its time is linear in the entries
(the run prints the rate at each size so the linearity can be checked).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# verify's worker processes (spawned) import this script again as __mp_main__: they need
# none of it, and `flask ledger verify`'s workers import no more than flask's script.
if __name__ != "__mp_main__":
    from scratch import make_db  # noqa: E402 - bench/ is on sys.path as the script's folder
    from sqlalchemy import insert, select, update  # noqa: E402

    from core import ledger  # noqa: E402
    from core.bootstrap import bootstrap  # noqa: E402
    from core.cases.models import Party  # noqa: E402
    from core.kernel.clock import utcnow  # noqa: E402
    from core.kernel.ids import new_id  # noqa: E402
    from core.kernel.settings import Settings  # noqa: E402
    from core.ledger import merkle  # noqa: E402
    from core.ledger.log import canonical_json, row_payload  # noqa: E402
    from core.ledger.models import LedgerEntry, LedgerHash, LedgerHead  # noqa: E402
    from core.people.officers import add_officer, ensure_department  # noqa: E402
    from core.platform.migrate import upgrade  # noqa: E402


def party(dept_id: str, officer_id: str, i: int) -> Party:
    """A realistic covered row."""
    return Party(id=new_id(), department_id=dept_id, kind="organisation",
                 name=f"岳阳某建设有限公司{i}", id_number=f"91430600MA4L{i:06d}",
                 phone="13800000000", address="岳阳市岳阳楼区某路1号", created_at=utcnow(),
                 created_by=officer_id)


def bulk_fill(c, upto: int, dept_id: str, off_id: str, chunk: int = 20_000) -> float:
    """Append parties until the log has `upto` entries, writing what ledger.append writes in
    batches; returns the seconds taken."""
    t0 = time.perf_counter()
    with c.engine.begin() as conn:
        head = conn.execute(select(LedgerHead.size, LedgerHead.algorithms)
                            .where(LedgerHead.id == 1)).one()
        size = head.size
        hasher = ledger.suite_named(head.algorithms).hasher
        # Rebuild the right edge of the tree from the stored hashes (cheap: O(log n) reads).
        tree = merkle.CompactTree(hasher)
        leaves = conn.execute(select(LedgerEntry.leaf_hash).order_by(LedgerEntry.seq)
                              ).scalars().all()
        for leaf in leaves:
            tree.append(leaf)
        assert tree.size == size
    while size < upto:
        n = min(chunk, upto - size)
        parties, entries, hashes = [], [], []
        start_idx = merkle.stored_hash_count(size)
        for i in range(n):
            p = party(dept_id, off_id, size + i)
            at = utcnow()
            entry = LedgerEntry(seq=size + i, kind="party", subject_table="parties",
                                subject_id=p.id, case_id=None, created_at=at)
            leaf = hasher.leaf(canonical_json(ledger.leaf_document(entry, p)))
            parties.append(row_payload("parties", p) | {"created_at": p.created_at})
            entries.append({"seq": entry.seq, "kind": "party", "subject_table": "parties",
                            "subject_id": p.id, "case_id": None, "leaf_hash": leaf,
                            "created_at": at})
            for h in tree.append(leaf):
                hashes.append({"idx": start_idx + len(hashes), "hash": h})
        with c.engine.begin() as conn:
            conn.execute(insert(Party), parties)
            conn.execute(insert(LedgerEntry), entries)
            conn.execute(insert(LedgerHash), hashes)
            conn.execute(update(LedgerHead).where(LedgerHead.id == 1)
                         .values(size=size + n))
        size += n
    with c.engine.begin() as conn:
        # A log grown over months has planner statistics (autovacuum): give a log filled in
        # a minute them too, or verify is timed against plans made without them.
        conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - t0


BASELINE_CHUNK = 50_000


def measure_verify(c, out: dict, label: str) -> float:
    """Verify the whole log (no blobs: parties have none) and the same-run SHA-256 baseline."""
    with c.uow() as uow:
        ledger.make_checkpoint(uow.session, uow.signer, reason="bench")
    ticks = []
    t0 = time.perf_counter()
    with c.uow() as uow:
        # workers=0: what `flask ledger verify` does (processes on PostgreSQL from
        # parallel.PARALLEL_MIN entries on, else this process).
        report = ledger.verify(uow.session, uow.signer, None, workers=0,
                               progress=lambda done, total: ticks.append(done))
    t_verify = time.perf_counter() - t0
    assert report.ok, report.damages[:3]
    # Baseline: the same leaf bytes hashed with plain SHA-256, built a chunk at a time before
    # each chunk is timed (all of them at once held 20 million objects at 10M entries).
    t_sha, total = 0.0, 0
    with c.uow() as uow:
        pairs = uow.session.execute(
            select(LedgerEntry, Party).join(Party, Party.id == LedgerEntry.subject_id)
            .where(LedgerEntry.kind == "party").order_by(LedgerEntry.seq)
            .execution_options(yield_per=BASELINE_CHUNK))
        for chunk in pairs.partitions():
            blobs = [canonical_json(ledger.leaf_document(e, p)) for e, p in chunk]
            t0 = time.perf_counter()
            for b in blobs:
                hashlib.sha256(b"\x00" + b).digest()
            t_sha += time.perf_counter() - t0
            total += sum(len(b) for b in blobs)
            uow.session.expunge_all()  # the identity map would keep every row otherwise
    rate = report.entries / t_verify
    out[label] = {"entries": report.entries, "verify_s": round(t_verify, 2),
                  "entries_per_s": round(rate), "plain_sha256_s": round(t_sha, 3),
                  "leaf_mb": round(total / 1e6, 1),
                  "verify_over_sha256_ratio": round(t_verify / t_sha, 1),
                  "progress_calls": len(ticks)}
    print(f"verify {report.entries:,} entries: {t_verify:.2f} s ({rate:,.0f} entries/s); plain "
          f"SHA-256 of the same {total / 1e6:.1f} MB: {t_sha:.3f} s; ratio "
          f"{t_verify / t_sha:.1f}x; {len(ticks)} progress calls", flush=True)
    return rate


def main() -> None:
    """Run the measurements and print them."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    ap.add_argument("--algorithms", default="sha256-ed25519", choices=list(ledger.SUITES))
    ap.add_argument("--append-n", type=int, default=2000)
    ap.add_argument("--verify-n", type=int, default=100_000)
    ap.add_argument("--scale-n", type=int, default=0,
                    help="also verify at this size (1,000,000 for the 10M extrapolation)")
    ap.add_argument("--proof-n", type=int, default=1_000_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="qc-bench-"))
    url, drop = make_db(args.db, tmp)
    try:
        settings = Settings(database_url=url, instance_path=tmp / "instance",
                            storage_url=f"file://{tmp / 'blobs'}")
        settings = dataclasses.replace(settings, ledger_algorithms=args.algorithms)
        upgrade(bootstrap(settings).engine)
        c = bootstrap(settings)
        with c.uow() as uow:
            dept = ensure_department(uow.session, "BENCH", "bench")
            off = add_officer(uow.session, dept, "bench", ["officer"])
            dept_id, off_id = dept.id, off.id
        out: dict = {"db": args.db, "algorithms": args.algorithms}

        # 1. Append rate, one transaction per entry (what a request does).
        t0 = time.perf_counter()
        for i in range(args.append_n):
            with c.uow() as uow:
                p = party(dept_id, off_id, i)
                uow.session.add(p)
                ledger.append(uow.session, "party", p)
        dt = time.perf_counter() - t0
        out["append_per_tx_entries_per_s"] = round(args.append_n / dt, 1)
        print(f"append, one transaction each: {args.append_n / dt:,.0f} entries/s", flush=True)

        # 2. Verify at verify-n (and scale-n), against plain SHA-256 of the same leaf bytes.
        fill = bulk_fill(c, args.verify_n, dept_id, off_id)
        print(f"bulk fill to {args.verify_n:,}: {fill:.1f} s", flush=True)
        rates = {args.verify_n: measure_verify(c, out, "verify")}
        if args.scale_n > args.verify_n:
            fill = bulk_fill(c, args.scale_n, dept_id, off_id)
            print(f"bulk fill to {args.scale_n:,}: {fill:.1f} s", flush=True)
            rates[args.scale_n] = measure_verify(c, out, "verify_scale")
        largest = max(rates)
        ten_m = 10_000_000 / rates[largest]
        out["verify_10m_s"] = round(ten_m)
        out["verify_10m_method"] = ("measured" if largest >= 10_000_000 else
                                    f"extrapolated linearly from {largest:,} entries "
                                    f"({rates[largest]:,.0f} entries/s)")
        print(f"verify 10,000,000 entries: {ten_m / 60:.1f} min ({out['verify_10m_method']})",
              flush=True)

        # 3. Inclusion proofs at proof-n entries: the stored-hash table of a tree that size.
        if args.proof_n:
            proof_bench(c, args, out)
        c.engine.dispose()
        print(json.dumps(out))
    finally:
        drop()


def proof_bench(c, args, out: dict) -> None:
    """Median and p99 inclusion-proof time in a tree of proof-n leaves."""
    import base64

    hasher = c.signer.hasher
    store = merkle.MemoryHashStore(hasher)
    for i in range(args.proof_n):
        store.append_leaf(hasher.leaf(i.to_bytes(8, "big")))
    count = merkle.stored_hash_count(args.proof_n)
    with c.engine.begin() as conn:
        conn.execute(LedgerHash.__table__.delete())
        conn.execute(LedgerEntry.__table__.delete())
        for start in range(0, count, 50_000):
            conn.execute(insert(LedgerHash), [
                {"idx": i, "hash": h} for i, h in
                zip(range(start, min(count, start + 50_000)),
                    store.read_hashes(range(start, min(count, start + 50_000))), strict=True)])
        conn.execute(insert(LedgerEntry), [
            {"seq": s, "kind": "party", "subject_table": "parties", "subject_id": "x",
             "case_id": None, "leaf_hash": hasher.leaf(s.to_bytes(8, "big")),
             "created_at": utcnow()} for s in range(0, args.proof_n, args.proof_n // 1000)])
        conn.execute(LedgerHead.__table__.update().values(size=args.proof_n))
    times = []
    root = store.root()
    with c.uow() as uow:
        for s in range(0, args.proof_n, args.proof_n // 1000):
            t0 = time.perf_counter()
            p = ledger.inclusion(uow.session, s, args.proof_n)
            times.append(time.perf_counter() - t0)
            assert merkle.verify_inclusion(
                base64.b64decode(p["leaf_hash"]), s, args.proof_n,
                [base64.b64decode(h) for h in p["proof"]], root, hasher)
    times.sort()
    out.update(proof_tree_size=args.proof_n,
               proof_median_ms=round(statistics.median(times) * 1000, 3),
               proof_p99_ms=round(times[int(len(times) * 0.99) - 1] * 1000, 3))
    print(f"inclusion proof at {args.proof_n:,} entries ({args.db}): median "
          f"{out['proof_median_ms']} ms, p99 {out['proof_p99_ms']} ms over {len(times)} proofs")


if __name__ == "__main__":
    main()
