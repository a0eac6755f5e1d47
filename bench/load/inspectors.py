"""Load test (issue 13 item 6): a district's inspectors syncing their day at 17:30.

Starts the Procfile's processes on 127.0.0.1 only — gunicorn web processes, one `python -m
worker` (rq, thumbnails and sweeps) — on a fresh PostgreSQL database, Redis and a blob folder
(or, with --s3, a `moto_server` S3 store), plus a fake Telegram Bot API for the bot's replies.
Then N simulated inspectors, each in a loop until the time is up: open a case, add a record
(立案审批表), upload 2–4 photos of 2–4 MB with EXIF GPS and capture time, and send the bot a
webhook update; think time between actions. Reports per action: count, requests/s and
p50/p95/p99 latency; errors (any non-2xx or transport error; must be 0); the web processes'
memory (RSS) at start and end; and how long the worker took to finish the thumbnails.

    .venv/bin/python bench/load/inspectors.py --users 200 --duration 300 [--s3]

--s3 starts `moto_server` (moto[server], the tests' S3Server helper) on 127.0.0.1 with a bucket
that has object lock, and runs the web and worker processes with STORAGE_URL=s3://bucket/evidence,
the S3_* endpoint settings and a SPOOL_PATH they share, as production with an S3 store does.
moto keeps every object in memory: a full-size run stores a few GB there.

Bounded: at most 500 users and 900 s; every address is 127.0.0.1. The asyncio client runs
in this one process (httpx), so its own CPU is part of the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from PIL import Image  # noqa: E402
from scratch import make_db  # noqa: E402 - bench/ is on sys.path

from tests.capture.media import Photo, exif_of  # noqa: E402
from tests.evidence.support import SITE_GCJ, SITE_WGS, exif_time, media_tz  # noqa: E402
from tests.support.telegram_fake import FakeTelegram, FakeTelegramServer  # noqa: E402

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"  # noqa: S105 - the fake API's token
HOOK_SECRET = secrets.token_urlsafe(24)
MAX_USERS, MAX_SECONDS = 500, 900
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_photos(n: int, rng: random.Random) -> list[bytes]:
    """n JPEGs of 2–4 MB (noise compresses badly) with GPS at the case site and capture now."""
    taken, offset = exif_time(datetime.now(UTC).astimezone(media_tz()))
    out = []
    for i in range(n):
        w = rng.choice((2000, 2200, 2400, 2600))
        h = w * 3 // 4
        im = Image.frombytes("RGB", (w, h), rng.randbytes(w * h * 3))
        exif = exif_of(Photo(lat=SITE_WGS[0], lon=SITE_WGS[1], taken=taken, offset=offset,
                             width=w, height=h, make=f"load{i}"))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=rng.choice((80, 85, 90)), exif=exif)
        out.append(buf.getvalue())
    return out


def unique(jpeg: bytes) -> bytes:
    """The photo with a COM segment holding a nonce: a new SHA-256, the same picture (so the
    store keeps every upload, as real photos would be, instead of linking duplicates)."""
    nonce = secrets.token_bytes(16)
    return jpeg[:2] + b"\xff\xfe" + (len(nonce) + 2).to_bytes(2, "big") + nonce + jpeg[2:]


def procfile_web(port: int) -> list[str]:
    """The Procfile's web command, bound to 127.0.0.1:port."""
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:"))
    argv = shlex.split(line.split(":", 1)[1])
    argv = [f"127.0.0.1:{port}" if a.startswith("0.0.0.0:") else a for a in argv]
    return [str(BIN / argv[0]), *argv[1:]]


