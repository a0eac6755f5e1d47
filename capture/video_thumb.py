"""A thumbnail of a video's first frame with ffmpeg, fed through a pipe.

The parser worker holds the video as a descriptor and has no path to it, so ffmpeg reads its
standard input. A pipe cannot seek back, and phones write the ``moov`` index after the media
data, so such files are streamed with ``moov`` moved to the front and its chunk offsets
(``stco``/``co64``) shifted by its size, as qt-faststart does; nothing is written to disk.
ffmpeg runs with the worker's limits and seccomp filter, one thread, the ``pipe`` protocol
only (no external data references), and a time limit.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import struct
import subprocess
import threading
from collections.abc import Iterator

from capture.isobmff import Box, BoxError, Walker
from capture.source import Source, open_source

VIDEO_TYPES = ("mp4", "mov", "3gp")
MAX_MOOV = 64 << 20  # an index this large is not a phone's recording
MAX_FRAME_BYTES = 32 << 20
_CONTAINERS = (b"moov", b"trak", b"mdia", b"minf", b"stbl")
_CHUNK = 1 << 20


class VideoError(ValueError):
    """No frame can be had from this video."""


Piece = tuple[int, int] | bytes  # a byte range of the file, or bytes to send as they are


def stream_plan(f, size: int) -> list[Piece]:
    """The pieces to send so that the stream starts with ``moov`` (see the module docstring)."""
    w = Walker(f, size)
    top = list(w.children(0, size, 0))
    moov = next((b for b in top if b.type == b"moov"), None)
    mdat = next((b for b in top if b.type == b"mdat"), None)
    if moov is None:
        raise VideoError("the video has no 'moov' index (the recording was not finalised)")
    if mdat is None or moov.start < mdat.start:
        return [(0, size)]
    length = moov.end - moov.start
    if length > MAX_MOOV:
        raise VideoError(f"the video index of {length} bytes is too large")
    f.seek(moov.start)
    data = bytearray(f.read(length))
    shift_chunk_offsets(data, length, mdat.start, moov.start)
    return [(0, mdat.start), bytes(data), (mdat.start, moov.start), (moov.end, size)]


def shift_chunk_offsets(moov: bytearray, delta: int, low: int, high: int) -> int:
    """Add ``delta`` to every chunk offset in [low, high) of a ``moov`` box held in memory;
    returns how many were shifted. VideoError when a 32-bit offset would overflow."""
    w = Walker(io.BytesIO(bytes(moov)), len(moov))
    shifted = 0

    def walk(start: int, end: int, depth: int) -> None:
        nonlocal shifted
        for b in w.children(start, end, depth):
            if b.type in _CONTAINERS:
                walk(b.payload, b.end, depth + 1)
            elif b.type in (b"stco", b"co64"):
                shifted += _shift_table(moov, b, delta, low, high)

    root = next(iter(w.children(0, len(moov), 0)), None)
    if root is None or root.type != b"moov":
        raise VideoError("not a 'moov' box")
    walk(root.payload, root.end, 1)
    return shifted


def _shift_table(buf: bytearray, box: Box, delta: int, low: int, high: int) -> int:
    fmt = ">Q" if box.type == b"co64" else ">I"
    width = struct.calcsize(fmt)
    if box.payload + 8 > box.end:
        raise VideoError(f"{box.name} box too short")
    (count,) = struct.unpack_from(">I", buf, box.payload + 4)
    first = box.payload + 8
    if first + count * width > box.end:
        raise VideoError(f"{box.name} box claims {count} entries it does not hold")
    top = 1 << (8 * width)
    shifted = 0
    for i in range(count):
        at = first + i * width
        (offset,) = struct.unpack_from(fmt, buf, at)
        if low <= offset < high:
            offset += delta
            if offset >= top:
                raise VideoError("the video is too large to stream its index first")
            struct.pack_into(fmt, buf, at, offset)
            shifted += 1
    return shifted


def _pieces(fd: int, plan: list[Piece]) -> Iterator[bytes]:
    for piece in plan:
        if isinstance(piece, bytes):
            yield piece
            continue
        pos, end = piece
        while pos < end:
            chunk = os.pread(fd, min(_CHUNK, end - pos), pos)
            if not chunk:
                return
            pos += len(chunk)
            yield chunk


def first_frame_png(source: Source, max_px: int, *, timeout_s: float = 20.0) -> bytes:
    """The first video frame, oriented and scaled to fit ``max_px``, as PNG bytes."""
    ffmpeg = shutil.which("ffmpeg", path="/usr/local/bin:/usr/bin:/bin")
    if ffmpeg is None:
        raise VideoError("ffmpeg is not installed")
    with open_source(source) as f:
        try:
            plan = stream_plan(f, os.fstat(f.fileno()).st_size)
        except (BoxError, struct.error) as exc:
            raise VideoError(f"the video structure cannot be read: {exc}") from None
        fd = os.dup(f.fileno())
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-threads", "1",
            "-protocol_whitelist", "pipe", "-f", "mov", "-i", "pipe:0", "-map", "0:v:0",
            "-frames:v", "1", "-vf",
            f"scale={max_px}:{max_px}:force_original_aspect_ratio=decrease",
            "-threads", "1", "-f", "image2pipe", "-c:v", "png", "pipe:1"]
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,  # noqa: S603
                                stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin"})
    except OSError as exc:
        os.close(fd)
        raise VideoError(f"ffmpeg cannot start: {exc}") from None

    def feed() -> None:
        try:
            for chunk in _pieces(fd, plan):
                proc.stdin.write(chunk)
        except (BrokenPipeError, ValueError, OSError):
            pass  # ffmpeg has its frame (or gave up): the rest is not needed
        finally:
            os.close(fd)
            with contextlib.suppress(OSError):
                proc.stdin.close()

    err = bytearray()

    def drain() -> None:
        while chunk := proc.stderr.read(4096):
            if len(err) < 4096:
                err.extend(chunk)

    threads = [threading.Thread(target=feed, daemon=True),
               threading.Thread(target=drain, daemon=True)]
    for t in threads:
        t.start()
    timer = threading.Timer(timeout_s, proc.kill)
    timer.start()
    try:
        out = proc.stdout.read(MAX_FRAME_BYTES + 1)
        code = proc.wait()
    finally:
        timer.cancel()
        proc.kill()
        for t in threads:
            t.join(5)
    if code != 0 or not out:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:]
        reason = "".join(tail)[:160] or (f"killed after {timeout_s:g} s" if code < 0
                                         else f"exit code {code}")
        raise VideoError(f"ffmpeg could not decode a frame: {reason}")
    if len(out) > MAX_FRAME_BYTES:
        raise VideoError("ffmpeg returned an oversized frame")
    return out
