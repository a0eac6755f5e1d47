"""Find the raw EXIF block inside JPEG, PNG and WebP files without decoding any pixels."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable

from capture.source import Source, open_source

MAX_EXIF = 1 << 20  # real EXIF blocks are at most 64 KB in JPEG; allow more, but bounded
MAX_CHUNKS = 100_000


def _strip_prefix(blob: bytes) -> bytes:
    # Some writers keep the JPEG-style "Exif\0\0" marker in front of the TIFF header.
    return blob[6:] if blob.startswith(b"Exif\x00\x00") else blob


def png_exif(path: Source) -> bytes | None:
    """The eXIf chunk of a PNG file, wherever it sits (before or after the pixels)."""
    with open_source(path) as f:
        size = os.fstat(f.fileno()).st_size
        pos = 8
        for _ in range(MAX_CHUNKS):
            if pos + 8 > size:
                return None
            f.seek(pos)
            length, kind = struct.unpack(">I4s", f.read(8))
            if kind == b"eXIf":
                if length > MAX_EXIF or pos + 8 + length > size:
                    raise ValueError(f"PNG eXIf chunk of {length} bytes is out of bounds")
                return _strip_prefix(f.read(length)) or None
            if kind == b"IEND":
                return None
            pos += 12 + length  # length, type, data, CRC
    raise ValueError(f"more than {MAX_CHUNKS} PNG chunks")


def webp_exif(path: Source) -> bytes | None:
    """The EXIF chunk of a WebP (RIFF) file."""
    with open_source(path) as f:
        size = os.fstat(f.fileno()).st_size
        f.seek(12)
        pos = 12
        for _ in range(MAX_CHUNKS):
            if pos + 8 > size:
                return None
            f.seek(pos)
            kind, length = struct.unpack("<4sI", f.read(8))
            if kind == b"EXIF":
                if length > MAX_EXIF or pos + 8 + length > size:
                    raise ValueError(f"WebP EXIF chunk of {length} bytes is out of bounds")
                return _strip_prefix(f.read(length)) or None
            pos += 8 + length + (length & 1)  # chunks are padded to an even size
    raise ValueError(f"more than {MAX_CHUNKS} WebP chunks")


def jpeg_exif(path: Source) -> bytes | None:
    """The TIFF block of a JPEG's APP1 "Exif" segment, walking segment headers only."""
    with open_source(path) as f:
        if f.read(2) != b"\xff\xd8":
            return None
        for _ in range(MAX_CHUNKS):
            marker = f.read(2)
            if len(marker) < 2 or marker[0] != 0xFF or marker[1] in (0xD9, 0xDA):
                return None  # end of image or start of scan: no EXIF before the pixels
            if 0xD0 <= marker[1] <= 0xD7 or marker[1] == 0x01:
                continue  # markers without a length
            raw_len = f.read(2)
            if len(raw_len) < 2:
                return None
            (length,) = struct.unpack(">H", raw_len)
            if length < 2:
                return None
            if marker[1] == 0xE1:
                body = f.read(length - 2)
                if body.startswith(b"Exif\x00\x00"):
                    return body[6:] or None
            else:
                f.seek(length - 2, os.SEEK_CUR)
    return None


MAX_IFD_ENTRIES = 1000  # real IFDs hold a few dozen; tens of thousands is corruption


def ifd_problem(read: Callable[[int, int], bytes], size: int) -> str | None:
    """Why a TIFF structure is implausible (an IFD running past the end), or None.

    Lets us skip a parser that would otherwise walk 65,535 garbage entries per IFD.
    """
    head = read(0, 8)
    if len(head) < 8 or head[:2] not in (b"II", b"MM"):
        return "no TIFF header"
    order = "<" if head[:2] == b"II" else ">"
    todo = [struct.unpack(order + "I", head[4:8])[0]]
    seen: set[int] = set()
    while todo and len(seen) < 8:
        off = todo.pop()
        if off == 0 or off in seen:
            continue
        seen.add(off)
        raw = read(off, 2)
        if len(raw) < 2:
            return f"IFD offset {off} is past the end"
        (count,) = struct.unpack(order + "H", raw)
        if count > MAX_IFD_ENTRIES or off + 2 + 12 * count > size:
            return f"IFD at {off} claims {count} entries, past the end of the block"
        entries = read(off + 2, 12 * count + 4)
        for i in range(count):
            tag, _typ, _n, value = struct.unpack(order + "HHII", entries[12 * i:12 * i + 12])
            if tag in (0x8769, 0x8825, 0xA005):  # Exif, GPS and Interop sub-IFDs
                todo.append(value)
        if len(entries) >= 12 * count + 4:
            todo.append(struct.unpack(order + "I", entries[12 * count:12 * count + 4])[0])
    return None
