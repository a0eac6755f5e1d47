"""Socket.IO across several web processes through the Redis message queue (issue 13): an
event emitted by one web process reaches a client connected to another, as does one the
worker publishes; a session lives in the process it connected to, which is why a proxy in
front of several processes needs sticky sessions (README, "Running it for a city").

Uses Redis at 127.0.0.1:6379, database 14; nothing is flushed (Socket.IO's Redis queue is a
pub/sub channel and leaves no keys)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace

import pytest
import requests
import socketio
from werkzeug.serving import make_server

from core.bootstrap import bootstrap
from notifications.live import NAMESPACE, redis_emitter
from tests.support.web_processes import start_web_processes
from tests.worker.support import redis_ping, wait_for

REDIS_URL = "redis://127.0.0.1:6379/14"


def _client(url: str, token: str, transport: str) -> tuple[socketio.Client, list]:
    received: list = []
    sio = socketio.Client(reconnection=False)
    sio.on("deadline", received.append, namespace=NAMESPACE)
    sio.connect(url, namespaces=[NAMESPACE], auth={"token": token}, transports=[transport],
                wait_timeout=10)
    return sio, received


def test_an_event_from_one_web_process_reaches_a_client_of_another(settings, people, tmp_path):
    """A supervisor connected to web process B receives the department's event that web
    process A emits, and one the worker publishes; A's own client gets both too. B does not
    know A's sessions: a long-poll of A's session sent to B is refused (sticky sessions)."""
    if not redis_ping(REDIS_URL):
        pytest.fail("Redis is not running on 127.0.0.1:6379")
    from api import create_app
    from api import socketio as server_a

    shared = replace(settings, redis_url=REDIS_URL)
    container = bootstrap(shared)
    b = start_web_processes(shared, tmp_path, count=1)[0]
    app = create_app({"CONTAINER": container, "TESTING": True})
    server_a.server.eio.ping_interval = 1  # a pending long-poll ends within a second
    a = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=a.serve_forever, daemon=True).start()
    a_url = f"http://127.0.0.1:{a.server_port}"
    clients = []
    try:
        token, room = people["supervisor"]["token"], people["department"]["id"]
        on_a, got_a = _client(a_url, token, "polling")
        on_b, got_b = _client(b.url, token, "websocket")
        clients += [on_a, on_b]
        key = uuid.uuid4().hex
        server_a.emit("deadline", {"key": key, "type": "deadline.due"}, namespace=NAMESPACE,
                      to=room)
        wait_for(lambda: got_b and got_a, 10, what="the event of process A on both clients")
        assert got_b[0]["key"] == got_a[0]["key"] == key
        redis_emitter(REDIS_URL)("deadline", {"key": "from-worker"}, room, NAMESPACE)
        wait_for(lambda: len(got_b) == 2 and len(got_a) == 2, 10, what="the worker's event")
        assert got_b[1]["key"] == got_a[1]["key"] == "from-worker"
        foreign = requests.get(f"{b.url}/socket.io/", timeout=10, params={
            "EIO": "4", "transport": "polling", "sid": on_a.eio.sid})
        assert foreign.status_code == 400
    finally:
        for c in clients:
            c.disconnect()
        a.shutdown()
        a.server_close()
        b.stop()
        container.engine.dispose()
