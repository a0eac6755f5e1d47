"""Benchmark the whole sweep and the delivery rate on PostgreSQL.

1. The sweep job as the worker runs it (claim + expand into outbox messages + queue the due
   messages), with 10,000 / 100,000 / 1,000,000 deadlines of which 1,000 have a reminder due,
   and as many old sent messages in the outbox. sweep_bench.py times the claim alone.
2. Deliveries per second: 1,000 SMS messages to a local signed-webhook receiver, inline and
   through a real rq worker (SimpleWorker, JSON jobs, Redis database 14).

Usage: .venv/bin/python bench/delivery_bench.py [--sizes 10000,100000,1000000] [--due 1000]
                                                [--repeats 3] [--messages 1000]
QC_BENCH_PG_URL as in sweep_bench.py; a scratch database is created and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402
from rq.serializers import JSONSerializer  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from core.bootstrap import bootstrap  # noqa: E402
from core.cases.lifecycle import open_case  # noqa: E402
from core.kernel.settings import Settings  # noqa: E402
from core.people.officers import demo_seed, get_officer  # noqa: E402
from core.platform.migrate import upgrade  # noqa: E402
from notifications.config import NotifyConfig  # noqa: E402
from notifications.outbox import deliver  # noqa: E402
from notifications.webhook import WebhookChannel  # noqa: E402
from tests.worker.support import SECRET, WebhookReceiver  # noqa: E402
from worker import jobs, runtime  # noqa: E402
from worker.__main__ import QuanchengWorker  # noqa: E402
from worker.config import WorkerConfig  # noqa: E402
from worker.sweep import run_sweep  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/14"
CASES = 20


def _cases(container) -> list[str]:
    """A demo department with CASES open cases; their ids."""
    with container.uow() as uow:
        people = demo_seed(uow.session)
        officer = get_officer(uow.session, people["users"][0]["id"])
        ids = []
        for i in range(CASES):
            case = open_case(uow, officer, {
                "kind": "penalty", "initiation": "ex_officio", "title": f"基准案件 {i}",
                "party": {"name": f"某公司{i}", "kind": "organisation"},
                "site": {"lat": 29.35, "lon": 113.12, "datum": "wgs84", "address": "岳阳"}})
            ids.append(case.id)
    return ids


def _load(engine, cases: list[str], rows: int, due: int, now: datetime) -> None:
    """`rows` deadlines with one reminder each (`due` due now, a fifth ahead, the rest done)
    and `rows` sent messages of history."""
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE outbox, reminders, deadlines CASCADE"))
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        ahead = (rows - due) // 5
        with cur.copy("COPY deadlines (id, case_id, rule_id, legal_source, trigger_event, "
                      "trigger_at, due_at, period, unit, status, warnings, created_at) "
                      "FROM STDIN") as cp:
            for i in range(rows):
                live = i < due + ahead
                due_at = now + timedelta(hours=1 + i % 500) if live \
                    else now - timedelta(days=1 + i % 700)
                cp.write_row((f"{i:032x}", cases[i % len(cases)], "A17.2", "bench",
                              "bench", due_at - timedelta(days=2), due_at, 2, "working_days",
                              "open" if live else "closed", "[]", now))
        with cur.copy("COPY reminders (id, deadline_id, recipient_role, step, send_at, status, "
                      "created_at) FROM STDIN") as cp:
            for i in range(rows):
                if i < due:
                    send_at, status = now - timedelta(seconds=1 + i % 3600), "pending"
                elif i < due + ahead:
                    send_at, status = now + timedelta(minutes=1 + i % 100_000), "pending"
                else:
                    send_at, status = now - timedelta(minutes=1 + i % 1_000_000), "done"
                cp.write_row((f"{i:032x}", f"{i:032x}", "supervisor", "due", send_at, status,
                              now))
        with cur.copy("COPY outbox (idempotency_key, channel, recipient, subject, body, payload, "
                      "status, attempts, next_attempt_at, sent_at, created_at) FROM STDIN") as cp:
            for i in range(rows):
                at = now - timedelta(minutes=1 + i % 1_000_000)
                cp.write_row((f"history:{i}", "socketio", "room", "s", "b", "{}", "sent", 1, at,
                              at, at))
        raw.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("deadlines", "reminders", "outbox"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))


def _reset(engine, due: int) -> None:
    """Undo one sweep: the due reminders pending again, the messages it made gone."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM outbox WHERE reminder_id IS NOT NULL"))
        conn.execute(text("UPDATE reminders SET status = 'pending', claimed_at = NULL "
                          "WHERE id IN (SELECT id FROM reminders WHERE status = 'done' "
                          "AND send_at <= now() ORDER BY send_at DESC LIMIT :due)"),
                     {"due": due})


