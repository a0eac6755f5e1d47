"""A small, bounded ISO base media (MP4/MOV/3GP/HEIF) box walker and the boxes we read."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

from capture.iso6709 import parse_iso6709
from capture.source import Source, open_source

MAX_DEPTH = 12
MAX_BOXES = 20_000
MAX_PAYLOAD = 1 << 20  # no box we parse is legitimately bigger than this
_EPOCH_1904 = datetime(1904, 1, 1, tzinfo=UTC)
_APPLE = "com.apple.quicktime."


class BoxError(ValueError):
    """A box structure that cannot be walked further."""


@dataclass(frozen=True)
class Box:
    """One box header: its type and where its payload lies in the file."""

    type: bytes
    start: int
    header: int
    end: int
    truncated: bool = False

    @property
    def payload(self) -> int:
        """Offset of the first payload byte."""
        return self.start + self.header

    @property
    def name(self) -> str:
        """Printable box type."""
        return self.type.decode("latin-1")


class Walker:
    """Walks boxes by seeking, with limits on depth, count and payload size."""

    def __init__(self, f: BinaryIO, size: int, max_boxes: int = MAX_BOXES,
                 max_depth: int = MAX_DEPTH):
        self.f, self.size = f, size
        self.max_boxes, self.max_depth = max_boxes, max_depth
        self.count = 0
        self.errors: list[str] = []

    def children(self, start: int, end: int, depth: int = 0) -> Iterator[Box]:
        """Yield the boxes laid end to end in [start, end)."""
        if depth > self.max_depth:
            self.errors.append(f"boxes nested deeper than {self.max_depth} levels")
            return
        pos = start
        while pos + 8 <= end:
            self.count += 1
            if self.count > self.max_boxes:
                self.errors.append(f"more than {self.max_boxes} boxes; stopped reading")
                return
            self.f.seek(pos)
            head = self.f.read(8)
            if len(head) < 8:
                return
            size, kind = struct.unpack(">I4s", head)
            header = 8
            if size == 1:  # 64-bit largesize follows the type
                big = self.f.read(8)
                if len(big) < 8:
                    self.errors.append(f"box {kind!r} at {pos}: largesize cut off")
                    return
                (size,) = struct.unpack(">Q", big)
                header = 16
            elif size == 0:  # extends to the end of its parent (the file at top level)
                size = end - pos
            if kind == b"uuid":
                header += 16
            if size < header:
                self.errors.append(f"box {kind!r} at {pos}: size {size} is smaller than "
                                   f"its header")
                return
            box_end = pos + size
            truncated = box_end > end
            if truncated:
                # Common when a recording stopped abruptly: keep what is there, say so.
                self.errors.append(f"box {kind.decode('latin-1')!r} at {pos} claims {size} "
                                   f"bytes but only {end - pos} remain (file truncated?)")
                box_end = end
            yield Box(kind, pos, header, box_end, truncated)
            pos = box_end

    def read(self, box: Box, offset: int = 0, limit: int = MAX_PAYLOAD) -> bytes:
        """Read a box payload (from ``offset``), refusing payloads over ``limit``."""
        n = box.end - box.payload - offset
        if n < 0:
            return b""
        if n > limit:
            raise BoxError(f"box {box.name!r} payload of {n} bytes exceeds {limit}")
        self.f.seek(box.payload + offset)
        return self.f.read(n)

    def find(self, parent: Box, kind: bytes, depth: int, skip: int = 0) -> Box | None:
        """First child of ``parent`` with this type (``skip`` bytes into the payload)."""
        for b in self.children(parent.payload + skip, parent.end, depth):
            if b.type == kind:
                return b
        return None


@dataclass
class Location:
    """A location found in a movie, as written (WGS-84 by convention)."""

    lat: float
    lon: float
    altitude: float | None = None
    accuracy: float | None = None


@dataclass
class MovieInfo:
    """What the walker found in an MP4/MOV/3GP/M4A file."""

    created: datetime | None = None  # mvhd creation time, UTC by the standard
    apple_creationdate: str | None = None  # com.apple.quicktime.creationdate, with offset
    date_tag: str | None = None  # ©day, when present
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    has_video: bool = False
    has_audio: bool = False
    locations: dict[str, Location] = field(default_factory=dict)  # by layout: ©xyz/loci/keys
    make: str | None = None
    model: str | None = None
    software: str | None = None
    errors: list[str] = field(default_factory=list)


def _mac_time(seconds: int) -> datetime | None:
    # Zero means "not set" (ffmpeg without creation_time); far-future values are corrupt.
    if seconds <= 0 or seconds > 0xFFFFFFFFFF:
        return None
    try:
        return _EPOCH_1904 + timedelta(seconds=seconds)
    except OverflowError:
        return None


def parse_mvhd(data: bytes) -> tuple[datetime | None, float | None]:
    """Creation time (UTC) and duration in seconds from an mvhd payload (v0 or v1)."""
    if len(data) < 4:
        raise BoxError("mvhd too short")
    version = data[0]
    if version == 1:
        if len(data) < 32:
            raise BoxError("mvhd v1 too short")
        created, _mod, timescale, duration = struct.unpack(">QQIQ", data[4:32])
    else:
        if len(data) < 20:
            raise BoxError("mvhd v0 too short")
        created, _mod, timescale, duration = struct.unpack(">IIII", data[4:20])
    # All-ones duration means "unknown" in both versions.
    unknown = duration in (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF)
    seconds = duration / timescale if timescale and not unknown else None
    return _mac_time(created), seconds


def _tkhd_size(data: bytes) -> tuple[int, int] | None:
    off = 4 + (32 if data[:1] == b"\x01" else 20) + 8 + 8 + 36
    if len(data) < off + 8:
        return None
    w, h = struct.unpack(">II", data[off:off + 8])
    return w >> 16, h >> 16


def parse_loci(data: bytes) -> Location:
    """3GPP location box: language, name, role, then 16.16 fixed lon, lat, alt."""
    if len(data) < 6:
        raise BoxError("loci too short")
    pos = 6  # version/flags (4) + pad bit and language (2)
    if data[pos:pos + 2] in (b"\xfe\xff", b"\xff\xfe"):  # UTF-16 name ends in two zero bytes
        end = pos + 2
        while end + 1 < len(data) and data[end:end + 2] != b"\x00\x00":
            end += 2
        pos = end + 2
    else:
        end = data.find(b"\x00", pos)
        if end < 0:
            raise BoxError("loci name not terminated")
        pos = end + 1
    pos += 1  # role
    if len(data) < pos + 12:
        raise BoxError("loci coordinates cut off")
    lon, lat, alt = struct.unpack(">iii", data[pos:pos + 12])
    lon_f, lat_f = lon / 65536, lat / 65536
    if not (-90 <= lat_f <= 90 and -180 <= lon_f <= 180):
        raise BoxError(f"loci location out of range: {lat_f}, {lon_f}")
    return Location(lat_f, lon_f, alt / 65536)


def _qt_text(data: bytes) -> str:
    """QuickTime user-data text: 16-bit length, 16-bit language, then the text."""
    if len(data) >= 4:
        (n,) = struct.unpack(">H", data[:2])
        if 4 + n <= len(data):
            return data[4:4 + n].decode("utf-8", "replace").rstrip("\x00")
    return data.decode("utf-8", "replace").rstrip("\x00")


def _data_value(payload: bytes) -> str | float | int | None:
    """Value of an ilst 'data' box payload: type indicator, locale, then the value."""
    if len(payload) < 8:
        return None
    kind = int.from_bytes(payload[1:4], "big")
    value = payload[8:]
    if kind == 1:
        return value.decode("utf-8", "replace").rstrip("\x00")
    if kind == 2:
        return value.decode("utf-16-be", "replace").rstrip("\x00")
    if kind == 23 and len(value) == 4:
        return struct.unpack(">f", value)[0]
    if kind == 24 and len(value) == 8:
        return struct.unpack(">d", value)[0]
    if kind in (21, 22) and 1 <= len(value) <= 8:
        return int.from_bytes(value, "big", signed=kind == 21)
    return None


class _MovieReader:
    def __init__(self, w: Walker, info: MovieInfo):
        self.w, self.info = w, info

    def moov(self, moov: Box) -> None:
        for b in self.w.children(moov.payload, moov.end, 1):
            if b.type == b"mvhd":
                self.info.created, self.info.duration_s = parse_mvhd(self.w.read(b))
            elif b.type == b"trak":
                self._safe(self.trak, b)
            elif b.type == b"udta":
                self._safe(self.udta, b)
            elif b.type == b"meta":
                self._safe(self.meta, b, 2)

    def _safe(self, fn, box: Box, *args) -> None:  # type: ignore[no-untyped-def]
        # One broken track or tag must not lose the rest of the movie.
        try:
            fn(box, *args)
        except (BoxError, struct.error, ValueError, UnicodeError) as exc:
            self.info.errors.append(f"{box.name}: {exc}")

    def trak(self, trak: Box) -> None:
        size, handler, fmt, rate = None, None, None, None
        for b in self.w.children(trak.payload, trak.end, 2):
            if b.type == b"tkhd":
                size = _tkhd_size(self.w.read(b))
            elif b.type == b"mdia":
                handler, fmt, rate = self.mdia(b)
        if handler == b"vide":
            self.info.has_video = True
            if size and size[0] and size[1] and self.info.width is None:
                self.info.width, self.info.height = size
            self.info.video_codec = self.info.video_codec or fmt
        elif handler == b"soun":
            self.info.has_audio = True
            self.info.audio_codec = self.info.audio_codec or fmt
            self.info.sample_rate = self.info.sample_rate or rate

    def mdia(self, mdia: Box) -> tuple[bytes | None, str | None, int | None]:
        handler, fmt, rate = None, None, None
        for b in self.w.children(mdia.payload, mdia.end, 3):
            if b.type == b"hdlr":
                handler = self.w.read(b, limit=4096)[8:12]
            elif b.type == b"minf":
                stbl = self.w.find(b, b"stbl", 4)
                stsd = self.w.find(stbl, b"stsd", 5) if stbl else None
                if stsd:
                    data = self.w.read(stsd, limit=65536)
                    if len(data) >= 16:
                        fmt = data[12:16].decode("latin-1").strip("\x00 ") or None
                    if len(data) >= 8 + 36:  # audio sample entry: 16.16 rate at byte 32
                        rate = struct.unpack(">I", data[8 + 32:8 + 36])[0] >> 16
        return handler, fmt, (rate if handler == b"soun" and rate else None)

    def udta(self, udta: Box) -> None:
        for b in self.w.children(udta.payload, udta.end, 2):
            self._safe(self.udta_item, b)

    def udta_item(self, b: Box) -> None:
        if b.type == b"\xa9xyz":
            lat, lon, alt = parse_iso6709(_qt_text(self.w.read(b, limit=4096)))
            self.info.locations["©xyz"] = Location(lat, lon, alt)
        elif b.type == b"loci":
            self.info.locations["loci"] = parse_loci(self.w.read(b, limit=4096))
        elif b.type == b"meta":
            self.meta(b, 3)
        elif b.type in (b"\xa9mak", b"\xa9mod", b"\xa9swr", b"\xa9too", b"\xa9day"):
            self._tag(b.type, _qt_text(self.w.read(b, limit=4096)))

    def _tag(self, kind: bytes, value: str) -> None:
        value = value.strip()
        if not value:
            return
        i = self.info
        if kind == b"\xa9mak":
            i.make = i.make or value
        elif kind == b"\xa9mod":
            i.model = i.model or value
        elif kind in (b"\xa9swr", b"\xa9too"):
            i.software = i.software or value
        elif kind == b"\xa9day":
            i.date_tag = i.date_tag or value

    def meta(self, meta: Box, depth: int) -> None:
        # ISO 'meta' is a full box (4 bytes version/flags); QuickTime 'meta' is not.
        self.w.f.seek(meta.payload + 4)
        skip = 0 if self.w.f.read(4) in (b"hdlr", b"keys", b"ilst") else 4
        keys: list[str] = []
        for b in self.w.children(meta.payload + skip, meta.end, depth):
            if b.type == b"keys":
                keys = _parse_keys(self.w.read(b))
            elif b.type == b"ilst":
                self.ilst(b, keys, depth + 1)

    def ilst(self, ilst: Box, keys: list[str], depth: int) -> None:
        values: dict[str, str | float | int] = {}
        for item in self.w.children(ilst.payload, ilst.end, depth):
            index = int.from_bytes(item.type, "big")
            name = keys[index - 1] if keys and 1 <= index <= len(keys) else item.name
            data = self.w.find(item, b"data", depth + 1)
            if data is None:
                continue
            value = _data_value(self.w.read(data, limit=65536))
            if value is not None:
                values[name] = value
        self._apple(values)
        for tag in ("©mak", "©mod", "©swr", "©too", "©day"):
            if isinstance(values.get(tag), str):
                self._tag(tag.encode("latin-1"), values[tag])  # type: ignore[arg-type]
        if isinstance(values.get("©xyz"), str):
            lat, lon, alt = parse_iso6709(values["©xyz"])  # type: ignore[arg-type]
            self.info.locations.setdefault("©xyz", Location(lat, lon, alt))

    def _apple(self, values: dict[str, str | float | int]) -> None:
        i = self.info
        loc = values.get(_APPLE + "location.ISO6709")
        if isinstance(loc, str):
            lat, lon, alt = parse_iso6709(loc)
            acc = values.get(_APPLE + "location.accuracy.horizontal")
            try:
                accuracy = float(acc) if acc is not None else None
            except ValueError:
                accuracy = None
            i.locations["keys"] = Location(lat, lon, alt, accuracy)
        # The device's own keys outrank generic user-data text, whichever came first.
        for key in ("make", "model", "software"):
            v = values.get(_APPLE + key)
            if isinstance(v, str) and v.strip():
                setattr(i, key, v.strip())
        created = values.get(_APPLE + "creationdate")
        if isinstance(created, str) and created.strip():
            i.apple_creationdate = created.strip()


def _parse_keys(data: bytes) -> list[str]:
    """Apple 'keys' box: version/flags, count, then (size, namespace, name) entries."""
    if len(data) < 8:
        raise BoxError("keys too short")
    (count,) = struct.unpack(">I", data[4:8])
    keys, pos = [], 8
    for _ in range(min(count, 4096)):
        if pos + 8 > len(data):
            break
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        if n < 8 or pos + n > len(data):
            raise BoxError(f"keys entry of size {n} at {pos} is invalid")
        keys.append(data[pos + 8:pos + n].decode("utf-8", "replace"))
        pos += n
    return keys


def read_movie(path: Source) -> MovieInfo:
    """Walk an MP4/MOV/3GP/M4A file and collect times, duration, size and locations."""
    info = MovieInfo()
    with open_source(path) as f:
        size = os.fstat(f.fileno()).st_size
        w = Walker(f, size)
        moov = None
        # Walk every top-level box (headers only) so a cut-off mdat is noticed too.
        for b in w.children(0, size, 0):
            if b.type == b"moov" and moov is None:
                moov = b
        if moov is None:
            info.errors.append("no 'moov' box: the recording was not finalised (interrupted?)")
        else:
            try:
                _MovieReader(w, info).moov(moov)
            except (BoxError, struct.error, ValueError, UnicodeError) as exc:
                info.errors.append(f"moov: {exc}")
        info.errors[:0] = w.errors
    return info
