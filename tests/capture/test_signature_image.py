"""Signature images made drawable in the sandboxed pool (issue 12, finding 2): a small PNG on
white within BOX, and a decompression bomb refused on its header inside the worker."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from capture.pool import ParserPool
from capture.signature_image import BOX, SignatureImageError
from tests.workflow.test_image_bombs import _png_bomb

CAPS = {"max_side": 8000, "max_pixels": 24_000_000}


@pytest.fixture(scope="module")
def pool():
    """One warm worker, as the web process's shared pool has."""
    with ParserPool(1, 50) as p:
        assert p.warm_up(), p.stats
        yield p


def _file(tmp_path, data: bytes):
    path = tmp_path / "sig"
    path.write_bytes(data)
    return path


def _encoded(fmt: str, im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt,mode", [("PNG", "RGBA"), ("JPEG", "RGB"), ("GIF", "P"),
                                      ("WEBP", "RGBA"), ("PNG", "LA")])
def test_a_signature_comes_back_small_and_on_white(pool, tmp_path, fmt, mode):
    """Every accepted format: fitted into BOX keeping its shape; transparency becomes white."""
    im = Image.new(mode, (1500, 500))  # transparent (or black) everywhere
    got = pool.signature_image(_file(tmp_path, _encoded(fmt, im)), **CAPS)
    assert got.png.startswith(b"\x89PNG") and (got.width, got.height) == BOX
    with Image.open(io.BytesIO(got.png)) as out:
        assert out.size == BOX and out.mode in ("RGB", "L")
        if mode in ("RGBA", "LA"):
            assert out.convert("L").getpixel((10, 10)) == 255


def test_a_bomb_is_refused_in_the_worker_on_its_header(pool, tmp_path):
    """13000×13000 in a few KB: refused at once, before a pixel is decoded; the worker serves
    the next image."""
    start = time.monotonic()
    # Pillow refuses it in Image.open (over twice MAX_IMAGE_PIXELS), ours just after.
    with pytest.raises(SignatureImageError, match="13000×13000|DecompressionBombError"):
        pool.signature_image(_file(tmp_path, _png_bomb()), **CAPS)
    assert time.monotonic() - start < 5
    ok = pool.signature_image(_file(tmp_path, _encoded("PNG", Image.new("L", (60, 20)))),
                              **CAPS)
    assert (ok.width, ok.height) == (60, 20)


def test_the_callers_caps_are_applied_in_the_worker(pool, tmp_path):
    """The caps come with the request (core.cases.images' limits): an image over either is
    refused on its header size."""
    data = _encoded("PNG", Image.new("L", (3000, 1000)))
    with pytest.raises(SignatureImageError, match="over the limit"):
        pool.signature_image(_file(tmp_path, data), max_side=2000, max_pixels=24_000_000)
    with pytest.raises(SignatureImageError, match="over the limit"):
        pool.signature_image(_file(tmp_path, data), max_side=8000, max_pixels=2_000_000)


@pytest.mark.parametrize("data", [b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\0" * 40,
                                  b"%PDF-1.4 a pdf pretending"])
def test_what_is_not_an_accepted_image_is_refused(pool, tmp_path, data):
    """Garbage, a truncated PNG, another format: an error, never a crash of the caller."""
    with pytest.raises(SignatureImageError):
        pool.signature_image(_file(tmp_path, data), **CAPS)
