"""Socket.IO delivery with a real client against a served app: the /live namespace needs a
token, joins the department room, and receives what the worker emits (in-process, or
through Redis as in production)."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
import socketio
from werkzeug.serving import make_server

from core.bootstrap import bootstrap
from core.kernel.clock import utcnow
from core.notices.models import OutboxMessage
from core.people.officers import add_officer, ensure_department, issue_token
from notifications.base import DeliveryError
from notifications.config import NotifyConfig
from notifications.live import SocketIOChannel, redis_emitter, server_emitter
from notifications.outbox import deliver
from tests.worker.support import REDIS_URL, redis_ping, wait_for

CONFIG = NotifyConfig(max_attempts=3)


class Served:
    """The app on a free 127.0.0.1 port, served by the Werkzeug server socketio.run uses."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def serve(container):
    """Create and serve the app over a container."""
    from api import create_app, socketio

    app = create_app({"CONTAINER": container, "TESTING": True})
    # A pending long-poll ends at the next ping; 1 s instead of 25 s keeps disconnects quick.
    socketio.server.eio.ping_interval = 1
    return Served(app)


def client_for(url: str, token: str | None, transports=("polling",)
               ) -> tuple[socketio.Client, list]:
    """A connected /live client and the list its events land in. Polling by default: the
    Werkzeug server answers a WebSocket close late, which costs 3 s a client."""
    received: list = []
    sio = socketio.Client(reconnection=False)
    sio.on("deadline", received.append, namespace="/live")
    sio.on("delivery_failed", received.append, namespace="/live")
    auth = {"token": token} if token is not None else None
    sio.connect(url, namespaces=["/live"], auth=auth, transports=list(transports),
                wait_timeout=5)
    return sio, received


def socket_message(container, room: str, key: str, **over) -> int:
    """A Socket.IO message in the outbox, due now."""
    now = utcnow()
    row = OutboxMessage(idempotency_key=key, channel="socketio", recipient=room,
                        subject="【期限提醒】YYZJ-2026-0001 A17.2",
                        body="到期时间为 2026-10-08 23:59",
                        payload={"event": "deadline.due", "rule_id": "A17.2", "step": "due"},
                        status="pending", attempts=0, next_attempt_at=now, created_at=now)
    for k, v in over.items():
        setattr(row, k, v)
    with container.uow() as uow:
        uow.session.add(row)
        uow.session.flush()
        return row.id


def test_live_needs_a_token_and_delivers_to_the_department_room(container, people):
    """No token or a wrong one: refused. A supervisor receives the department's 'deadline'
    event; an officer of another department does not."""
    from api import socketio as server

    with container.uow() as uow:
        other = ensure_department(uow.session, "OTHER", "另一个局")
        stranger_token = issue_token(uow.session, add_officer(uow.session, other, "外人",
                                                              ["supervisor"]))
    served = serve(container)
    clients = []
    try:
        for bad in (None, "qc_not-a-token"):
            with pytest.raises(socketio.exceptions.ConnectionError):
                client_for(served.url, bad)
        supervisor, received = client_for(served.url, people["supervisor"]["token"],
                                          transports=("websocket",))
        assert supervisor.transport() == "websocket"
        stranger, strangers = client_for(served.url, stranger_token)
        clients += [supervisor, stranger]

        dept = people["department"]["id"]
        outbox_id = socket_message(container, dept, "dl1:sup:due:socketio")
        channels = {"socketio": SocketIOChannel(server_emitter(server))}
        assert deliver(container, outbox_id, channels, config=CONFIG).status == "sent"
        wait_for(lambda: received, 5, what="the supervisor's deadline event")
        [event] = received
        assert event["type"] == "deadline.due" and event["key"] == "dl1:sup:due:socketio"
        assert event["rule_id"] == "A17.2" and event["subject"].startswith("【期限提醒】")

        # A personal room: an admin report reaches only its admin.
        personal = socket_message(container, f"officer:{people['supervisor']['id']}", "r1",
                                  payload={"event": "delivery_failed"})
        deliver(container, personal, channels, config=CONFIG)
        wait_for(lambda: len(received) == 2, 5, what="the personal event")
        assert received[1]["type"] == "delivery_failed"
        assert strangers == []
    finally:
        for c in clients:
            c.disconnect()
        served.close()


def test_worker_emits_through_redis_to_a_served_app(settings, people):
    """Production shape: the app runs with message_queue=REDIS_URL, the worker publishes with
    a write-only Redis manager, the client receives."""
    if not redis_ping():
        pytest.fail("Redis is not running on 127.0.0.1:6379")
    container = bootstrap(replace(settings, redis_url=REDIS_URL))
    served = serve(container)
    supervisor = None
    try:
        supervisor, received = client_for(served.url, people["supervisor"]["token"])
        outbox_id = socket_message(container, people["department"]["id"], "dl2:sup:due:socketio")
        channels = {"socketio": SocketIOChannel(redis_emitter(REDIS_URL))}
        assert deliver(container, outbox_id, channels, config=CONFIG).status == "sent"
        wait_for(lambda: received, 5, what="the event published through Redis")
        assert received[0]["key"] == "dl2:sup:due:socketio"
    finally:
        if supervisor:
            supervisor.disconnect()
        served.close()
        container.engine.dispose()


def test_redis_emitter_fails_loudly_when_redis_is_unreachable():
    """python-socketio would log and drop the event; the outbox needs to know, and retry."""
    emit = redis_emitter("redis://127.0.0.1:1/0")
    channel = SocketIOChannel(emit)
    m = OutboxMessage(id=1, idempotency_key="k", channel="socketio", recipient="room",
                      subject="s", body="b", payload={}, created_at=utcnow())
    with pytest.raises(DeliveryError) as info:
        channel.send(m)
    assert info.value.retryable