def rss_kb(pids: list[int]) -> int:
    """Resident memory of the processes, in KiB."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def children(pid: int) -> list[int]:
    """The direct children of a process."""
    try:
        return [int(p) for p in
                Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def web_pids(master: int) -> list[int]:
    """gunicorn's master and its worker (the parser pool's sandboxes are not counted)."""
    return [master, *children(master)]


class Stats:
    """Latencies per action and the errors seen."""

    def __init__(self):
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: list[str] = []

    def ok(self, action: str, seconds: float) -> None:
        """A success."""
        self.times[action].append(seconds)

    def fail(self, action: str, detail: str) -> None:
        """An error (kept: the first 10 details)."""
        self.errors[action] += 1
        if len(self.samples) < 10:
            self.samples.append(f"{action}: {detail[:300]}")

    def report(self, seconds: float) -> dict:
        """Count, rate and percentiles per action."""
        out = {}
        for action, t in sorted(self.times.items()):
            q = statistics.quantiles(t, n=100, method="inclusive") if len(t) > 1 else t * 99
            out[action] = {"count": len(t), "per_s": round(len(t) / seconds, 2),
                           "p50_ms": round(q[49] * 1000), "p95_ms": round(q[94] * 1000),
                           "p99_ms": round(q[98] * 1000), "errors": self.errors.get(action, 0)}
        return out


async def timed(stats: Stats, action: str, request) -> httpx.Response | None:
    """Await one request (a coroutine not yet started); record its latency, or the error."""
    t0 = time.perf_counter()
    try:
        r = await request
    except httpx.HTTPError as exc:
        stats.fail(action, f"{type(exc).__name__}: {exc}")
        return None
    took = time.perf_counter() - t0
    if r.status_code >= 300:
        stats.fail(action, f"{r.status_code} {r.text}")
        return None
    stats.ok(action, took)
    return r


async def inspector(i: int, user: dict, client: httpx.AsyncClient, fake: FakeTelegram,
                    photos: list[bytes], stats: Stats, until: float, think: tuple[float, float],
                    rng: random.Random) -> None:
    """One inspector's evening: bind the bot, then cases, records, photos and bot updates."""
    headers = {"Authorization": f"Bearer {user['token']}"}
    tg = fake.user(user["telegram_id"], f"检查员{i}")
    hook = {"X-Telegram-Bot-Api-Secret-Token": HOOK_SECRET}
    await asyncio.sleep(rng.uniform(0, think[1]))  # they do not all press at once
    await timed(stats, "bot_update", client.post(
        "/telegram/webhook", json=fake.text(tg, f"/start {user['bind_code']}"), headers=hook))
    while time.monotonic() < until:
        r = await timed(stats, "open_case", client.post("/api/v1/cases", headers=headers,
                        json={"kind": "penalty", "initiation": "ex_officio",
                              "title": f"违法建设 检查 {i}",
                              "party": {"name": "岳阳某建设有限公司", "kind": "organisation"},
                              "site": {"lat": SITE_GCJ[0], "lon": SITE_GCJ[1],
                                       "datum": "gcj02", "address": "岳阳市岳阳楼区某路1号"}}))
        if r is None:
            await asyncio.sleep(rng.uniform(*think))
            continue
        case_id = r.json()["id"]
        await asyncio.sleep(rng.uniform(*think))
        await timed(stats, "add_record", client.post(
            f"/api/v1/cases/{case_id}/records", headers=headers, json={
                "type": "filing_form", "occurred_at": datetime.now(UTC).isoformat(),
                "fields": {"reason": "未取得施工许可擅自施工", "party_info": "岳阳某建设有限公司",
                           "officer_opinion": "建议立案调查"}}))
        for _ in range(rng.randint(2, 4)):
            if time.monotonic() >= until:
                break
            await asyncio.sleep(rng.uniform(*think))
            data = unique(rng.choice(photos))
            await timed(stats, "upload_photo", client.post(
                f"/api/v1/cases/{case_id}/evidence", headers=headers,
                data={"proves": "现场违法建设状况", "method": "photo"},
                files={"file": ("IMG.jpg", data, "image/jpeg")}))
        await asyncio.sleep(rng.uniform(*think))
        await timed(stats, "bot_update", client.post(
            "/telegram/webhook", json=fake.text(tg, "/help"), headers=hook))


