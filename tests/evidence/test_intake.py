"""Multipart intake with real files (A31.1, A17.1, A4.1, A6.1, A37.1): streamed and hashed,
typed by magic bytes, read in the sandbox, checked against the case's GCJ-02 site, recorded
once, with the A31.1 upload deadline opened at the capture time and closed by the upload."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import sys
import tracemalloc
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder, run_wsgi_app

from capture.datum import distance_m
from capture.metadata import extract
from core import ledger
from core.bootstrap import bootstrap
from core.cases.models import Evidence
from core.evidence import intake as evidence
from core.evidence import media as evidence_media
from core.ledger.models import LedgerEntry
from tests.capture import media
from tests.evidence.support import (
    SITE_GCJ,
    SITE_WGS,
    check,
    photo,
    stored_blobs,
    stranger,
    temp_files,
    upload,
)
from tests.helpers import auth, filing_form, open_case

# Every test here runs on the folder store and on the S3 server (tests/conftest.py).
pytestmark = pytest.mark.both_stores

NEAR = (SITE_WGS[0] + 0.0003, SITE_WGS[1])  # about 33 m north of the site's WGS-84 position


def _count(container, model=Evidence) -> int:
    with container.uow() as uow:
        return uow.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_photo_near_gcj02_site_passes(client, container, people, case, tmp_path):
    """A31.1 A6.1: a JPEG with EXIF GPS 33 m from a site given in GCJ-02 passes gps_distance
    once the site is converted to WGS-84 (unconverted, it would look ~500 m off); the answer
    carries hash, size, type, metadata, every check with detail_zh and the assurance."""
    path = photo(tmp_path, lat=NEAR[0], lon=NEAR[1], make="Xiaomi", model="14")
    data = path.read_bytes()
    r = upload(client, people["officer"], case["id"], data)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert (body["size"], body["media_type"]) == (len(data), "image/jpeg")
    md = body["metadata"]
    assert (md["make"], md["model"], md["software"]) == ("Xiaomi", "14", "17.1")
    assert md["gps"]["lat"] == pytest.approx(NEAR[0], abs=1e-6)
    assert md["taken_at"] is not None and body["time_source"] == "file"
    gps = check(body, "gps_distance")
    expected = distance_m(NEAR, SITE_WGS)
    assert gps["status"] == "pass" and f"GPS {expected:,.0f} m from the site" in gps["detail"]
    assert "site converted from gcj02" in gps["detail"] and "米" in gps["detail_zh"]
    assert distance_m(NEAR, SITE_GCJ) > 400  # what a naive comparison would have said
    assert [c["name"] for c in body["checks"]] == [
        "type", "gps_distance", "capture_time", "upload_delay", "editing_software", "duplicate"]
    assert all(c["detail_zh"] for c in body["checks"])
    assert body["assurance"] == "verified"
    assert (body["proves"], body["method"]) == ("现场违法建设状况", "photo")
    assert body["producer_id"] == body["uploaded_by"] == people["officer"]["id"]
    assert r.headers["Location"].endswith(f"/api/v1/evidence/{body['id']}")
    # The original is stored untouched under its hash; nothing is left in the temp folder.
    with container.blobs.open(body["sha256"]) as fh:
        assert fh.read() == data
    assert [p for p in temp_files(container) if p.name.startswith("in-")] == []
    with container.uow() as uow:
        assert ledger.verify(uow.session, uow.signer, uow.blobs).ok


def test_photo_3km_away_fails_with_the_distance(client, people, case, tmp_path):
    """A6.1: a photo taken 3 km from the site fails gps_distance, naming the distance in metres,
    and the item is still recorded (it is evidence, with a failed verdict)."""
    far = (SITE_WGS[0] + 0.027, SITE_WGS[1])
    r = upload(client, people["officer"], case["id"], photo(tmp_path, lat=far[0], lon=far[1])
               .read_bytes())
    assert r.status_code == 201
    body = r.get_json()
    gps = check(body, "gps_distance")
    d = distance_m(far, SITE_WGS)
    assert 2900 < d < 3100
    assert gps["status"] == "fail"
    assert f"GPS {d:,.0f} m from the site" in gps["detail"]
    assert f"{d:.0f}米" in gps["detail_zh"]
    assert body["assurance"] == "failed" and "gps_distance" in body["assurance_reason"]


def test_compressed_photo_is_unverified_with_the_reason(client, people, case, tmp_path):
    """A31.1: a photo without any EXIF (what Telegram sends for compressed photos) is kept as
    unverified with the reason; its A31.1 time is the upload time, and the check says so."""
    r = upload(client, people["officer"], case["id"],
               media.write_image(tmp_path, "jpeg", None).read_bytes())
    assert r.status_code == 201
    body = r.get_json()
    assert body["assurance"] == "unverified"
    assert "no EXIF" in body["assurance_reason"] and "Telegram" in body["assurance_reason"]
    assert "EXIF" in body["assurance_reason_zh"]
    t = check(body, "capture_time")
    assert t["status"] == "warn" and "the upload time" in t["detail"] and "A31.1" in t["detail"]
    assert body["time_source"] == "upload"
    assert body["captured_at"] is not None


def test_officer_stated_time_when_the_file_has_none(client, people, case, tmp_path):
    """A31.1: a file without a capture time takes the time the officer states."""
    stated = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)
    r = upload(client, people["officer"], case["id"],
               media.write_image(tmp_path, "png", None).read_bytes(), "scan.png", "image/png",
               captured_at=stated.isoformat())
    body = r.get_json()
    assert body["time_source"] == "officer"
    assert datetime.fromisoformat(body["captured_at"]) == stated
    assert "the officer stated" in check(body, "capture_time")["detail"]


def test_duplicate_is_linked_not_stored_twice(client, container, people, case, tmp_path):
    """A37.1: the same SHA-256 again answers 200 with the first item (duplicate_of), records
    the link of this upload (a new ledger-covered row) and stores no second blob."""
    data = photo(tmp_path).read_bytes()
    first = upload(client, people["officer"], case["id"], data).get_json()
    evidence_media.run_due(container.uow)  # its thumbnail is a blob of its own
    blobs_before = stored_blobs(container)
    other_case = open_case(client, people["officer"])
    r = upload(client, people["officer"], other_case["id"], data, "copy.jpg",
               proves="同一照片用于另案", method="copy")
    assert r.status_code == 200
    body = r.get_json()
    assert body["duplicate_of"] == first["id"] and body["original"]["id"] == first["id"]
    assert body["original"]["case_id"] == case["id"]
    assert body["id"] != first["id"] and body["case_id"] == other_case["id"]
    assert body["sha256"] == first["sha256"]
    dup = check(body, "duplicate")
    assert dup["status"] == "warn" and first["id"] in dup["detail"]
    assert body["assurance"] == "partial"
    assert stored_blobs(container) == blobs_before
    assert [p for p in temp_files(container) if p.name.startswith("in-")] == []
    with container.uow() as uow:
        rows = uow.session.execute(select(LedgerEntry.subject_id).where(
            LedgerEntry.kind == "evidence")).scalars().all()
        assert set(rows) == {first["id"], body["id"]}
        assert ledger.verify(uow.session, uow.signer, uow.blobs).ok


def test_duplicate_across_departments_is_not_revealed(client, container, people, case,
                                                      tmp_path):
    """A33.1: another department's identical file is recorded as a new item there: the first
    department's evidence id is never shown to it (the blob is shared all the same)."""
    data = photo(tmp_path).read_bytes()
    assert upload(client, people["officer"], case["id"], data).status_code == 201
    other = stranger(container)
    their_case = open_case(client, other)
    r = upload(client, other, their_case["id"], data)
    assert r.status_code == 201
    assert r.get_json()["duplicate_of"] is None
    assert check(r.get_json(), "duplicate")["status"] == "pass"


