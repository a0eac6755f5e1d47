"""What the worker tests share: a private Redis database, local receivers that count
deliveries by idempotency key, worker processes, and due reminders."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis
from sqlalchemy import select

from core.deadlines.models import Deadline, Reminder
from core.kernel.clock import utcnow
from core.kernel.ids import new_id
from core.notices.models import OutboxMessage
from notifications.live import FLASK_SOCKETIO_CHANNEL
from notifications.webhook import verify

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB = 15  # the tests flush this database only
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
SECRET = "test-webhook-secret-0123456789abcdef"
# The machine's Redis command line: a test that shuts Redis down starts it again with this.
REDIS_CMD = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
             "--port", "6379", "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
             "--logfile", "/var/log/redis/ci.log"]


def wait_for(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll until the predicate is truthy; fail naming what did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def redis_ping(url: str = REDIS_URL) -> bool:
    """True when Redis answers."""
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


class WebhookReceiver:
    """A local SMS gateway: checks each signature and counts requests per Idempotency-Key."""

    def __init__(self, delay: tuple[float, float] = (0.0, 0.0), status: int = 200):
        self.counts: Counter[str] = Counter()
        self.bad_signatures = 0
        self.bodies: list[dict] = []
        self.delay, self.status = delay, status
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ok = verify(SECRET, self.headers.get("X-Quancheng-Timestamp", ""), body,
                            self.headers.get("X-Quancheng-Signature", ""))
                time.sleep(random.uniform(*receiver.delay))
                with receiver.lock:
                    if not ok:
                        receiver.bad_signatures += 1
                    else:
                        receiver.counts[self.headers.get("Idempotency-Key", "")] += 1
                        receiver.bodies.append(json.loads(body))
                self.send_response(receiver.status if ok else 401)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a worker killed mid-request hangs up: expected here, not news

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def total(self) -> int:
        """Requests received with a valid signature."""
        with self.lock:
            return sum(self.counts.values())


class LiveSubscriber:
    """Stands in for the web processes: subscribes to Flask-SocketIO's Redis channel and counts
    events per idempotency key; reconnects when Redis comes back."""

    def __init__(self, url: str = REDIS_URL):
        self.url = url
        self.counts: Counter[str] = Counter()
        self.events: list[tuple[str, str, dict]] = []
        self.stopping = threading.Event()
        self.subscribed = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                client = redis.Redis.from_url(self.url, socket_timeout=1)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(FLASK_SOCKETIO_CHANNEL)
                self.subscribed.set()
                while not self.stopping.is_set():
                    message = pubsub.get_message(timeout=0.2)
                    if message and message["type"] == "message":
                        self._count(json.loads(message["data"]))
                pubsub.close()
            except redis.RedisError:
                self.subscribed.clear()
                time.sleep(0.2)

    def _count(self, message: dict) -> None:
        if message.get("method") != "emit":
            return
        data = message["data"][0] if isinstance(message["data"], list) else message["data"]
        if isinstance(data, dict) and data.get("key"):
            self.counts[data["key"]] += 1
            self.events.append((message["event"], message.get("room"), data))

    def __enter__(self) -> LiveSubscriber:
        self.thread.start()
        self.subscribed.wait(5)
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join(5)


def worker_env(settings, **extra: str) -> dict[str, str]:
    """The environment of a worker process sharing the test's database and instance folder."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "TELEGRAM_TOKEN", "SMTP_URL")}
    env.update(DATABASE_URL=settings.database_url, INSTANCE_PATH=str(settings.instance_path),
               STORAGE_URL=settings.storage_url, REDIS_URL=REDIS_URL, APP_ENV="development",
               SWEEP_INTERVAL_SECONDS="1", OUTBOX_LEASE_SECONDS="3",
               CHANNEL_TIMEOUT_SECONDS="2", OUTBOX_BACKOFF_SECONDS="1",
               OUTBOX_MAX_ATTEMPTS="1000", SMS_WEBHOOK_SECRET=SECRET, PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """`python -m worker` in its own process group, so a kill takes its children too."""
    with log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "worker"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def kill_group(proc: subprocess.Popen) -> None:
    """kill -9 the worker and every process it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def stop_group(proc: subprocess.Popen) -> int:
    """Ask the worker to stop (SIGTERM) and wait; kill it if it does not."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        return proc.wait(20)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        return -9
    except ProcessLookupError:
        return proc.wait(1)


def add_due_reminders(container, case_id: str, n: int, *, role: str = "supervisor",
                      due_in: timedelta = timedelta(0)) -> list[str]:
    """Open ``n`` deadlines on a case, each with one reminder due ``due_in`` from now."""
    now = utcnow()
    ids = []
    with container.uow() as uow:
        for i in range(n):
            deadline = Deadline(id=new_id(), case_id=case_id, rule_id="A17.2",
                                legal_source="test", trigger_event="test",
                                trigger_at=now - timedelta(days=1),
                                due_at=now + due_in - timedelta(minutes=i), period=1,
                                unit="working_days", status="open", warnings=[],
                                created_at=now)
            reminder = Reminder(id=new_id(), deadline_id=deadline.id, recipient_role=role,
                                step="due", send_at=now + due_in, status="pending",
                                created_at=now)
            uow.session.add(deadline)
            uow.session.flush()
            uow.session.add(reminder)
            ids.append(reminder.id)
    return ids


def add_webhook_messages(container, n: int, prefix: str) -> list[str]:
    """Queue ``n`` SMS messages straight into the outbox; return their idempotency keys."""
    now = utcnow()
    keys = [f"{prefix}:{i}" for i in range(n)]
    with container.uow() as uow:
        for key in keys:
            uow.session.add(OutboxMessage(idempotency_key=key, channel="webhook",
                                          recipient="+8613800000000", subject="期限提醒",
                                          body=f"测试消息 {key}", payload={}, status="pending",
                                          attempts=0, next_attempt_at=now, created_at=now))
    return keys


def outbox_rows(container) -> list[OutboxMessage]:
    """Every outbox row."""
    with container.uow() as uow:
        return list(uow.session.execute(select(OutboxMessage).order_by(OutboxMessage.id))
                    .scalars())


def reminder_statuses(container, ids: list[str]) -> Counter:
    """How many of the given reminders are in each status."""
    with container.uow() as uow:
        return Counter(uow.session.execute(select(Reminder.status)
                                           .where(Reminder.id.in_(ids))).scalars())
