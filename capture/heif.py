"""Locate the EXIF item of a HEIF/HEIC file through its meta/iinf and meta/iloc boxes."""

from __future__ import annotations

import os
import struct

from capture.isobmff import MAX_PAYLOAD, Box, BoxError, Walker
from capture.source import Source, open_source


def heif_exif(path: Source, limit: int = MAX_PAYLOAD) -> bytes | None:
    """Raw TIFF-format EXIF of a HEIF file, found through meta/iinf and meta/iloc."""
    with open_source(path) as f:
        size = os.fstat(f.fileno()).st_size
        w = Walker(f, size)
        meta = next((b for b in w.children(0, size, 0) if b.type == b"meta"), None)
        if meta is None:
            return None
        item_id, locations = None, {}
        for b in w.children(meta.payload + 4, meta.end, 1):
            if b.type == b"iinf":
                item_id = _exif_item(w, b)
            elif b.type == b"iloc":
                locations = _parse_iloc(w.read(b))
        if item_id is None or item_id not in locations:
            return None
        offset, length = locations[item_id]
        if length > limit or offset + length > size:
            raise BoxError(f"EXIF item of {length} bytes at {offset} is out of bounds")
        f.seek(offset)
        blob = f.read(length)
    if len(blob) < 4:
        return None
    # The item starts with a 32-bit offset to the TIFF header (past an "Exif\0\0" prefix).
    skip = 4 + int.from_bytes(blob[:4], "big")
    return blob[skip:] or None


def _exif_item(w: Walker, iinf: Box) -> int | None:
    head = w.read(iinf, limit=MAX_PAYLOAD)
    skip = 4 + (2 if head[:1] == b"\x00" else 4)  # entry count is 16-bit in version 0
    for infe in w.children(iinf.payload + skip, iinf.end, 2):
        if infe.type != b"infe":
            continue
        data = w.read(infe, limit=4096)
        version = data[0] if data else 0
        if version == 2 and len(data) >= 12:
            item, kind = struct.unpack(">H", data[4:6])[0], data[8:12]
        elif version >= 3 and len(data) >= 14:
            item, kind = struct.unpack(">I", data[4:8])[0], data[10:14]
        else:
            continue
        if kind == b"Exif":
            return item
    return None


def _parse_iloc(data: bytes) -> dict[int, tuple[int, int]]:
    """Item id -> (file offset, length) for single-extent, file-offset items."""
    if len(data) < 8:
        raise BoxError("iloc too short")
    version = data[0]
    off_size, len_size = data[4] >> 4, data[4] & 15
    base_size, idx_size = data[5] >> 4, (data[5] & 15 if version in (1, 2) else 0)
    pos = 6

    def take(n: int) -> int:
        nonlocal pos
        if n not in (0, 4, 8) and not (n == 2):
            raise BoxError(f"iloc field size {n} is invalid")
        if pos + n > len(data):
            raise BoxError("iloc cut off")
        v = int.from_bytes(data[pos:pos + n], "big") if n else 0
        pos += n
        return v

    count = take(4 if version == 2 else 2)
    out: dict[int, tuple[int, int]] = {}
    for _ in range(min(count, 10_000)):
        item = take(4 if version == 2 else 2)
        method = take(2) & 15 if version in (1, 2) else 0
        take(2)  # data reference index
        base = take(base_size)
        extents = take(2)
        first = None
        for _ in range(min(extents, 1000)):
            if idx_size:
                take(idx_size)
            e_off, e_len = take(off_size), take(len_size)
            first = first or (base + e_off, e_len)
        if method == 0 and first is not None and extents == 1:
            out[item] = first
    return out