async def drive(bases: list[str], users: list[dict], fake: FakeTelegram, photos: list[bytes],
                seconds: float, think: tuple[float, float], seed: int,
                keepalive: bool = False) -> tuple[Stats, float]:
    """All inspectors at once until the time is up; returns the stats and the wall time.
    Each inspector keeps to one web process, as a proxy with sticky sessions sends them."""
    stats = Stats()
    per = len(users) // len(bases) + 1
    # A new connection per request, as the README's nginx opens to its upstream (no upstream
    # keepalive): reusing one that gunicorn's 2 s keep-alive is closing is a ReadError of the
    # client's making; --keepalive measures that way anyway.
    limits = httpx.Limits(max_connections=per, max_keepalive_connections=per if keepalive else 0,
                          keepalive_expiry=1.0)
    clients = [httpx.AsyncClient(base_url=b, limits=limits, timeout=httpx.Timeout(120.0))
               for b in bases]
    try:
        t0 = time.monotonic()
        until = t0 + seconds
        await asyncio.gather(*(inspector(i, u, clients[i % len(clients)], fake, photos, stats,
                                         until, think, random.Random(seed + i))
                               for i, u in enumerate(users)))
        return stats, time.monotonic() - t0
    finally:
        for c in clients:
            await c.aclose()


def seed_people(env: dict[str, str], n: int) -> list[dict]:
    """n inspectors of one department, each with an API token and a bot binding code."""
    os.environ.update(env)
    from core.bootstrap import bootstrap
    from core.people.officers import add_officer, ensure_department, issue_bind_code, issue_token

    container = bootstrap()
    users = []
    try:
        with container.uow() as uow:
            dept = ensure_department(uow.session, "430602-load", "岳阳楼区城市管理局")
            for i in range(n):
                officer = add_officer(uow.session, dept, f"检查员{i:03d}", ["officer"],
                                      f"LOAD{i:05d}")
                users.append({"id": officer.id, "token": issue_token(uow.session, officer,
                                                                     label="load"),
                              "bind_code": issue_bind_code(uow.session, officer),
                              "telegram_id": 7_000_000 + i})
    finally:
        container.engine.dispose()
    return users


def wait_http(url: str, timeout: float = 60.0) -> None:
    """Wait until GET url answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer in {timeout:.0f} s")


def media_counts(database_url: str) -> dict[str, int]:
    """media_tasks by status."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as c:
            return dict(c.execute(text("SELECT status, count(*) FROM media_tasks "
                                       "GROUP BY status")).all())
    finally:
        engine.dispose()


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group, then SIGKILL if it lingers."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    except ProcessLookupError:
        pass


