"""Socket.IO channel: an event to a room (a department id, or ``officer:<id>``) on ``/live``.

The event is the family of ``payload["event"]`` (``deadline.due`` → ``deadline``, default
``deadline``); its data carries the full name as ``type``, the payload's fields, and the
message's id, idempotency ``key`` (clients drop repeats by it), subject and body.

Socket.IO is a live feed, not a mailbox: "accepted" means handed to a running web process;
whoever is not connected at that moment reads the same facts from the API.
"""

from __future__ import annotations

from collections.abc import Callable

import socketio

from core.notices.models import OutboxMessage

from .base import DeliveryError, text_of

NAMESPACE = "/live"
# Flask-SocketIO listens on this pub/sub channel unless told otherwise (flask_socketio.init_app).
FLASK_SOCKETIO_CHANNEL = "flask-socketio"

# emit(event, data, room, namespace)
Emit = Callable[[str, dict, str, str], None]


class SocketIOChannel:
    """Emit the message to its room as one event of its family."""

    name = "socketio"

    def __init__(self, emit: Emit, *, default_lang: str = "zh"):
        self._emit = emit
        self.default_lang = default_lang

    def send(self, message: OutboxMessage) -> None:
        """Emit once; a failure to reach the web processes is retryable."""
        payload = message.payload or {}
        subject, body = text_of(message, self.default_lang)
        kind = str(payload.get("event") or "deadline")
        data = {k: v for k, v in payload.items() if k not in ("event", "template", "context")}
        data.update(type=kind, id=message.id, key=message.idempotency_key,
                    case_id=message.case_id, subject=subject, body=body,
                    created_at=message.created_at.isoformat() if message.created_at else None)
        try:
            self._emit(kind.split(".", 1)[0], data, message.recipient, NAMESPACE)
        except DeliveryError:
            raise
        except Exception as exc:  # any transport error: the message stays in the outbox
            raise DeliveryError(f"socket.io emit failed: {type(exc).__name__}",
                                retryable=True) from None


class _StrictRedisManager(socketio.RedisManager):
    """A write-only manager that raises when Redis is down instead of logging and moving on."""

    def _publish(self, data):
        try:
            if not self.connected:
                self._redis_connect()
            receivers = self.redis.publish(self.channel, self.json.dumps(data))
        except Exception:
            self.connected = False
            raise
        if receivers == 0:
            raise DeliveryError("no web process is listening for Socket.IO events",
                                retryable=True)
        return receivers


def redis_emitter(redis_url: str) -> Emit:
    """Emit through Redis to every web process started with message_queue=REDIS_URL."""
    manager = _StrictRedisManager(redis_url, channel=FLASK_SOCKETIO_CHANNEL, write_only=True)

    def emit(event: str, data: dict, room: str, namespace: str) -> None:
        manager.emit(event, data, namespace=namespace, room=room)

    return emit


def server_emitter(server) -> Emit:
    """Emit through an in-process flask_socketio.SocketIO (embedded defaults, no Redis)."""

    def emit(event: str, data: dict, room: str, namespace: str) -> None:
        server.emit(event, data, namespace=namespace, to=room)

    return emit