def test_413_before_any_handler_reads(settings, people, tmp_path):
    """The body limit is the setting max_upload_bytes: a larger declared body gets 413 before
    authentication or any read; a chunked body is cut at the same limit; nothing is kept."""
    from api import create_app

    small = dataclasses.replace(settings, max_upload_bytes=4096)
    c = bootstrap(small)
    try:
        app = create_app({"CONTAINER": c, "TESTING": True})
        client = app.test_client()
        data = b"\xff\xd8\xff" + b"\0" * 10_000
        r = client.post("/api/v1/cases/nonexistent/evidence", data={
            "file": (io.BytesIO(data), "big.jpg", "image/jpeg"), "proves": "x", "method": "y"})
        assert r.status_code == 413  # not 401: the size is refused first
        assert r.get_json()["error"]["code"] == "too_large"
        case = open_case(client, people["officer"])

        def chunked():
            yield (b"--B\r\nContent-Disposition: form-data; name=\"file\"; "
                   b"filename=\"a.jpg\"\r\n\r\n")
            for _ in range(10):
                yield b"\xff" * 1000
            yield b"\r\n--B--\r\n"

        environ = EnvironBuilder(f"/api/v1/cases/{case['id']}/evidence", method="POST",
                                 headers=auth(people["officer"]),
                                 content_type="multipart/form-data; boundary=B").get_environ()
        environ.pop("CONTENT_LENGTH", None)
        environ.update({"wsgi.input": _Stream(b"".join(chunked())),
                        "wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"})
        body, status, _ = run_wsgi_app(app, environ, buffered=True)
        assert status.startswith("413"), b"".join(body)
        assert list(c.blobs.iter_hashes()) == [] and temp_files(c) == []
    finally:
        c.engine.dispose()