def _time_sweeps(container, due: int, repeats: int) -> tuple[list[float], int, int]:
    """Seconds per committed sweep, and how many reminders and messages the last one took."""
    notify, config = NotifyConfig(), WorkerConfig(sweep_limit=max(due, 1))
    times, result = [], None
    for run in range(repeats):
        if run:
            _reset(container.engine, due)
        start = time.perf_counter()
        result = run_sweep(container, notify, config)
        times.append(time.perf_counter() - start)
    return times, result.reminders, len(result.outbox_ids)


def _deliveries(container, messages: int) -> dict:
    """Messages per second inline and through an rq worker, to a local webhook receiver."""
    notify = NotifyConfig(max_attempts=3)
    out = {}
    with WebhookReceiver() as sms:
        channels = {"webhook": WebhookChannel(sms.url, SECRET, timeout=5)}
        for mode in ("inline", "rq"):
            with container.engine.begin() as conn:
                conn.execute(text("TRUNCATE outbox"))
                conn.execute(text(
                    "INSERT INTO outbox (idempotency_key, channel, recipient, subject, body, "
                    "payload, status, attempts, next_attempt_at, created_at) SELECT "
                    "'sms:' || g, 'webhook', '+8613800000000', '期限提醒', '基准消息', '{}', "
                    "'pending', 0, now(), now() FROM generate_series(1, :n) g"),
                    {"n": messages})
                ids = [r[0] for r in conn.execute(text("SELECT id FROM outbox ORDER BY id"))]
            start = time.perf_counter()
            if mode == "inline":
                for outbox_id in ids:
                    deliver(container, outbox_id, channels, config=notify)
            else:
                connection = redis.Redis.from_url(REDIS_URL)
                connection.flushdb()
                config = WorkerConfig()
                rt = runtime.Runtime(container, notify, config, channels, connection,
                                     runtime.make_queue(connection, config))
                runtime._runtime = rt  # the jobs find this process's runtime here
                jobs.enqueue_deliveries(rt, ids)
                QuanchengWorker([config.queue], connection=connection,
                                serializer=JSONSerializer).work(burst=True, logging_level="WARNING")
                connection.flushdb()
            seconds = time.perf_counter() - start
            with container.engine.connect() as conn:
                sent = conn.execute(text("SELECT count(*) FROM outbox WHERE status = 'sent'")
                                    ).scalar()
            out[mode] = {"messages": messages, "sent": sent, "seconds": round(seconds, 2),
                         "per_second": round(messages / seconds, 1)}
            print(f"{mode:>6}: {sent}/{messages} sent in {seconds:.2f} s "
                  f"({messages / seconds:.0f}/s)", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run both parts and print the figures; return a process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--messages", type=int, default=1000)
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
    tmp = tempfile.TemporaryDirectory()
    container = bootstrap(Settings(database_url=url.rsplit("/", 1)[0] + "/" + name,
                                   instance_path=Path(tmp.name),
                                   storage_url=f"file://{tmp.name}/blobs"))
    results, rates = [], {}
    try:
        upgrade(container.engine)
        cases = _cases(container)
        for rows in sizes:
            now = datetime.now(UTC)
            start = time.perf_counter()
            _load(container.engine, cases, rows, args.due, now)
            load_s = time.perf_counter() - start
            times, reminders, queued = _time_sweeps(container, args.due, args.repeats)
            results.append({"rows": rows, "due": args.due, "reminders": reminders,
                            "messages_queued": queued,
                            "median_ms": round(statistics.median(times) * 1e3, 1),
                            "min_ms": round(min(times) * 1e3, 1),
                            "max_ms": round(max(times) * 1e3, 1), "load_s": round(load_s, 1)})
            print(f"{rows:>9,} deadlines (+{rows:,} sent messages), {args.due} due: sweep "
                  f"median {results[-1]['median_ms']} ms ({reminders} reminders, {queued} "
                  f"messages queued; load {load_s:.1f} s)", flush=True)
        rates = _deliveries(container, args.messages)
    finally:
        container.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        tmp.cleanup()
    target_ok = results[-1]["median_ms"] < 1000 if sizes[-1] >= 1_000_000 else None
    print(json.dumps({"bench": "sweep_and_delivery", "postgres": version,
                      "repeats": args.repeats, "sweep": results, "delivery": rates,
                      "target_under_1s_at_1e6": target_ok}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
