"""Resumable uploads with raw HTTP requests following tus 1.0 (creation, HEAD, PATCH,
termination) and one-time upload links (A31.1): a large video from a phone on a bad network
arrives in pieces, resumes after a disconnect, and goes through the same intake."""

from __future__ import annotations

import base64
import fcntl
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from werkzeug.test import EnvironBuilder, run_wsgi_app

from core.cases.models import Evidence
from core.evidence.models import UploadLink, UploadSession
from core.people.models import Officer
from tests.capture import media
from tests.evidence.support import SITE_WGS, TUS, check, stored_blobs, stranger, temp_files
from tests.helpers import auth, open_case

# Every test here runs on the folder store and on the S3 server (tests/conftest.py).
pytestmark = pytest.mark.both_stores

PATCH_TYPE = {"Content-Type": "application/offset+octet-stream"}


def meta(**values: str) -> str:
    """An Upload-Metadata header."""
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def video() -> bytes:
    """A phone video: creation time a minute ago and a location next to the site."""
    return media.movie_bytes(
        created=datetime.now(UTC) - timedelta(minutes=1), duration_s=30.0,
        udta=[media.xyz(f"{SITE_WGS[0]:+.4f}{SITE_WGS[1]:+.4f}/"),
              media.qt_text(b"\xa9mak", "Xiaomi"), media.qt_text(b"\xa9mod", "14")],
        mdat=bytes(range(256)) * 200)


def create(client, headers: dict, case_id: str | None, length: int, **fields):
    """tus creation with the A31.1 fields."""
    values = {"filename": "VID_0001.mp4", "filetype": "video/mp4", "proves": "现场施工过程",
              "method": "video", **fields}
    if case_id:
        values["case_id"] = case_id
    return client.post("/api/v1/uploads", headers={
        **TUS, **headers, "Upload-Length": str(length), "Upload-Metadata": meta(**values)})


def patch(client, location: str, headers: dict, offset: int, data: bytes):
    """One tus PATCH."""
    return client.patch(location, data=data, headers={
        **TUS, **headers, **PATCH_TYPE, "Upload-Offset": str(offset)})


def disconnected_patch(app, location: str, headers: dict, offset: int, data: bytes,
                       sent: int) -> str:
    """A PATCH announcing ``len(data)`` bytes whose connection drops after ``sent`` of them."""
    environ = EnvironBuilder(location, method="PATCH", headers={
        **TUS, **headers, **PATCH_TYPE, "Upload-Offset": str(offset)}, data=data).get_environ()
    environ["wsgi.input"] = io.BytesIO(data[:sent])  # CONTENT_LENGTH still says len(data)
    _, status, _ = run_wsgi_app(app, environ, buffered=True)
    return status


@pytest.fixture
def officer(people) -> dict:
    """The uploading officer's Authorization header."""
    return auth(people["officer"])


def test_options_discovery(client):
    """A31.1 (large videos): tus discovery names version, extensions and the size limit."""
    r = client.options("/api/v1/uploads")
    assert r.status_code == 204
    assert r.headers["Tus-Version"] == r.headers["Tus-Resumable"] == "1.0.0"
    assert "creation" in r.headers["Tus-Extension"].split(",")
    assert int(r.headers["Tus-Max-Size"]) == 2 * 1024**3


def test_upload_in_three_patches_resumed_after_a_disconnect(app, client, container, officer,
                                                            case):
    """A31.1: creation, a first PATCH, a second cut off by a disconnect (the bytes that arrived
    are kept), HEAD for the offset, a third PATCH from there: the last one runs the intake,
    answers with X-Evidence-Id, and GET /uploads/{id} returns the intake result."""
    data = video()
    r = create(client, officer, case["id"], len(data))
    assert r.status_code == 201, r.get_json()
    assert r.headers["Tus-Resumable"] == "1.0.0"
    location = r.headers["Location"]
    assert "/api/v1/uploads/" in location
    upload_id = location.rsplit("/", 1)[1]

    third = len(data) // 3
    r = patch(client, location, officer, 0, data[:third])
    assert r.status_code == 204 and r.headers["Upload-Offset"] == str(third)
    assert r.headers["Tus-Resumable"] == "1.0.0"

    status = disconnected_patch(app, location, officer, third, data[third:], sent=1000)
    assert status.startswith("400")
    head = client.head(location, headers={**TUS, **officer})
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == str(third + 1000)
    assert head.headers["Upload-Length"] == str(len(data))
    assert head.headers["Cache-Control"] == "no-store"

    r = patch(client, location, officer, third + 1000, data[third + 1000:])
    assert r.status_code == 204, r.get_json()
    assert r.headers["Upload-Offset"] == str(len(data))
    evidence_id = r.headers["X-Evidence-Id"]

    result = client.get(location, headers=officer)
    assert result.status_code == 201
    body = result.get_json()
    assert body["id"] == evidence_id and body["upload_id"] == upload_id
    assert body["media_type"] == "video/mp4" and body["size"] == len(data)
    assert body["metadata"]["make"] == "Xiaomi" and body["metadata"]["duration_s"] == 30.0
    assert check(body, "gps_distance")["status"] == "pass"
    assert body["proves"] == "现场施工过程" and body["method"] == "video"
    assert body["metadata"] and body["assurance"] in ("verified", "partial")
    with container.blobs.open(body["sha256"]) as fh:
        assert fh.read() == data
    assert temp_files(container) == []  # moved into the store, not copied
    # The final answer was lost? An empty PATCH at the end gets it again.
    again = patch(client, location, officer, len(data), b"")
    assert again.status_code == 204 and again.headers["X-Evidence-Id"] == evidence_id