class _Stream(io.RawIOBase):
    """A body of unknown length (as with Transfer-Encoding: chunked)."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        chunk = self._data.read(len(b))
        b[:len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize(("data", "name", "mime", "detected"), [
    (b"GIF89a" + b"\0" * 200, "IMG_0001.jpg", "image/jpeg", "GIF image"),
    (b"PK\x03\x04" + b"\0" * 200, "video.mp4", "video/mp4", "ZIP archive"),
    (b"hello, this is not a photo\n" * 10, "note.txt", "text/plain", None),
    (b"", "empty.jpg", "image/jpeg", None),
])
def test_415_keeps_nothing(client, container, people, case, data, name, mime, detected):
    """A4.1: anything but the accepted media types is refused with 415 naming what it is; no
    blob, no temporary file and no evidence row remain."""
    before = stored_blobs(container)
    r = upload(client, people["officer"], case["id"], data, name, mime)
    assert r.status_code == 415
    err = r.get_json()["error"]
    assert err["code"] == "unsupported_type" and "nothing was stored" in err["message_en"]
    if detected:
        assert err["detected"] == detected
    assert stored_blobs(container) == before
    assert temp_files(container) == []
    assert _count(container) == 0


@pytest.mark.parametrize("missing", ["proves", "method"])
def test_a31_fields_required(client, container, people, case, tmp_path, missing):
    """A31.1 A17.1: every AV item states its object of proof and its method, else 422 naming
    A31.1, and nothing is stored."""
    r = upload(client, people["officer"], case["id"], photo(tmp_path).read_bytes(),
               **{missing: None})
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert "A31.1" in err["message_en"] and "A31.1" in err["missing"]
    assert err["fields"] == {missing: "required"}
    assert temp_files(container) == [] and _count(container) == 0


def test_record_link_must_be_of_the_same_case(client, container, people, case, tmp_path):
    """A6.1 (linked): record_id must name a record of this case; then the item is linked."""
    form = filing_form(client, people["officer"], case["id"])
    other = open_case(client, people["officer"])
    foreign = filing_form(client, people["officer"], other["id"])
    data = photo(tmp_path).read_bytes()
    before = stored_blobs(container)
    r = upload(client, people["officer"], case["id"], data, record_id=foreign["id"])
    assert r.status_code == 422 and r.get_json()["error"]["fields"] == {
        "record_id": "not a record of this case"}
    # refused before the file is placed under its content address (intake.place)
    assert temp_files(container) == [] and _count(container) == 0
    assert stored_blobs(container) == before
    r = upload(client, people["officer"], case["id"], data, record_id=form["id"])
    assert r.status_code == 201 and r.get_json()["record_id"] == form["id"]


def test_producer_is_the_caller_or_a_colleague(client, people, case, tmp_path, container):
    """A31.1: the producer is captured_by (an active officer of the department) or the caller;
    the uploader is kept as well."""
    data = photo(tmp_path).read_bytes()
    r = upload(client, people["officer"], case["id"], data,
               captured_by=people["officer2"]["id"])
    body = r.get_json()
    assert body["producer_id"] == people["officer2"]["id"]
    assert body["uploaded_by"] == people["officer"]["id"]
    before = stored_blobs(container)
    r = upload(client, people["officer"], case["id"], photo(tmp_path, name="2.jpg").read_bytes(),
               captured_by=stranger(container)["id"])
    assert r.status_code == 422
    assert stored_blobs(container) == before and temp_files(container) == []


def test_other_department_cannot_upload(client, container, people, case, tmp_path):
    """A33.1: a case of another department is not found (404) and nothing is read or kept."""
    r = upload(client, stranger(container), case["id"], photo(tmp_path).read_bytes())
    assert r.status_code == 404
    assert temp_files(container) == []


def test_deadline_opened_at_capture_and_closed_by_upload(client, people, case, tmp_path):
    """A31.1: the upload deadline opens at the capture time (2 working days on the DB calendar)
    and is closed by the upload; GET /deadlines shows it. A photo uploaded 20 days after it
    was taken fails upload_delay and its deadline shows as met late."""
    on_time = upload(client, people["officer"], case["id"], photo(tmp_path).read_bytes())
    old = datetime.now(UTC) - timedelta(days=20)
    late = upload(client, people["officer"], case["id"],
                  photo(tmp_path, when=old, name="old.jpg").read_bytes(), "old.jpg")
    assert late.status_code == 201
    assert check(late.get_json(), "upload_delay")["status"] == "fail"
    assert "A31.1" in check(late.get_json(), "upload_delay")["detail"]
    r = client.get(f"/api/v1/cases/{case['id']}/deadlines", headers=auth(people["officer"]))
    rows = {d["subject_id"]: d for d in r.get_json()["deadlines"] if d["rule_id"] == "A31.1"}
    first, second = rows[on_time.get_json()["id"]], rows[late.get_json()["id"]]
    assert first["status"] == second["status"] == "closed"
    assert first["closed_by"] == "evidence.uploaded" and first["trigger_event"] == \
        "evidence.captured"
    assert (first["late"], second["late"]) == (False, True)
    # met on arrival: one row written already met, no reminders; late: its reminders cancelled
    assert first["reminders"] == []
    assert second["reminders"] and {x["status"] for x in second["reminders"]} == {"cancelled"}
    assert (first["period"], first["unit"]) == (2, "working_days")
    taken = datetime.fromisoformat(late.get_json()["captured_at"])
    assert datetime.fromisoformat(second["trigger_at"]) == taken


def test_editing_software_warns(client, people, case, tmp_path):
    """A6.1 (objective): a Software tag naming an editor warns and lowers the assurance."""
    r = upload(client, people["officer"], case["id"],
               photo(tmp_path, software="Adobe Photoshop 25.0").read_bytes())
    body = r.get_json()
    sw = check(body, "editing_software")
    assert sw["status"] == "warn" and "Adobe Photoshop" in sw["detail"]
    assert body["assurance"] == "partial"


def test_phone_reported_position(client, people, case, tmp_path):
    """A6.1: the phone's position at upload is compared when given: a file without GPS gets
    the reported distance; a file whose GPS is far from the phone's position says so."""
    body = upload(client, people["officer"], case["id"],
                  photo(tmp_path, lat=None, lon=None).read_bytes(),
                  lat=str(NEAR[0]), lon=str(NEAR[1]), accuracy="8").get_json()
    gps = check(body, "gps_distance")
    assert gps["status"] == "warn" and "the phone reported" in gps["detail"]
    assert "(±8 m)" in gps["detail"]
    far_phone = (SITE_WGS[0] + 0.05, SITE_WGS[1])
    body = upload(client, people["officer"], case["id"], photo(tmp_path, name="b.jpg")
                  .read_bytes(), lat=far_phone[0], lon=far_phone[1]).get_json()
    assert "at upload the phone reported a position" in check(body, "gps_distance")["detail"]
    bad = upload(client, people["officer"], case["id"], b"\xff\xd8\xff", lat="nan", lon="1")
    assert bad.status_code == 422


