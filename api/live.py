"""The ``/live`` Socket.IO namespace: a bearer token to connect, then the events of one's
department (deadlines due and overdue, new records and evidence) and one's own messages.

Rooms: the department id, which every officer of it joins (they may already read every case
of their department through the API), and ``officer:<id>`` for messages to one person.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app, request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room

from core.people import web_sessions
from core.people.access import log_access, officer_for_token
from notifications.live import NAMESPACE

# A deactivated officer's or a revoked token's live connection ends at the next re-check
# (issue 12, finding 4): every LIVE_RECHECK_S each process re-reads the tokens it serves.
LIVE_RECHECK_S = 30.0
_lock = threading.Lock()
# sid -> ("token", bearer token) or ("session", desk cookie) of this process's connections
_connected: dict[str, tuple[str, str]] = {}
SESSION_COOKIE = "qc_session"  # api.pages.web_auth's cookie (the desk's Live pane)


def _token(auth: object) -> str:
    """The token from the Socket.IO auth dict, else from an Authorization header."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return auth["token"].strip()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def on_connect(auth: object = None) -> None:
    """Refuse a connection without a valid token or desk session (the pages' cookie, sent by
    the browser with the handshake); join the department and personal rooms."""
    token = _token(auth)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if not token and not cookie:
        raise ConnectionRefusedError("unauthorized: connect with auth={'token': <bearer token>}")
    with current_app.extensions["quancheng"].uow() as uow:
        if token:
            actor = officer_for_token(uow.session, token)
        else:
            signed_in = web_sessions.current(uow.session, cookie)
            actor = signed_in.officer if signed_in else None
        if actor is None:
            raise ConnectionRefusedError("unauthorized: the token or session is unknown, "
                                         "revoked or ended")
        log_access(uow.session, actor, "connect", "live", actor.department_id,
                   channel="socketio", remote=request.remote_addr or "")
        rooms = (actor.department_id, f"officer:{actor.id}")
    for room in rooms:
        join_room(room)
    with _lock:
        _connected[request.sid] = ("token", token) if token else ("session", cookie)


def on_disconnect(*_args) -> None:
    """Forget a closed connection."""
    with _lock:
        _connected.pop(request.sid, None)


def refuse_default_namespace(auth: object = None) -> None:
    """The default namespace serves nothing: refuse it (finding 10)."""
    raise ConnectionRefusedError("connect to the /live namespace")


def recheck(app: Flask, socketio: SocketIO) -> list[str]:
    """Disconnect every live connection whose token or desk session no longer authenticates
    anyone (revoked, expired, signed out, officer deactivated); returns the sids dropped."""
    with _lock:
        held = dict(_connected)
    if not held:
        return []
    dropped = []
    with app.extensions["quancheng"].uow() as uow:
        for sid, (kind, credential) in held.items():
            if kind == "token":
                gone = officer_for_token(uow.session, credential) is None
            else:
                gone = web_sessions.current(uow.session, credential) is None
            if gone:
                dropped.append(sid)
    for sid in dropped:
        socketio.server.disconnect(sid, namespace=NAMESPACE)
        with _lock:
            _connected.pop(sid, None)
    return dropped


def _recheck_forever(app: Flask, socketio: SocketIO) -> None:
    while True:
        socketio.sleep(LIVE_RECHECK_S)
        try:
            recheck(app, socketio)
        except Exception:  # a database hiccup: try again at the next round
            app.logger.warning("live re-check failed", exc_info=True)


def init_app(app: Flask, socketio: SocketIO) -> None:
    """Register the namespace on the app's Socket.IO server and the deliveries endpoints."""
    from . import deliveries

    app.register_blueprint(deliveries.bp)
    socketio.on_event("connect", on_connect, namespace=NAMESPACE)
    socketio.on_event("disconnect", on_disconnect, namespace=NAMESPACE)
    socketio.on_event("connect", refuse_default_namespace, namespace="/")
    if not app.config.get("TESTING"):
        socketio.start_background_task(_recheck_forever, app, socketio)
