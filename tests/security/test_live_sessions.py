"""Issue 12, findings 4 and 10: a deactivated officer's live Socket.IO connection is dropped at
the re-check; the default namespace and foreign origins are refused."""

from __future__ import annotations

import time

import pytest
import socketio

from api.live import recheck
from core.notices.bindings import deactivate_officer
from tests.notifications.test_live import client_for, serve


def test_deactivation_drops_the_live_connection(container, people):
    """Connected with a valid token; after deactivation the re-check disconnects it, and the
    connection of a colleague stays."""
    from api import socketio as server

    served = serve(container)
    try:
        app = served.server.app
        gone, _ = client_for(served.url, people["张伟"]["token"])
        stays, _ = client_for(served.url, people["李娜"]["token"])
        assert recheck(app, server) == []
        with container.uow() as uow:
            deactivate_officer(uow, None, people["张伟"]["id"])
        dropped = recheck(app, server)
        assert len(dropped) == 1
        deadline = time.monotonic() + 5
        while (gone.connected and "/live" in gone.namespaces) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "/live" not in gone.namespaces
        assert "/live" in stays.namespaces
        gone.disconnect()
        stays.disconnect()
    finally:
        served.close()


def test_default_namespace_and_foreign_origins_are_refused(container, people):
    """Only /live serves, and only to this server's own origin (and tokened clients without
    an Origin header)."""
    served = serve(container)
    try:
        sio = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            sio.connect(served.url, namespaces=["/"], transports=["polling"], wait_timeout=5)
        foreign = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            foreign.connect(served.url, namespaces=["/live"],
                            auth={"token": people["张伟"]["token"]}, transports=["polling"],
                            headers={"Origin": "http://evil.example"}, wait_timeout=5)
        own, _ = client_for(served.url, people["张伟"]["token"])
        assert "/live" in own.namespaces
        own.disconnect()
    finally:
        served.close()