def _samples(tmp_path) -> list[tuple[str, bytes, str, str]]:
    """(name, bytes, declared type, expected media type) of every accepted kind we can build."""
    created = datetime.now(UTC) - timedelta(minutes=5)
    out = [(f"p.{media.SUFFIX[k]}", photo(tmp_path, kind=k).read_bytes(), "", mime)
           for k, mime in (("heic", "image/heic"), ("png", "image/png"), ("webp", "image/webp"),
                           ("tiff", "image/tiff"))]
    out += [("voice.amr", media.write_amr(tmp_path).read_bytes(), "audio/amr", "audio/amr"),
            ("wide.awb", media.write_amr(tmp_path, wb=True).read_bytes(), "", "audio/amr"),
            ("s.wav", media.write_wav(tmp_path).read_bytes(), "audio/wav", "audio/wav"),
            ("scan.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
             "application/pdf", "application/pdf"),
            ("hand.mp4", media.movie_bytes(created=created, udta=[media.xyz(
                f"{SITE_WGS[0]:+.4f}{SITE_WGS[1]:+.4f}/")]), "video/mp4", "video/mp4")]
    if media.FFMPEG:
        stamp = {"creation_time": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "location": f"{SITE_WGS[0]:+.4f}{SITE_WGS[1]:+.4f}/"}
        for container, mime in (("mov", "video/quicktime"), ("3gp", "video/3gpp")):
            p = media.ffmpeg_movie(tmp_path, container, metadata=stamp)
            out.append((p.name, p.read_bytes(), "", mime))
        for kind, mime in (("m4a", "audio/mp4"), ("mp3", "audio/mpeg"), ("opus", "audio/ogg"),
                           ("aac", "audio/aac")):
            out.append((f"tone.{kind}", media.ffmpeg_audio(tmp_path, kind).read_bytes(), "",
                        mime))
    return out


