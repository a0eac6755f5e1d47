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
from core.kernel.errors import TooLarge


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
    """A 13000×13000 PNG of a few KB: 413 naming its size, at once, with no decoding."""
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
    assert r.status_code == 413, r.get_json()
    assert "13000×13000" in r.get_json()["error"]["message"]
    assert elapsed < 2.0 and peak < 32 * 1024 * 1024, (elapsed, peak)
    flow.sign(case, rec, "interviewee")  # an ordinary image still signs


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
    with pytest.raises(TooLarge):
        check_dimensions(_encoded("PNG", (MAX_IMAGE_SIDE + 1, 2)))
