"""Several web processes (issue 13): two real gunicorn processes on two ports over one
database and one blob store (folder or S3) share a one-time link and a tus upload whose
requests alternate between them; a request in one process that is still receiving its body
holds the upload against the other (A31.1)."""

from __future__ import annotations

import threading

import pytest
import requests

from core.evidence.models import UploadSession
from tests.evidence.support import TUS
from tests.evidence.test_tus import meta, video
from tests.helpers import auth
from tests.support.web_processes import start_web_processes
from tests.worker.support import wait_for

pytestmark = pytest.mark.both_stores
PATCH = {**TUS, "Content-Type": "application/offset+octet-stream"}


@pytest.fixture
def web(settings, container, tmp_path):
    """Two web processes sharing the test's database, store and ledger key."""
    processes = start_web_processes(settings, tmp_path)
    yield processes
    for p in processes:
        p.stop()


def test_two_processes_share_one_link_and_one_upload(web, container, people, case):
    """A31.1: a link issued by process A is used once through process B; the upload it starts
    takes its PATCHes from A and B in turn (HEAD on either gives the same offset), the last
    one runs the intake, and the other answers the result and serves the original. Then a
    PATCH body still arriving in A holds a second upload against B (409 at once, no
    interleaved bytes) until it is complete, and B resumes from A's offset."""
    _alternate(web, people, case)
    _held(web, container, people, case)


def _alternate(web, people, case) -> None:
    a, b = web
    officer = auth(people["officer"])
    r = requests.post(f"{a.url}/api/v1/cases/{case['id']}/upload-links", headers=officer,
                      timeout=10)
    assert r.status_code == 201, r.text
    by_link = {"Upload-Token": r.json()["token"]}
    data = video()
    values = {"filename": "VID_0002.mp4", "filetype": "video/mp4", "proves": "现场施工过程",
              "method": "video"}
    r = requests.post(f"{b.url}/api/v1/uploads", timeout=10, headers={
        **TUS, **by_link, "Upload-Length": str(len(data)), "Upload-Metadata": meta(**values)})
    assert r.status_code == 201, r.text
    path = "/api/v1/uploads/" + r.headers["Location"].rsplit("/", 1)[1]
    again = requests.post(f"{a.url}/api/v1/uploads", timeout=10, headers={
        **TUS, **by_link, "Upload-Length": "10", "Upload-Metadata": meta(**values)})
    assert again.status_code == 410  # the link was used up in the other process

    cuts = [0, len(data) // 3, 2 * len(data) // 3, len(data)]
    for i, process in enumerate((a, b, a)):
        start, stop = cuts[i], cuts[i + 1]
        r = requests.patch(process.url + path, data=data[start:stop], timeout=30,
                           headers={**PATCH, **by_link, "Upload-Offset": str(start)})
        assert r.status_code == 204, r.text
        assert r.headers["Upload-Offset"] == str(stop)
        for other in (a, b):
            head = requests.head(other.url + path, headers={**TUS, **by_link}, timeout=10)
            assert head.headers["Upload-Offset"] == str(stop)
    evidence_id = r.headers["X-Evidence-Id"]
    result = requests.get(b.url + path, headers=by_link, timeout=10)
    assert result.status_code == 201 and result.json()["id"] == evidence_id
    assert result.json()["size"] == len(data)
    content = requests.get(f"{a.url}/api/v1/evidence/{evidence_id}/content", headers=officer,
                           timeout=10)
    assert content.status_code == 200 and content.content == data


def _writer(container, path: str) -> str | None:
    """The lease holder of an upload, as the database says."""
    with container.uow() as uow:
        return uow.session.get(UploadSession, path.rsplit("/", 1)[1]).writer


def _held(web, container, people, case) -> None:
    a, b = web
    officer = auth(people["officer"])
    data = video()
    r = requests.post(f"{a.url}/api/v1/uploads", timeout=10, headers={
        **TUS, **officer, "Upload-Length": str(len(data)),
        "Upload-Metadata": meta(case_id=case["id"], filename="VID_0003.mp4",
                                filetype="video/mp4", proves="现场施工过程", method="video")})
    assert r.status_code == 201, r.text
    path = "/api/v1/uploads/" + r.headers["Location"].rsplit("/", 1)[1]
    half = len(data) // 2
    sent, go = threading.Event(), threading.Event()

    def slow_body():
        yield data[:1000]
        sent.set()
        go.wait(20)
        yield data[1000:half]

    answer: dict = {}

    def first():
        answer["r"] = requests.patch(a.url + path, data=slow_body(), timeout=30,
                                     headers={**PATCH, **officer, "Upload-Offset": "0"})

    writer = threading.Thread(target=first)
    writer.start()
    try:
        assert sent.wait(10)
        wait_for(lambda: _writer(container, path), 10, what="process A to take the upload")
        busy = requests.patch(b.url + path, data=data[:half], timeout=10,
                              headers={**PATCH, **officer, "Upload-Offset": "0"})
        assert busy.status_code == 409, busy.text
        assert "another request" in busy.json()["error"]["message_en"]
    finally:
        go.set()
        writer.join(30)
    assert answer["r"].status_code == 204 and answer["r"].headers["Upload-Offset"] == str(half)
    r = requests.patch(b.url + path, data=data[half:], timeout=30,
                       headers={**PATCH, **officer, "Upload-Offset": str(half)})
    assert r.status_code == 204 and r.headers["X-Evidence-Id"], r.text