def test_every_accepted_type_goes_through(client, people, case, tmp_path):
    """A4.1: photo, video, audio and scanned documents of every accepted type are recorded
    with their media type; videos with a location are checked against the site."""
    for name, data, declared, mime in _samples(tmp_path):
        r = upload(client, people["officer"], case["id"], data, name, declared or None)
        assert r.status_code == 201, (name, r.get_json())
        body = r.get_json()
        assert body["media_type"] == mime, name
        assert check(body, "type")["status"] == "pass", (name, check(body, "type"))
        if mime.startswith("video/"):
            assert check(body, "gps_distance")["status"] == "pass", (name, body["checks"])
            assert body["metadata"]["duration_s"]


def test_unreadable_metadata_is_kept_and_says_so(app, client, people, case, tmp_path):
    """A37.1: a file of an accepted type whose metadata cannot be read (here the sandboxed
    parser hangs and is killed) is still recorded, unverified, with the reason."""
    app.config["EVIDENCE_EXTRACTOR"] = partial(
        extract, timeout_s=0.5, command=[sys.executable, "-c", "import time; time.sleep(30)"])
    r = upload(client, people["officer"], case["id"], photo(tmp_path).read_bytes())
    assert r.status_code == 201
    body = r.get_json()
    assert body["assurance"] == "unverified"
    assert body["assurance_reason"].startswith("metadata unreadable: timed out after 0.5 s")


class _Multipart(io.RawIOBase):
    """A multipart body of ``size`` file bytes made on the fly: the test holds none of it."""

    def __init__(self, size: int, boundary: bytes = b"XyZ"):
        self.head = (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"proves\""
                     b"\r\n\r\n\xe7\x8e\xb0\xe5\x9c\xba\r\n--" + boundary +
                     b"\r\nContent-Disposition: form-data; name=\"method\"\r\n\r\nvideo\r\n--"
                     + boundary + b"\r\nContent-Disposition: form-data; name=\"file\"; "
                     b"filename=\"big.mp4\"\r\nContent-Type: video/mp4\r\n\r\n")
        movie = media.movie_bytes(created=datetime.now(UTC))
        self.moov = movie[movie.index(b"moov") - 4:]
        self.ftyp = movie[:movie.index(b"mdat") - 4]
        self.mdat = size - len(self.ftyp) - len(self.moov)
        self.parts = [self.head, self.ftyp, (self.mdat).to_bytes(4, "big") + b"mdat"]
        self.zeros, self.tail = self.mdat - 8, [self.moov, b"\r\n--" + boundary + b"--\r\n"]
        self.length = sum(map(len, self.parts)) + self.zeros + sum(map(len, self.tail))
        self._at = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True  # only for the test client measuring the length before any read

    def tell(self) -> int:
        return self._at

    def seek(self, offset: int, whence: int = 0) -> int:
        self._at = self.length if whence == 2 else offset
        return self._at

    def readinto(self, b) -> int:
        if self.parts:
            part = self.parts.pop(0)
            if len(part) > len(b):
                self.parts.insert(0, part[len(b):])
                part = part[:len(b)]
        elif self.zeros:
            n = min(self.zeros, len(b))
            self.zeros -= n
            b[:n] = bytes(n)
            return n
        elif self.tail:
            part = self.tail.pop(0)
        else:
            return 0
        b[:len(part)] = part
        return len(part)


