"""Thumbnails of evidence images and videos: a new small JPEG; the original is only ever read.

JPEGs are decoded in Pillow's draft mode (the decoder scales by 1/2, 1/4 or 1/8 while
reading, so a 12-megapixel photo never becomes 36 MB of pixels); HEIC goes through
pillow-heif; videos give their first frame through ffmpeg (capture.video_thumb).
``thumbnail_sandboxed`` renders in a warm sandboxed worker of capture.pool, like the metadata
readers: image and video decoders parse hostile bytes too.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

from capture.source import Source, open_source
from capture.video_thumb import VIDEO_TYPES, VideoError, first_frame_png

PREVIEW_TYPES = ("jpeg", "heic", "png", "webp", "tiff")
MAX_PIXELS = 120_000_000  # above a 100-megapixel camera: a decompression bomb, not a photo
THUMBNAIL_TYPES = PREVIEW_TYPES + VIDEO_TYPES


class PreviewError(ValueError):
    """No thumbnail can be made of this file (not an image we render, or unreadable)."""


@dataclass(frozen=True)
class Thumbnail:
    """A JPEG thumbnail and its size in pixels."""

    data: bytes
    width: int
    height: int


def render(path: Source, media_type: str, max_px: int = 512) -> Thumbnail:
    """Decode (draft mode for JPEG), orient by EXIF, shrink to ``max_px`` and encode as JPEG."""
    if media_type not in PREVIEW_TYPES:
        raise PreviewError(f"no preview for media type {media_type!r}")
    if not 16 <= max_px <= 4096:
        raise PreviewError("max_px must be between 16 and 4096")
    from PIL import Image, ImageOps

    if media_type == "heic":
        import pillow_heif

        pillow_heif.register_heif_opener()
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with open_source(path) as f, Image.open(f) as im:
            if media_type == "jpeg":
                im.draft("RGB", (max_px, max_px))
            im.thumbnail((max_px, max_px))
            im = ImageOps.exif_transpose(im)
            im = _rgb(im)
            out = io.BytesIO()
            im.save(out, "JPEG", quality=80)
            return Thumbnail(out.getvalue(), im.width, im.height)
    except (PreviewError, MemoryError):
        raise  # a MemoryError reaches the worker, which reports the limit and is replaced
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types on bad input
        raise PreviewError(f"the image cannot be rendered: {type(exc).__name__}: "
                           f"{str(exc)[:160]}") from None


def _rgb(im):  # type: ignore[no-untyped-def]
    from PIL import Image

    if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        # 16-bit and float TIFFs (scanners, DNG previews): scale to 8 bits for display.
        im = im.convert("I").point(lambda v: v / 256).convert("L")
    return im if im.mode == "RGB" else im.convert("RGB")


def render_video(source: Source, media_type: str, max_px: int = 512, *,
                 timeout_s: float = 20.0) -> Thumbnail:
    """The first frame of a video, oriented and fitted to ``max_px``, as a JPEG Thumbnail."""
    if media_type not in VIDEO_TYPES:
        raise PreviewError(f"no video preview for media type {media_type!r}")
    if not 16 <= max_px <= 4096:
        raise PreviewError("max_px must be between 16 and 4096")
    from PIL import Image

    try:
        png = first_frame_png(source, max_px, timeout_s=timeout_s)
    except VideoError as exc:
        raise PreviewError(str(exc)) from None
    try:
        with Image.open(io.BytesIO(png), formats=["PNG"]) as im:
            im.thumbnail((max_px, max_px))
            im = _rgb(im)
            out = io.BytesIO()
            im.save(out, "JPEG", quality=80)
            return Thumbnail(out.getvalue(), im.width, im.height)
    except Exception as exc:  # noqa: BLE001 - ffmpeg's output is as untrusted as its input
        raise PreviewError(f"the video frame cannot be rendered: {type(exc).__name__}") from None


def render_any(source: Source, media_type: str, max_px: int = 512, *,
               timeout_s: float = 20.0) -> Thumbnail:
    """``render`` for images, ``render_video`` for videos (in this process)."""
    if media_type in VIDEO_TYPES:
        return render_video(source, media_type, max_px, timeout_s=timeout_s)
    return render(source, media_type, max_px)


def make_thumbnail(path: Source, media_type: str, max_px: int = 512) -> bytes:
    """JPEG bytes of a thumbnail no larger than ``max_px`` on either side (in this process)."""
    return render_any(path, media_type, max_px).data


def thumbnail_sandboxed(path: str | os.PathLike[str], media_type: str, *, max_px: int = 512,
                        timeout_s: float = 20.0, memory_mb: int | None = None) -> Thumbnail:
    """A thumbnail of an image or a video, rendered by a warm sandboxed worker of
    capture.pool under its memory, CPU, time and isolation limits; PreviewError on any
    failure (timeout, crash, limit, unreadable file). ``memory_mb`` other than the pool's
    runs a one-off worker with that limit."""
    if media_type not in THUMBNAIL_TYPES:
        raise PreviewError(f"no preview for media type {media_type!r}")
    if not 16 <= max_px <= 4096:
        raise PreviewError("max_px must be between 16 and 4096")
    from capture.pool import run_with_pool

    return run_with_pool(lambda pool: pool.thumbnail(path, media_type, max_px=max_px,
                                                     timeout_s=timeout_s), memory_mb)
