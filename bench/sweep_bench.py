"""Benchmark the reminder sweep's claim on PostgreSQL: its cost follows the due rows, not the
table. 10,000 / 100,000 / 1,000,000 deadlines with one reminder each, of which 1,000 are due;
the rest are mostly history (done, past) and some future (pending, ahead).

Usage: .venv/bin/python bench/sweep_bench.py [--sizes 10000,100000,1000000] [--due 1000]
                                             [--repeats 7] [--keep]

QC_BENCH_PG_URL (default postgresql+psycopg://127.0.0.1:5432/test) names a server and a
database to connect to; a scratch database is created beside it and dropped afterwards.
Each timed claim runs in a transaction that is rolled back, so every repeat claims the same
due rows. Prints the EXPLAIN of the claim, a table, then one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run as a script from anywhere: put the project root (parent of bench/) on the import path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from core.deadlines.reminders import claim_due_reminders, claim_statement  # noqa: E402
from core.platform.db import make_engine  # noqa: E402
from core.platform.migrate import upgrade  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://127.0.0.1:5432/test"
FUTURE_SHARE = 0.2  # of the rows that are not due: pending reminders still ahead
EXTRA_DUE_POOL = 10_000  # past rows at the largest size toggled to vary the due count


def _load(engine, rows: int, due: int, now: datetime) -> None:
    """Empty the tables and COPY `rows` deadlines + reminders, `due` of them due now."""
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE outbox, reminders, deadlines CASCADE"))
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        future = int((rows - due) * FUTURE_SHARE)
        with cur.copy("COPY deadlines (id, rule_id, legal_source, trigger_event, trigger_at, "
                      "due_at, period, unit, status, warnings, created_at) FROM STDIN") as cp:
            for i in range(rows):
                due_at = now + timedelta(hours=1 + i % 500) if i < future + due \
                    else now - timedelta(days=1 + i % 700)
                cp.write_row((f"{i:032x}", "A31.1", "bench", "evidence.captured",
                              due_at - timedelta(days=2), due_at, 2, "working_days",
                              "open" if i < future + due else "closed", "[]", now))
        with cur.copy("COPY reminders (id, deadline_id, recipient_role, step, send_at, status, "
                      "created_at) FROM STDIN") as cp:
            for i in range(rows):
                if i < due:  # due now: pending, send_at spread over the last hour
                    send_at, status = now - timedelta(seconds=1 + i % 3600), "pending"
                elif i < due + future:  # ahead
                    send_at, status = now + timedelta(minutes=1 + i % 100_000), "pending"
                else:  # history
                    send_at, status = now - timedelta(minutes=1 + i % 1_000_000), "done"
                cp.write_row((f"{i:032x}", f"{i:032x}", "officer", "due", send_at, status, now))
        raw.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE deadlines"))
        conn.execute(text("VACUUM ANALYZE reminders"))


def _set_due(engine, due: int, now: datetime) -> None:
    """Make exactly `due` history rows (the newest) pending again, the rest of the pool done."""
    with engine.begin() as conn:
        conn.execute(text(
            "UPDATE reminders SET status = CASE WHEN rn <= :due THEN 'pending' ELSE 'done' END "
            "FROM (SELECT id, row_number() OVER (ORDER BY send_at DESC, id) AS rn FROM reminders "
            "WHERE send_at <= :now AND status IN ('pending', 'done') ORDER BY send_at DESC "
            "LIMIT :pool) AS p WHERE reminders.id = p.id"),
            {"due": due, "now": now, "pool": max(EXTRA_DUE_POOL, due)})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE reminders"))


def _time_claims(engine, now: datetime, limit: int, repeats: int) -> tuple[list[float], int]:
    """Seconds per claim over `repeats` rolled-back runs, and how many rows one claim took."""
    times, claimed = [], 0
    for run in range(repeats + 1):  # run 0 warms the caches and is not counted
        with Session(engine) as session:
            tx = session.begin()
            start = time.perf_counter()
            ids = claim_due_reminders(session, now, limit)
            if run:
                times.append(time.perf_counter() - start)
            claimed = len(ids)
            tx.rollback()
    return times, claimed


def _explain(engine, now: datetime, limit: int) -> tuple[str, bool]:
    """EXPLAIN (ANALYZE, BUFFERS) of the claim, rolled back; and whether the index is used."""
    compiled = claim_statement("postgresql", now, limit).compile(dialect=engine.dialect)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + str(compiled), compiled.params)
        plan = "\n".join(r[0] for r in cur.fetchall())
        raw.rollback()
    finally:
        raw.close()
    return plan, "ix_reminders_due" in plan


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; return a process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="comma-separated deadline counts")
    parser.add_argument("--due", type=int, default=1000, help="due reminders per size")
    parser.add_argument("--repeats", type=int, default=7, help="timed claims per size")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not sizes or min(sizes) <= args.due or args.due < 1 or args.repeats < 1:
        parser.error("every size must exceed --due; --due and --repeats must be >= 1")

    url = os.environ.get("QC_BENCH_PG_URL", DEFAULT_URL)
    name = f"qc_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        version = conn.execute(text("SHOW server_version")).scalar()
    engine = make_engine(url.rsplit("/", 1)[0] + "/" + name)
    results, due_results, plan = [], [], ""
    try:
        upgrade(engine)
        now = datetime.now(UTC)
        for rows in sizes:
            start = time.perf_counter()
            _load(engine, rows, args.due, now)
            load_s = time.perf_counter() - start
            times, claimed = _time_claims(engine, now, args.due, args.repeats)
            plan, indexed = _explain(engine, now, args.due)
            results.append({"rows": rows, "due": args.due, "claimed": claimed,
                            "median_ms": round(statistics.median(times) * 1e3, 2),
                            "min_ms": round(min(times) * 1e3, 2),
                            "max_ms": round(max(times) * 1e3, 2),
                            "index_used": indexed, "load_s": round(load_s, 1)})
            print(f"loaded {rows:>9,} rows in {load_s:5.1f} s; claim of {claimed} due: "
                  f"median {results[-1]['median_ms']} ms", flush=True)
        print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the claim at {sizes[-1]:,} rows:\n{plan}\n")
        # At the largest size, vary the number of due rows: the cost follows them.
        for due in (100, args.due, EXTRA_DUE_POOL):
            _set_due(engine, due, now)
            times, claimed = _time_claims(engine, now, due, args.repeats)
            due_results.append({"rows": sizes[-1], "due": due, "claimed": claimed,
                                "median_ms": round(statistics.median(times) * 1e3, 2)})
    finally:
        engine.dispose()
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    print(f"PostgreSQL {version}; claim limit = due; {args.repeats} rolled-back runs each")
    print(f"{'rows':>10} {'due':>6} {'claimed':>8} {'median ms':>10} {'min ms':>8} "
          f"{'max ms':>8} {'index':>6}")
    for r in results:
        print(f"{r['rows']:>10,} {r['due']:>6} {r['claimed']:>8} {r['median_ms']:>10} "
              f"{r['min_ms']:>8} {r['max_ms']:>8} {'yes' if r['index_used'] else 'NO':>6}")
    print(f"\nat {sizes[-1]:,} rows, varying the due count:")
    for r in due_results:
        print(f"{r['rows']:>10,} {r['due']:>6} {r['claimed']:>8} {r['median_ms']:>10}")
    target_ok = results[-1]["median_ms"] < 1000 if sizes[-1] >= 1_000_000 else None
    print(json.dumps({"bench": "sweep_claim", "postgres": version, "repeats": args.repeats,
                      "results": results, "by_due": due_results,
                      "target_under_1s_at_1e6": target_ok}))
    return 0 if target_ok in (True, None) else 1


if __name__ == "__main__":
    sys.exit(main())
