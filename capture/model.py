"""The Metadata record that extraction returns, and its JSON form."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

MAX_TEXT = 256  # device strings are short; a longer one is junk or an attack on storage


def clip(value: Any) -> str | None:
    """A printable, bounded string or None."""
    if value is None:
        return None
    s = "".join(ch for ch in str(value) if ch.isprintable()).strip()
    return s[:MAX_TEXT] or None


def reader_error(name: str, exc: BaseException) -> str:
    """One error line for a reader that raised."""
    if isinstance(exc, MemoryError):
        return f"{name} ran out of memory"
    return f"{name} could not read the file: {type(exc).__name__}: {str(exc)[:160]}"


@dataclass
class Gps:
    """A position from the file: WGS-84 degrees, metres above sea level, accuracy in metres."""

    lat: float
    lon: float
    altitude: float | None = None
    accuracy: float | None = None
    source: str = ""  # exif, ©xyz, loci or keys (Apple)


@dataclass
class Metadata:
    """Capture metadata of one evidence file, with the readers used and what went wrong.

    ``taken_at`` is always timezone-aware. When the file gives a wall-clock time without an
    offset, ``taken_at`` is None, ``taken_at_local`` holds the time as written and
    ``tz_known`` is False: the caller decides which zone to assume and says so.
    """

    media_type: str
    taken_at: datetime | None = None
    taken_at_local: str | None = None
    tz_known: bool = False
    taken_at_source: str | None = None
    gps: Gps | None = None
    make: str | None = None
    model: str | None = None
    software: str | None = None
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    codec: str | None = None
    sample_rate: int | None = None
    has_exif: bool | None = None  # None for types that do not carry EXIF
    readers: dict[str, str] = field(default_factory=dict)
    cross_check: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def has_capture_time(self) -> bool:
        """True when the file states when it was captured (with or without a zone)."""
        return self.taken_at is not None or self.taken_at_local is not None

    @property
    def has_capture_metadata(self) -> bool:
        """True when the file says when or where it was captured."""
        return self.has_capture_time or self.gps is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (datetimes as ISO 8601 strings with offset)."""
        d = asdict(self)
        d["taken_at"] = self.taken_at.isoformat() if self.taken_at else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Metadata:
        """Rebuild from ``to_dict`` output, checking every type (the source is a sandbox)."""
        if not isinstance(d, dict) or not isinstance(d.get("media_type"), str):
            raise ValueError("metadata payload is not an object with a media_type")
        taken_at = None
        if d.get("taken_at") is not None:
            taken_at = datetime.fromisoformat(_str(d["taken_at"]) or "")
            if taken_at.tzinfo is None:
                raise ValueError("taken_at without an offset")
        gps = None
        g = d.get("gps")
        if g is not None:
            if not isinstance(g, dict):
                raise ValueError("gps is not an object")
            lat, lon = _num(g.get("lat")), _num(g.get("lon"))
            if lat is None or lon is None:
                raise ValueError("gps without lat/lon")
            gps = Gps(lat, lon, _num(g.get("altitude")), _num(g.get("accuracy")),
                      _str(g.get("source")) or "")
        return cls(
            media_type=clip(d["media_type"]) or "", taken_at=taken_at,
            taken_at_local=_str(d.get("taken_at_local")), tz_known=d.get("tz_known") is True,
            taken_at_source=_str(d.get("taken_at_source")), gps=gps,
            make=_str(d.get("make")), model=_str(d.get("model")),
            software=_str(d.get("software")), width=_int(d.get("width")),
            height=_int(d.get("height")), duration_s=_num(d.get("duration_s")),
            codec=_str(d.get("codec")), sample_rate=_int(d.get("sample_rate")),
            has_exif=d["has_exif"] if isinstance(d.get("has_exif"), bool) else None,
            readers=_str_map(d.get("readers")), cross_check=_str_map(d.get("cross_check")),
            errors=_str_list(d.get("errors")),
        )


def _str(v: Any) -> str | None:
    return clip(v) if isinstance(v, str) else None


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(v) else None


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _str_map(v: Any) -> dict[str, str]:
    if not isinstance(v, dict):
        return {}
    return {k[:64]: s for k, val in list(v.items())[:50]
            if isinstance(k, str) and (s := _str(val)) is not None}


def _str_list(v: Any) -> list[str]:
    if not isinstance(v, list):
        return []
    return [s for s in map(_str, v[:50]) if s is not None]
