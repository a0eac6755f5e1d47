"""Issue 12, finding 1: nothing unauthenticated costs memory or holds a thread. A real gunicorn
web process (the Procfile's command) is sent bodies without a token: its peak memory and the
time to answer are measured (the figures for the README are bench/body_limits_bench.py's)."""

from __future__ import annotations

import pytest

from tests.helpers import auth, open_case
from tests.support.body_probe import memory_kb, probe, reset_peak, served_by
from tests.support.web_processes import WebProcess, environment

MB = 1024 * 1024


@pytest.fixture
def web(settings, people, tmp_path):
    """One gunicorn process over the test's database, with a 2 s body read timeout."""
    proc = WebProcess(environment(settings, BODY_READ_TIMEOUT="2"), tmp_path / "web.log",
                      threads=4).wait_ready()
    yield proc
    proc.stop()


def test_anonymous_bodies_are_refused_at_once_and_cost_no_memory(web, people):
    """96 MB without a token: 413 on the declared length, before any read, the peak memory
    barely moves; a 2 GB Content-Length with one byte: 413 on a JSON route and 401 on the
    upload route, at once, and the thread is free for the next request."""
    pid = served_by(web.process.pid)
    probe(web.port, "/api/v1/cases", declared=10, send=10)  # warm the route
    reset_peak(pid)
    before = memory_kb(pid)
    big = probe(web.port, "/api/v1/cases", declared=96 * MB, send=96 * MB)
    assert big.status == 413 and big.seconds < 2.0, big
    assert big.sent < 96 * MB  # the server closed: the rest was never read
    # Under the 1 MiB limit, a body without a token is refused before it is read.
    small = probe(web.port, "/api/v1/cases", declared=900 * 1024, send=900 * 1024)
    assert small.status == 401 and small.seconds < 2.0, small
    stalled = probe(web.port, "/api/v1/cases", declared=2 * 10**9, send=1)
    assert stalled.status == 413 and stalled.seconds < 2.0, stalled
    upload = probe(web.port, "/api/v1/cases/" + "0" * 32 + "/evidence", declared=2 * 10**9,
                   send=1, content_type="multipart/form-data; boundary=x")
    assert upload.status == 401 and upload.seconds < 2.0, upload
    tus = probe(web.port, "/api/v1/uploads/" + "0" * 32, method="PATCH", declared=2 * 10**9, send=1,
                content_type="application/offset+octet-stream",
                headers={"Tus-Resumable": "1.0.0", "Upload-Offset": "0"})
    assert tus.status in (401, 403, 404) and tus.seconds < 2.0, tus
    after = memory_kb(pid)
    assert after["VmHWM"] - before["VmHWM"] < 20 * 1024, (before, after)


def test_a_stalled_body_is_cut_off_after_the_read_timeout(web, client, people):
    """With a token, a body that stops arriving answers 408 after BODY_READ_TIMEOUT (2 s
    here), not never; a JSON route's body over 1 MiB is 413 even with a token."""
    case = open_case(client, people["officer"])
    headers = auth(people["officer"])
    stalled = probe(web.port, f"/api/v1/cases/{case['id']}/evidence", declared=50 * MB,
                    send=1, headers=headers, content_type="multipart/form-data; boundary=x")
    assert stalled.status == 408 and 1.5 < stalled.seconds < 10, stalled
    over = probe(web.port, "/api/v1/cases", declared=2 * MB, send=2 * MB, headers=headers)
    assert over.status == 413, over
