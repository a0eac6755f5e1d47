"""Extract capture metadata from an evidence file, in-process or in a limited child process."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from capture.model import Gps, Metadata, clip, reader_error
from capture.sandbox import run_in_child
from capture.source import Source

IMAGE_TYPES = ("jpeg", "heic", "png", "webp", "tiff")
MOVIE_TYPES = ("mp4", "mov", "3gp", "m4a")
AUDIO_TYPES = ("aac", "amr", "mp3", "opus", "ogg", "wav")
DOCUMENT_TYPES = ("pdf",)
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MEMORY_MB = 512
_LOCATION_PRIORITY = ("keys", "©xyz", "loci")  # Apple keys carry accuracy; loci is coarsest
_LOCATION_TOLERANCE_DEG = 1e-4  # ©xyz keeps 4 decimals, loci 1/65536 degree
_ISO_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?)"
                         r"(Z|[+-]\d{2}:?\d{2})$")


def _parse_stamp(text: str) -> tuple[datetime | None, str | None]:
    """An ISO 8601 time with offset ("2024-03-05T10:11:12+0800") as (aware, wall clock)."""
    m = _ISO_OFFSET.match(text.strip())
    if not m:
        return None, None
    local, off = m.group(1).replace(" ", "T"), m.group(2)
    if off != "Z" and ":" not in off:
        off = off[:3] + ":" + off[3:]
    try:
        return datetime.fromisoformat(local + ("+00:00" if off == "Z" else off)), local
    except ValueError:
        return None, None


def _from_image(md: Metadata, path: Source) -> None:
    from capture.exif import read_image

    result = read_image(path, md.media_type)
    v = result.merged
    md.readers.update(result.readers)
    md.cross_check.update(result.cross_check)
    md.errors.extend(result.errors)
    md.has_exif = result.has_exif
    md.make, md.model, md.software = clip(v.make), clip(v.model), clip(v.software)
    md.width, md.height = v.width, v.height
    if v.times:
        # The first date by preference (exif.TimeCandidate): DateTimeOriginal, then the XMP
        # original dates, then the others; taken_at_source says which one it was.
        c = v.times[0]
        local = c.local + (f".{c.subsec[:6]}" if c.subsec else "")
        md.taken_at_local = local
        md.taken_at_source = c.source
        if c.offset:
            md.taken_at = datetime.fromisoformat(local + c.offset)
            md.tz_known = True
            if "(UTC)" not in c.source:
                md.taken_at_source += " with its UTC offset"
    if v.lat is not None and v.lon is not None:
        md.gps = Gps(v.lat, v.lon, v.altitude, v.accuracy, "exif")
        if v.map_datum and "WGS" not in v.map_datum.upper().replace("-", ""):
            md.errors.append(f"GPSMapDatum is {clip(v.map_datum)!r}, not WGS-84")


def _from_movie(md: Metadata, path: Source) -> None:
    from capture.isobmff import read_movie

    info = read_movie(path)
    md.readers["isobmff"] = "ok" if info.created or info.duration_s is not None else "no data"
    md.errors.extend(info.errors)
    md.make, md.model, md.software = clip(info.make), clip(info.model), clip(info.software)
    md.width, md.height, md.duration_s = info.width, info.height, info.duration_s
    md.codec = info.video_codec or info.audio_codec
    md.sample_rate = info.sample_rate
    for text, source in ((info.apple_creationdate, "com.apple.quicktime.creationdate"),
                         (info.date_tag, "©day")):
        if text and md.taken_at is None:
            md.taken_at, md.taken_at_local = _parse_stamp(text)
            if md.taken_at:
                md.tz_known, md.taken_at_source = True, source
            else:
                md.errors.append(f"{source} {clip(text)!r} is not a time with an offset")
    if md.taken_at is None and info.created:
        md.taken_at, md.tz_known = info.created, True
        md.taken_at_source = "mvhd creation time (UTC)"
    elif md.taken_at and info.created:
        # Phones stamp mvhd at the start or the end of the recording: allow the duration.
        slack = timedelta(seconds=5 + (info.duration_s or 0))
        same = abs(md.taken_at - info.created) <= slack
        md.cross_check["taken_at"] = "agree" if same else (
            f"disagree: {md.taken_at_source}={md.taken_at.isoformat()}, "
            f"mvhd={info.created.isoformat()}")
    found = [k for k in _LOCATION_PRIORITY if k in info.locations]
    if found:
        loc = info.locations[found[0]]
        md.gps = Gps(loc.lat, loc.lon, loc.altitude, loc.accuracy, found[0])
        for other in found[1:]:
            o = info.locations[other]
            same = (abs(o.lat - loc.lat) <= _LOCATION_TOLERANCE_DEG
                    and abs(o.lon - loc.lon) <= _LOCATION_TOLERANCE_DEG)
            md.cross_check[f"gps {found[0]}/{other}"] = "agree" if same else (
                f"disagree: {found[0]}=({loc.lat:.5f}, {loc.lon:.5f}), "
                f"{other}=({o.lat:.5f}, {o.lon:.5f})")
    if md.media_type == "m4a" or (not info.has_video and info.has_audio):
        _from_audio(md, path, "m4a", second_opinion=True)


def _from_audio(md: Metadata, path: Source, kind: str,
                second_opinion: bool = False) -> None:
    from capture.audio import read_audio

    try:
        info = read_audio(path, kind)
    except Exception as exc:  # noqa: BLE001 - mutagen raises many types on bad input
        md.readers["mutagen"] = "failed"
        md.errors.append(reader_error("mutagen", exc))
        return
    md.readers["amr frames" if kind == "amr" else "mutagen"] = "ok"
    md.errors.extend(info.errors)
    if second_opinion and md.duration_s is not None and info.duration_s is not None:
        same = abs(md.duration_s - info.duration_s) <= max(0.5, 0.02 * md.duration_s)
        md.cross_check["duration_s"] = "agree" if same else (
            f"disagree: isobmff={md.duration_s:.3f}, mutagen={info.duration_s:.3f}")
    if md.duration_s is None:
        md.duration_s = info.duration_s
    md.codec = info.codec or md.codec  # mutagen names the profile (mp4a.40.2)
    md.sample_rate = md.sample_rate or info.sample_rate


def parser_modules(media_type: str) -> tuple[str, ...]:
    """The parser modules a media type needs (the worker imports them under its limits)."""
    if media_type in IMAGE_TYPES:
        return ("capture.exif",)
    if media_type in MOVIE_TYPES:
        return ("capture.isobmff",)
    if media_type in AUDIO_TYPES:
        return ("capture.audio",)
    return ()


def extract_inline(path: Source, media_type: str) -> Metadata:
    """Extract metadata in this process; never raises (problems go to ``errors``)."""
    md = Metadata(media_type=media_type)
    try:
        if media_type in IMAGE_TYPES:
            _from_image(md, path)
        elif media_type in MOVIE_TYPES:
            _from_movie(md, path)
        elif media_type in AUDIO_TYPES:
            _from_audio(md, path, media_type)
        elif media_type in DOCUMENT_TYPES:
            md.readers["none"] = "documents carry no capture metadata we read"
        else:
            md.errors.append(f"no metadata reader for media type {media_type!r}")
    except Exception as exc:  # noqa: BLE001 - a bad file must become an error entry, not a 500
        md.errors.append(reader_error("the metadata reader", exc))
    md.errors = [e for e in (clip(e) for e in md.errors[:50]) if e]
    return md


def extract(
    path: Source,
    media_type: str,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int | None = None,
    command: Sequence[str] | None = None,
) -> Metadata:
    """Extract metadata in a warm sandboxed worker (capture.pool) under a wall-clock timeout.

    The worker runs with the pool's memory cap (PARSER_MEMORY_MB), a CPU limit per file, no
    file writes, no network and no view of the instance folder (capture.isolation), and gets
    the file as a descriptor. Never raises: a timeout, crash or memory error gives a Metadata
    whose ``errors`` say "metadata unreadable: ...", and that worker is replaced. A
    ``memory_mb`` other than the pool's runs a one-off worker with that cap; ``command``
    replaces the worker with a one-shot child command line (tests simulate crashes with it).
    """
    if command is not None:
        return run_in_child(path, media_type, timeout_s=timeout_s,
                            memory_mb=memory_mb or DEFAULT_MEMORY_MB, command=command)
    from capture.pool import run_with_pool

    return run_with_pool(lambda pool: pool.extract(path, media_type, timeout_s=timeout_s),
                         memory_mb)