def test_memory_stays_flat_while_streaming(client, container, people, case):
    """A31.1 (stored whole): a large upload is written to the store chunk by chunk while
    hashing: the peak Python memory of the whole request stays a few MB for a 64 MB video."""
    body = _Multipart(64 << 20)
    tracemalloc.start()
    try:
        r = client.post(f"/api/v1/cases/{case['id']}/evidence", input_stream=body,
                        content_length=body.length, headers=auth(people["officer"]),
                        content_type="multipart/form-data; boundary=XyZ")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["size"] == 64 << 20
    assert r.get_json()["media_type"] == "video/mp4"
    assert peak < 8 << 20, f"peak {peak / 2**20:.1f} MB"


def test_idempotency_key_replays_the_first_answer(client, container, people, case, tmp_path):
    """A37.1: a retried upload with the same Idempotency-Key gets the first answer, not a
    twin row."""
    data = photo(tmp_path).read_bytes()
    key = {"Idempotency-Key": "upload-1"}
    first = upload(client, people["officer"], case["id"], data, headers=key)
    again = upload(client, people["officer"], case["id"], data, headers=key)
    assert again.status_code == first.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert _count(container) == 1
    other = upload(client, people["officer"], case["id"], data, headers=key, proves="别的")
    assert other.status_code == 422


@pytest.mark.parametrize(("body", "ctype", "status"), [
    (b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n\xff\xd8",
     "multipart/form-data; boundary=B", 400),
    (b"--B\r\n\xff\xfe: x\r\n\r\nabc\r\n--B--\r\n", "multipart/form-data; boundary=B", 400),
    (b"\xff\xd8\xff\xe0", "image/jpeg", 415),
    (b"--B--\r\n", "multipart/form-data; boundary=B", 422),
    (b"x", "multipart/form-data", 400),
])
def test_malformed_bodies_are_clear_4xx(client, container, people, case, body, ctype, status):
    """A37.1: broken multipart, a bare file body, no file part, no boundary: a clear 4xx."""
    r = client.post(f"/api/v1/cases/{case['id']}/evidence", data=body, content_type=ctype,
                    headers=auth(people["officer"]))
    assert r.status_code == status, r.get_json()
    assert r.get_json()["error"]["message"]
    assert temp_files(container) == []


def test_bot_entry_copies_the_file(container, people, case, tmp_path):
    """A31.1: core.evidence.intake.intake (the bot's entry) records a file from disk, leaves that
    file as it was, and answers in the API's shape."""
    path = photo(tmp_path)
    data = path.read_bytes()
    with container.uow() as uow:
        from core.people.models import Officer

        actor = uow.session.get(Officer, people["officer"]["id"])
        body = evidence.intake(uow, actor, case["id"], path=path, filename="IMG_9.jpg",
                               declared_type="image/jpeg", proves="现场",
                               method="telegram_document",
                               lat=NEAR[0], lon=NEAR[1], accuracy=10)
    assert path.read_bytes() == data
    assert body["assurance"] == "verified" and body["sha256"] == hashlib.sha256(data).hexdigest()
    with container.uow() as uow:
        row = uow.session.get(Evidence, body["id"])
        assert row.meta["intake"]["channel"] == "telegram"
        assert row.meta["intake"]["reported"]["accuracy"] == 10