def test_protocol_errors(client, container, officer, case):
    """412 without Tus-Resumable, 400 without Upload-Length or with broken metadata, 413 over
    the limit, 422 without the A31.1 fields, 409 on a wrong offset or while another request
    writes, 415 on a wrong type; a refused PATCH keeps the offset where it was."""
    r = client.post("/api/v1/uploads", headers={**officer, "Upload-Length": "10"})
    assert r.status_code == 412 and r.headers["Tus-Version"] == "1.0.0"
    assert r.headers["Tus-Resumable"] == "1.0.0"
    r = client.post("/api/v1/uploads", headers={**TUS, **officer})
    assert r.status_code == 400
    r = client.post("/api/v1/uploads", headers={**TUS, **officer, "Upload-Length": "10",
                                                "Upload-Metadata": "proves !!!"})
    assert r.status_code == 400
    assert create(client, officer, case["id"], 3 * 1024**3).status_code == 413
    r = create(client, officer, case["id"], 10, proves="")
    assert r.status_code == 422 and "A31.1" in r.get_json()["error"]["missing"]
    assert create(client, officer, "nope", 10).status_code == 404
    location = create(client, officer, case["id"], 10).headers["Location"]
    assert patch(client, location, officer, 5, b"12345").status_code == 409
    r = client.patch(location, data=b"x", headers={**TUS, **officer, "Upload-Offset": "0",
                                                   "Content-Type": "application/octet-stream"})
    assert r.status_code == 415
    r = patch(client, location, officer, 0, b"0123456789ABC")
    assert r.status_code == 413
    upload_id = location.rsplit("/", 1)[1]
    with open(container.blobs.tmp_dir / f"tus-{upload_id}", "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another request is writing
        r = patch(client, location, officer, 0, b"01234")
        assert r.status_code == 409 and "another request" in r.get_json()["error"]["message_en"]
    assert client.head(location, headers={**TUS, **officer}).headers["Upload-Offset"] == "0"
    assert client.head(location, headers=officer).status_code == 412
    assert client.head(location, headers=TUS).status_code == 401
    assert client.head("/api/v1/uploads/../../etc", headers={**TUS, **officer}).status_code \
        == 404


def test_other_officers_cannot_touch_an_upload(client, container, people, officer, case):
    """A33.1: an upload belongs to its officer: a colleague and another department get 404."""
    location = create(client, officer, case["id"], 10).headers["Location"]
    for who in (auth(people["officer2"]), auth(stranger(container))):
        assert client.head(location, headers={**TUS, **who}).status_code == 404
        assert patch(client, location, who, 0, b"x").status_code == 404


def test_finished_upload_of_a_refused_type_keeps_nothing(client, container, officer, case):
    """A4.1: a complete upload that is not an accepted type is refused with 415 at the last
    PATCH; GET answers the same refusal; no blob and no temporary file remain."""
    data = b"GIF89a" + bytes(500)
    before = stored_blobs(container)
    location = create(client, officer, case["id"], len(data)).headers["Location"]
    r = patch(client, location, officer, 0, data)
    assert r.status_code == 415 and r.headers["Upload-Offset"] == str(len(data))
    assert client.get(location, headers=officer).status_code == 415
    assert stored_blobs(container) == before and temp_files(container) == []
    with container.uow() as uow:
        assert uow.session.execute(select(Evidence)).first() is None


def test_termination(client, container, officer, case):
    """A37.1 (nothing lost by accident): only an explicit tus DELETE removes an unfinished
    upload's bytes; the upload then answers 410."""
    location = create(client, officer, case["id"], 100).headers["Location"]
    assert patch(client, location, officer, 0, b"\xff\xd8\xff" + bytes(20)).status_code == 204
    assert client.delete(location, headers={**TUS, **officer}).status_code == 204
    assert client.head(location, headers={**TUS, **officer}).status_code == 410
    assert temp_files(container) == []


def test_one_time_link_works_once(client, container, people, officer, case):
    """A31.1: a link bound to the case and officer, expiring in 24 h, uploads exactly once
    without a bearer token; the second use is refused (410); the upload it made carries on."""
    r = client.post(f"/api/v1/cases/{case['id']}/upload-links", headers=officer)
    assert r.status_code == 201
    link = r.get_json()
    expires = datetime.fromisoformat(link["expires_at"])
    assert timedelta(hours=23, minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=24)
    assert link["url"].endswith(f"/u#{link['token']}")  # the token is in the fragment only
    page = client.get("/u")
    assert page.status_code == 200 and "断点续传" in page.get_data(as_text=True)
    assert link["token"] not in page.get_data(as_text=True)
    old_form = client.get(f"/api/v1/upload-links/{link['token']}")  # links issued before
    assert old_form.status_code == 303 and old_form.headers["Location"] == f"/u#{link['token']}"

    by_link = {"Upload-Token": link["token"]}
    data = video()
    r = create(client, by_link, None, len(data))  # the case comes from the link
    assert r.status_code == 201, r.get_json()
    location = r.headers["Location"]
    second = create(client, by_link, None, len(data))
    assert second.status_code == 410 and "used already" in second.get_json()["error"]["message_en"]
    assert patch(client, location, by_link, 0, data).status_code == 204
    body = client.get(location, headers=by_link).get_json()
    assert body["uploaded_by"] == body["producer_id"] == people["officer"]["id"]
    assert body["case_id"] == case["id"]
    info = client.get("/api/v1/upload-link", headers=by_link).get_json()
    assert info["state"] == "used" and info["upload"]["status"] == "done"
    assert info["upload"]["url"] == location


def test_link_as_a_plain_url_and_its_limits(client, container, people, officer, case):
    """A link's token works as ?token= (the upload URL carries it on, for any tus client);
    an expired link is refused; a link cannot be aimed at another case."""
    token = client.post(f"/api/v1/cases/{case['id']}/upload-links",
                        headers=officer).get_json()["token"]
    other = open_case(client, people["officer"])
    r = client.post(f"/api/v1/uploads?token={token}", headers={
        **TUS, "Upload-Length": "10",
        "Upload-Metadata": meta(case_id=other["id"], proves="x", method="video")})
    assert r.status_code == 422
    r = client.post(f"/api/v1/uploads?token={token}", headers={
        **TUS, "Upload-Length": "10", "Upload-Metadata": meta(proves="x", method="video")})
    assert r.status_code == 201 and r.headers["Location"].endswith(f"?token={token}")
    assert client.head(r.headers["Location"], headers=TUS).headers["Upload-Offset"] == "0"

    late = client.post(f"/api/v1/cases/{case['id']}/upload-links",
                       headers=officer).get_json()["token"]
    with container.uow() as uow:
        uow.session.execute(update(UploadLink).values(
            expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    r = create(client, {"Upload-Token": late}, None, 10)
    assert r.status_code == 410 and "expired" in r.get_json()["error"]["message_en"]
    assert create(client, {"Upload-Token": "qcu_forged"}, None, 10).status_code == 401
    foreign = stranger(container)
    assert client.post(f"/api/v1/cases/{case['id']}/upload-links",
                       headers=auth(foreign)).status_code == 404


def test_issue_upload_link_for_the_bot(container, people, case):
    """The bot's entry: uploads.issue_upload_link(uow, actor, case_id) -> url, expiry."""
    from core.evidence import uploads

    with container.uow() as uow:
        actor = uow.session.get(Officer, people["officer"]["id"])
        link = uploads.issue_upload_link(uow, actor, case["id"])
    assert link["url"].startswith("http://127.0.0.1:5000/u#qcu_")
    assert link["expires_at"].endswith("+08:00")
    with container.uow() as uow:
        row = uow.session.execute(select(UploadLink)).scalar_one()
        assert row.officer_id == people["officer"]["id"] and row.used_at is None
        assert uow.session.execute(select(UploadSession)).first() is None


def test_a_writer_in_another_process_holds_the_upload(client, container, officer, case, clock):
    """Several processes: while another process's request holds the upload's write lease (in
    the database, not a local file lock), a PATCH gets 409 at once and the offset stays; a
    lease left by a process that died expires and the upload resumes."""
    from core.evidence.uploads import LEASE

    data = video()
    location = create(client, officer, case["id"], len(data)).headers["Location"]
    upload_id = location.rsplit("/", 1)[1]
    with container.uow() as uow:  # what a PATCH in progress on another machine leaves
        uow.session.execute(update(UploadSession).where(UploadSession.id == upload_id).values(
            writer="f" * 32, writer_until=datetime.now(UTC) + LEASE))
    r = patch(client, location, officer, 0, data[:100])
    assert r.status_code == 409 and "another request" in r.get_json()["error"]["message_en"]
    assert client.head(location, headers={**TUS, **officer}).headers["Upload-Offset"] == "0"
    clock.advance(seconds=LEASE.total_seconds() + 1)  # that process died mid-body
    r = patch(client, location, officer, 0, data[:100])
    assert r.status_code == 204 and r.headers["Upload-Offset"] == "100"
    with container.uow() as uow:
        row = uow.session.get(UploadSession, upload_id)
        assert row.writer is None and row.writer_until is None and row.offset == 100
