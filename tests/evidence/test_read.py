"""Reading evidence (A33.1, A37.1): metadata and the original, access-checked and logged;
the download is an attachment with a safe name and nosniff; previews are separate blobs."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import unquote

import pytest
from PIL import Image
from sqlalchemy import select

from api.evidence import content_disposition
from core.evidence import intake as evidence
from core.evidence import media
from core.evidence.models import EvidencePreview
from core.people.models import AccessLog
from tests.evidence.support import photo, stranger, upload
from tests.helpers import auth

# Every test here runs on the folder store and on the S3 server (tests/conftest.py).
pytestmark = pytest.mark.both_stores


@pytest.fixture
def item(client, people, case, tmp_path) -> tuple[dict, bytes]:
    """One uploaded photo (2000×1500, so the preview really shrinks it) and its bytes."""
    data = photo(tmp_path, width=2000, height=1500).read_bytes()
    r = upload(client, people["officer"], case["id"], data,
               "/storage/emulated/0/DCIM/../现场 照片\u202egpj.exe")
    assert r.status_code == 201
    return r.get_json(), data


def _log(container, evidence_id: str) -> list[tuple[str, str]]:
    with container.uow() as uow:
        return [(a.action, a.officer_id) for a in uow.session.execute(
            select(AccessLog).where(AccessLog.subject_id == evidence_id)
            .order_by(AccessLog.id)).scalars()]


def test_metadata_read_is_logged(client, container, people, item):
    """A33.1: GET /evidence/{id} answers the item as recorded; the read is logged."""
    body, _ = item
    r = client.get(f"/api/v1/evidence/{body['id']}", headers=auth(people["officer2"]))
    assert r.status_code == 200
    got = r.get_json()
    assert {k: got[k] for k in ("sha256", "checks", "assurance", "metadata")} == \
        {k: body[k] for k in ("sha256", "checks", "assurance", "metadata")}
    assert _log(container, body["id"]) == [("read", people["officer2"]["id"])]


def test_content_is_a_safe_attachment(client, container, people, item):
    """A33.1 A37.1: the original streams back byte for byte as an attachment whose name has no
    path parts or format characters, with nosniff, no caching, its hash, and the read logged."""
    body, data = item
    assert body["filename"] == "现场 照片gpj.exe"  # the path and U+202E are gone
    r = client.get(f"/api/v1/evidence/{body['id']}/content", headers=auth(people["officer"]),
                   buffered=True)
    assert r.status_code == 200
    assert r.data == data
    assert r.headers["Content-Type"] == "image/jpeg"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in r.headers["Content-Security-Policy"]
    assert "no-store" in r.headers["Cache-Control"]
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="__ __gpj.exe"; filename*=UTF-8\'\'')
    assert unquote(disposition.split("UTF-8''", 1)[1]) == "现场 照片gpj.exe"
    assert r.headers["Repr-Digest"] == \
        f"sha-256=:{base64.b64encode(hashlib.sha256(data).digest()).decode()}:"
    assert r.headers["ETag"] == f'"{body["sha256"]}"'
    part = client.get(f"/api/v1/evidence/{body['id']}/content",
                      headers={**auth(people["officer"]), "Range": "bytes=0-9"}, buffered=True)
    assert part.status_code == 206 and part.data == data[:10]
    assert [a for a, _ in _log(container, body["id"])] == ["download", "download"]


@pytest.mark.parametrize(("name", "ascii_name", "utf8"), [
    ("../../etc/passwd", "passwd", "passwd"),
    ("a\r\nSet-Cookie: x=1.jpg", "aSet-Cookie_ x_1.jpg", "aSet-Cookie%3A%20x%3D1.jpg"),
    ('x";evil=1.jpg', 'x__evil_1.jpg', "x%22%3Bevil%3D1.jpg"),
    ("", "evidence-1", "evidence-1"),
    ("....", "evidence-1", "evidence-1"),
])
def test_content_disposition_is_always_safe(name, ascii_name, utf8):
    """A37.1: no name can add a header, a path, a quote or a parameter to the download."""
    value = content_disposition(name, "evidence-1")
    assert value == f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{utf8}"
    assert "\r" not in value and "\n" not in value


def test_other_department_gets_404_everywhere(client, container, people, item):
    """A33.1: another department's officer learns nothing: metadata, content and preview 404,
    exactly as for an id that does not exist; nothing is logged for them."""
    body, _ = item
    other = stranger(container)
    for suffix in ("", "/content", "/preview"):
        r = client.get(f"/api/v1/evidence/{body['id']}{suffix}", headers=auth(other),
                       buffered=True)
        missing = client.get(f"/api/v1/evidence/{'0' * 32}{suffix}", headers=auth(other))
        assert r.status_code == missing.status_code == 404
        assert r.get_json()["error"]["code"] == "not_found"
    assert all(who != other["id"] for _, who in _log(container, body["id"]))
    assert client.get(f"/api/v1/evidence/{body['id']}").status_code == 401


def test_preview_is_a_separate_blob(client, container, people, item):
    """A37.1 (never tampered): previews are made off the request path (Pillow draft mode) as
    their own blob pointing at the original's hash; the original is never modified."""
    body, data = item
    assert [o.status for o in media.run_due(container.uow)] == ["done"]
    r = client.get(f"/api/v1/evidence/{body['id']}/preview", headers=auth(people["officer"]),
                   buffered=True)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/jpeg"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(__import__("io").BytesIO(r.data)) as im:
        assert max(im.size) == 512 and im.size == (512, 384)
    with container.uow() as uow:
        row = uow.session.execute(select(EvidencePreview)).scalar_one()
        assert row.original_sha256 == body["sha256"] == container.blobs.rehash(body["sha256"])
        assert row.sha256 == hashlib.sha256(r.data).hexdigest() != body["sha256"]
        assert (row.width, row.height) == (512, 384)
    with container.blobs.open(body["sha256"]) as fh:
        assert fh.read() == data
    meta = client.get(f"/api/v1/evidence/{body['id']}", headers=auth(people["officer"]))
    assert meta.get_json()["preview"]["width"] == 512


def test_no_preview_for_documents(client, container, people, case):
    """A4.1: only images and videos get thumbnails: a scanned PDF answers 404 with the reason."""
    r = upload(client, people["officer"], case["id"],
               b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "scan.pdf",
               "application/pdf")
    assert media.run_due(container.uow) == []  # no task was owed for a document
    p = client.get(f"/api/v1/evidence/{r.get_json()['id']}/preview",
                   headers=auth(people["officer"]))
    assert p.status_code == 404 and "previews are made for images" in \
        p.get_json()["error"]["message_en"]
    assert "预览" in p.get_json()["error"]["message"]


def test_make_preview_reuses_the_thumbnail_of_the_same_content(container, people, client,
                                                               case, tmp_path):
    """A37.1: a duplicate's preview reuses the first thumbnail (same original hash)."""
    data = photo(tmp_path).read_bytes()
    first = upload(client, people["officer"], case["id"], data).get_json()
    second = upload(client, people["officer"], case["id"], data, method="copy").get_json()
    assert [o.status for o in media.run_due(container.uow)] == ["done", "done"]
    with container.uow() as uow:
        a = evidence.preview_of(uow.session, first["id"])
        b = media.make_preview(uow, second["id"])
        assert b.sha256 == a.sha256 and b.evidence_id == second["id"]
