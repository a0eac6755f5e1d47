"""Signature, fingerprint, seal and witness images made fit to draw on a 送达回证: decoded only
in a warm sandboxed worker of capture.pool (issue 12, finding 2), re-encoded as a small PNG.

The web process never decodes a signer's upload: it reads the header (core.cases.images) and
hands the file to the pool, which checks the dimensions again with Pillow's header-only
``Image.open(...).size`` and ``Image.MAX_IMAGE_PIXELS`` before loading any pixel, under the
pool's memory, CPU, time and isolation limits. What comes back is at most BOX pixels, so
drawing it costs the web process a few hundred KB whatever was uploaded.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

from capture.source import Source, open_source

BOX = (600, 200)  # 40 points high on the receipt; three times that for print quality
FORMATS = ["PNG", "JPEG", "GIF", "WEBP"]  # what core.cases.images accepts, nothing else
OUTPUT_LIMIT = 1 << 20  # a 600×200 PNG is far smaller; anything bigger is not ours


class SignatureImageError(ValueError):
    """The image cannot be made drawable (over a limit, unreadable, the sandbox failed)."""


@dataclass(frozen=True)
class SignatureImage:
    """A drawable PNG of a signature image and its size in pixels."""

    png: bytes
    width: int
    height: int


def normalise(source: Source, *, max_side: int, max_pixels: int) -> SignatureImage:
    """Decode (in this process: the pool worker calls it), refuse over the caps before
    loading pixels, flatten onto white and shrink into BOX as a PNG."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = max_pixels  # Pillow's own bomb check, a second line behind ours
    try:
        with open_source(source) as f, Image.open(f, formats=FORMATS) as im:
            w, h = im.size  # from the header: nothing decoded yet
            if max(w, h) > max_side or w * h > max_pixels:
                raise SignatureImageError(f"the image is {w}×{h} pixels, over the limit")
            if im.format == "JPEG":
                im.draft("RGB", BOX)  # the decoder scales down while reading
            im.thumbnail(BOX)
            im = _on_white(im)
            out = io.BytesIO()
            im.save(out, "PNG", optimize=True)
            return SignatureImage(out.getvalue(), im.width, im.height)
    except (SignatureImageError, MemoryError):
        raise  # a MemoryError reaches the worker, which reports the limit and is replaced
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types on hostile input
        raise SignatureImageError(f"the image cannot be decoded: {type(exc).__name__}: "
                                  f"{str(exc)[:160]}") from None


def _on_white(im):  # type: ignore[no-untyped-def]
    from PIL import Image

    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return im if im.mode in ("RGB", "L") else im.convert("RGB")


def normalise_sandboxed(path: str | os.PathLike[str], *, max_side: int, max_pixels: int,
                        timeout_s: float = 10.0) -> SignatureImage:
    """``normalise`` run by a warm sandboxed worker of capture.pool; SignatureImageError on
    any failure (timeout, crash, memory limit, unreadable or oversized image)."""
    from capture.pool import run_with_pool

    return run_with_pool(lambda pool: pool.signature_image(
        path, max_side=max_side, max_pixels=max_pixels, timeout_s=timeout_s))
