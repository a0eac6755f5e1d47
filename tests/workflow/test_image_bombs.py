"""Issue 12, finding 2: a decompression bomb as a signature, seal or witness image is refused
on the dimensions its header declares, before anything decodes it; one stored before the cap
is not decoded when the 送达回证 is drawn (A13.2, A22.2, A23.1)."""

from __future__ import annotations

import base64
import io
import struct
import time
import tracemalloc
import zlib

import pytest
from PIL import Image

from core.cases.images import MAX_IMAGE_SIDE, check_dimensions, image_size
from core.cases.receipts import _Page
from core.kernel.errors import Invalid


def _png_bomb(side: int = 13000) -> bytes:
    """A 1-bit PNG of side × side pixels, all zero: a few KB that decode to ~170 MP."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    row = b"\0" + b"\0" * ((side + 7) // 8)
    raw = zlib.compress(row * side, 9)
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw)
            + chunk(b"IEND", b""))


def _encoded(fmt: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_dimensions_are_read_from_every_accepted_format(fmt):
    """The header reader agrees with Pillow on each format a signer's device produces."""
    assert image_size(_encoded(fmt, (123, 45))) == (123, 45)


def test_a_png_bomb_signature_is_refused_before_decoding(flow, client):
    """A13.2: a 13000×13000 PNG of a few KB: 422 naming the field and its size in Chinese, at
    once, with no decoding."""
    bomb = _png_bomb()
    assert len(bomb) < 64 * 1024
    case = flow.filed()
    rec = flow.record(case, "inquiry_record")
    url = f"/api/v1/cases/{case['id']}/records/{rec['id']}/signatures"
    tracemalloc.start()
    start = time.monotonic()
    r = client.post(url, headers={"Authorization": f"Bearer {flow.officer['token']}"},
                    json={"role": "interviewee", "signer_name": "周建国", "method": "signature",
                          "image_base64": base64.b64encode(bomb).decode()})
    elapsed = time.monotonic() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert r.status_code == 422, r.get_json()
    message = r.get_json()["error"]["message"]
    assert "image_base64" in message and "13000×13000" in message and "超过允许的尺寸" in message
    assert elapsed < 2.0 and peak < 32 * 1024 * 1024, (elapsed, peak)
    flow.sign(case, rec, "interviewee")  # an ordinary image still signs


def test_a_png_bomb_is_refused_on_every_api_intake(flow, client):
    """A13.2 A22.2: the multipart signature part and a witness's image are refused the same
    way, each naming its own field; English when asked."""
    bomb = _png_bomb()
    case = flow.filed()
    rec = flow.record(case, "inquiry_record")
    auth = {"Authorization": f"Bearer {flow.officer['token']}"}
    r = client.post(f"/api/v1/cases/{case['id']}/records/{rec['id']}/signatures",
                    headers=auth, content_type="multipart/form-data",
                    data={"role": "interviewee", "signer_name": "周建国", "method": "signature",
                          "image": (io.BytesIO(bomb), "sig.png", "image/png")})
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["error"]["message"].startswith("填写有误：image：图片为 13000×13000")
    witness = {"name": "刘一", "id_number": "430602199001010011", "relation": "邻居",
               "signature_image_base64": base64.b64encode(bomb).decode()}
    r = client.post(f"/api/v1/cases/{case['id']}/records/{rec['id']}/refusals",
                    headers={**auth, "Accept-Language": "en"},
                    json={"role": "interviewee", "person_name": "周建国", "reason": "不签",
                          "place": "现场", "witnesses": [witness]})
    assert r.status_code == 422, r.get_json()
    message = r.get_json()["error"]["message"]
    assert "witnesses[0].signature_image_base64" in message and "13000×13000" in message


def test_a_stored_bomb_is_not_decoded_in_the_receipt(tmp_path):
    """An image stored before the cap is checked again when the receipt is drawn: a note
    instead of a 1.8 GB decode."""
    from reportlab.pdfgen.canvas import Canvas

    page = _Page(Canvas(str(tmp_path / "r.pdf")))
    lines = []
    page.line = lambda text, size=10, center=False: lines.append(text)
    start = time.monotonic()
    page.image(_png_bomb())
    assert time.monotonic() - start < 1.0
    assert lines == ["  [签名图像无法显示]"]
    with pytest.raises(Invalid):
        check_dimensions(_encoded("PNG", (MAX_IMAGE_SIDE + 1, 2)))