def main() -> int:
    """Parse the arguments, start everything, drive the load, print the report."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--duration", type=float, default=300.0, help="seconds of load")
    ap.add_argument("--think", type=float, nargs=2, default=(1.0, 4.0),
                    help="seconds between one inspector's actions (uniform)")
    ap.add_argument("--web", type=int, default=2,
                    help="web processes (the Procfile's gunicorn --workers 1, each on a port)")
    ap.add_argument("--photos", type=int, default=8, help="distinct base photos")
    ap.add_argument("--keepalive", action="store_true",
                    help="reuse connections (the default opens one per request, as nginx does)")
    ap.add_argument("--s3", action="store_true",
                    help="evidence in an S3 bucket on a local moto_server instead of a folder")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    ap.add_argument("--seed", type=int, default=20261129)
    ap.add_argument("--json", type=Path, help="also write the report here")
    args = ap.parse_args()
    if not 1 <= args.users <= MAX_USERS or not 1 <= args.duration <= MAX_SECONDS:
        raise SystemExit(f"at most {MAX_USERS} users and {MAX_SECONDS} s")
    if not args.redis.startswith("redis://127.0.0.1"):
        raise SystemExit("the load test runs against 127.0.0.1 only")
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="qc-load-"))
    database_url, drop = make_db("postgres", tmp)
    procs: list[subprocess.Popen] = []
    fake = FakeTelegram(TOKEN)
    s3 = None
    try:
        store = {"STORAGE_URL": f"file://{tmp / 'instance' / 'blobs'}"}
        if args.s3:
            from tests.support.s3_server import S3Server

            s3 = S3Server(tmp / "moto_server.log")  # 127.0.0.1 only, a free port
            store = s3.env_for(s3.bucket(lock=True), tmp / "spool")
            print(f"S3 store: {store['STORAGE_URL']} on {s3.endpoint} (moto_server)", flush=True)
        with FakeTelegramServer(fake) as tg:
            env = {**{k: v for k, v in os.environ.items() if not k.startswith(
                ("DATABASE_URL", "REDIS_URL", "STORAGE_URL", "TELEGRAM", "S3_", "SPOOL_"))},
                "DATABASE_URL": database_url, "REDIS_URL": args.redis,
                "INSTANCE_PATH": str(tmp / "instance"), **store,
                "WORKER_QUEUE": f"qc-load-{os.getpid()}", "APP_ENV": "development",
                "SECRET_KEY": secrets.token_hex(16), "TELEGRAM_TOKEN": TOKEN,
                "TELEGRAM_WEBHOOK_SECRET": HOOK_SECRET, "TELEGRAM_API_BASE_URL": tg.url,
                "FLASK_APP": "api", "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING"}
            subprocess.run([str(BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                           stdout=subprocess.DEVNULL)
            t0 = time.perf_counter()
            users = seed_people(env, args.users)
            photos = make_photos(args.photos, rng)
            sizes = sorted(len(p) for p in photos)
            print(f"seeded {len(users)} inspectors in {time.perf_counter() - t0:.1f} s; photos "
                  f"{sizes[0] / 1e6:.1f}–{sizes[-1] / 1e6:.1f} MB", flush=True)
            logs = tmp / "logs"
            logs.mkdir()
            webs, bases = [], []
            for n in range(args.web):
                port = free_port()
                webs.append(subprocess.Popen(
                    procfile_web(port), cwd=ROOT, env=env,
                    stdout=(logs / f"web{n}.log").open("wb"), stderr=subprocess.STDOUT,
                    start_new_session=True))
                bases.append(f"http://127.0.0.1:{port}")
            procs.extend(webs)
            worker = subprocess.Popen([sys.executable, "-m", "worker"], cwd=ROOT, env=env,
                                      stdout=(logs / "worker.log").open("wb"),
                                      stderr=subprocess.STDOUT, start_new_session=True)
            procs.append(worker)
            for base in bases:
                wait_http(f"{base}/healthz")
            time.sleep(2)  # every gunicorn worker booted
            pids = [p for w in webs for p in web_pids(w.pid)]
            mem_start = rss_kb(pids)
            stats, wall = asyncio.run(drive(bases, users, fake, photos, args.duration,
                                            tuple(args.think), args.seed, args.keepalive))
            mem_end = rss_kb(pids)
            t1 = time.monotonic()
            counts = media_counts(database_url)
            while counts.get("pending", 0) + counts.get("running", 0) and \
                    time.monotonic() - t1 < 600:
                time.sleep(1)
                counts = media_counts(database_url)
            drained = time.monotonic() - t1
    finally:
        for p in reversed(procs):
            stop(p)
        if s3 is not None:
            s3_rss = rss_kb([s3.process.pid])
            s3.stop()
        drop()
    actions = stats.report(wall)
    total = sum(a["count"] for a in actions.values())
    errors = sum(stats.errors.values())
    report = {
        "users": args.users, "seconds": round(wall, 1), "web_processes": args.web,
        "store": "s3 (moto_server)" if args.s3 else "folder",
        "web_command": " ".join(procfile_web(0)[1:]), "requests": total,
        "requests_per_s": round(total / wall, 2),
        "errors": errors, "error_samples": stats.samples, "actions": actions,
        "web_rss_mb": {"start": round(mem_start / 1024), "end": round(mem_end / 1024)},
        **({"moto_server_rss_mb_end": round(s3_rss / 1024)} if args.s3 else {}),
        "thumbnails": {"by_status": counts, "drain_s_after_load": round(drained, 1)},
        "uploaded_mb": round(actions.get("upload_photo", {}).get("count", 0)
                             * statistics.mean(sizes) / 1e6),
        "logs": str(logs),
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
