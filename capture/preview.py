"""Thumbnails of evidence images: a new small JPEG; the original file is only ever read.

JPEGs are decoded in Pillow's draft mode (the decoder scales by 1/2, 1/4 or 1/8 while
reading, so a 12-megapixel photo never becomes 36 MB of pixels); HEIC goes through
pillow-heif. ``thumbnail_sandboxed`` runs the decoder in a limited child process, like the
metadata readers: image decoders parse hostile bytes too.

    python -m capture.preview PATH MEDIA_TYPE [MAX_PX [MEMORY_MB [CPU_S]]]

writes ``QCPV`` + width + height (big-endian 32-bit) + the JPEG bytes on stdout.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass

PREVIEW_TYPES = ("jpeg", "heic", "png", "webp", "tiff")
MAX_PIXELS = 120_000_000  # above a 100-megapixel camera: a decompression bomb, not a photo
_MAGIC = b"QCPV"
_MAX_OUTPUT = 8 << 20
_PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class PreviewError(ValueError):
    """No thumbnail can be made of this file (not an image we render, or unreadable)."""


@dataclass(frozen=True)
class Thumbnail:
    """A JPEG thumbnail and its size in pixels."""

    data: bytes
    width: int
    height: int


def render(path: str | os.PathLike[str], media_type: str, max_px: int = 512) -> Thumbnail:
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
        with Image.open(path) as im:
            if media_type == "jpeg":
                im.draft("RGB", (max_px, max_px))
            im.thumbnail((max_px, max_px))
            im = ImageOps.exif_transpose(im)
            im = _rgb(im)
            out = io.BytesIO()
            im.save(out, "JPEG", quality=80)
            return Thumbnail(out.getvalue(), im.width, im.height)
    except PreviewError:
        raise
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


def make_thumbnail(path: str | os.PathLike[str], media_type: str, max_px: int = 512) -> bytes:
    """JPEG bytes of a thumbnail no larger than ``max_px`` on either side (in this process)."""
    return render(path, media_type, max_px).data


def thumbnail_sandboxed(path: str | os.PathLike[str], media_type: str, *, max_px: int = 512,
                        timeout_s: float = 20.0, memory_mb: int = 512) -> Thumbnail:
    """``render`` in a child process under memory, CPU and time limits; PreviewError on any
    failure (timeout, crash, limit, unreadable image)."""
    if media_type not in PREVIEW_TYPES:
        raise PreviewError(f"no preview for media type {media_type!r}")
    argv = [sys.executable, "-s", "-m", "capture.preview", os.path.abspath(path), media_type,
            str(max_px), str(memory_mb), f"{timeout_s:g}"]
    env = {k: v for k, v in os.environ.items()
           if k in ("PATH", "PYTHONPATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ")}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.run(  # noqa: S603 - our own interpreter and module, no shell
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=_PROJECT_ROOT,
                env=env, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise PreviewError(f"rendering timed out after {timeout_s:g} s") from None
        except OSError as exc:
            raise PreviewError(f"could not start the renderer ({exc})") from None
        out.seek(0)
        payload = out.read(_MAX_OUTPUT + 1)
        err.seek(0)
        tail = err.read()[-300:].decode("utf-8", "replace").strip().splitlines()[-1:]
    if proc.returncode != 0:
        raise PreviewError("".join(tail) or f"the renderer failed (exit code {proc.returncode})")
    if len(payload) > _MAX_OUTPUT or len(payload) < 14 or payload[:4] != _MAGIC:
        raise PreviewError("the renderer returned an invalid result")
    width, height = struct.unpack(">II", payload[4:12])
    data = payload[12:]
    if not (0 < width <= max_px and 0 < height <= max_px) or data[:3] != b"\xff\xd8\xff":
        raise PreviewError("the renderer returned an invalid result")
    return Thumbnail(data, width, height)


def main(argv: list[str] | None = None) -> int:
    """Child side: limit resources, render one thumbnail, write it on stdout."""
    args = sys.argv[1:] if argv is None else argv
    if not 2 <= len(args) <= 5:
        print("usage: python -m capture.preview PATH MEDIA_TYPE [MAX_PX [MEMORY_MB [CPU_S]]]",
              file=sys.stderr)
        return 2
    from capture.extract_worker import limit_resources

    try:
        limit_resources(int(args[3]) if len(args) > 3 else 512,
                        float(args[4]) if len(args) > 4 else 20.0)
        thumb = render(args[0], args[1], int(args[2]) if len(args) > 2 else 512)
    except MemoryError:
        print("the image needs more memory than allowed", file=sys.stderr)
        return 3
    except PreviewError as exc:
        print(str(exc), file=sys.stderr)
        return 5
    sys.stdout.buffer.write(_MAGIC + struct.pack(">II", thumb.width, thumb.height) + thumb.data)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
