"""Image EXIF: Pillow (with pillow-heif) as the main reader, exifread as the second opinion."""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import re
import warnings
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

import exifread
import pillow_heif
from PIL import Image

from capture.containers import ifd_problem, jpeg_exif, png_exif, webp_exif
from capture.heif import heif_exif
from capture.model import reader_error
from capture.source import Source, open_source
from capture.xmp import dates as xmp_dates

pillow_heif.register_heif_opener()
# exifread logs a warning per odd tag; on hostile files that is log spam, and what matters
# reaches us as missing or disagreeing fields anyway.
logging.getLogger("exifread").setLevel(logging.ERROR)

# Pillow's WebP and HEIF openers read the whole file; above this size we hand Pillow's EXIF
# parser the block our own container walkers found instead.
WHOLE_FILE_MAX = 64 << 20
# Restrict Pillow to the sniffed format so a mislabelled file never reaches another plugin.
_PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "tiff": "TIFF", "heic": "HEIF"}
_EXIF_IFD, _GPS_IFD, _XMP_TAG = 0x8769, 0x8825, 700
_DT = re.compile(r"^(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
_BLOCK_FINDERS = {"jpeg": jpeg_exif, "png": png_exif, "webp": webp_exif, "heic": heif_exif}
COMPARED = ("datetime_original", "offset", "make", "model", "software", "lat", "lon",
            "altitude")


@dataclass(frozen=True)
class TimeCandidate:
    """One date the file gives: where it comes from, its wall clock, offset and fraction.

    ``rank`` orders them as capture times (issue 12 item 12, as exiftool reads real cameras):
    0 EXIF DateTimeOriginal, 1 XMP exif:DateTimeOriginal / photoshop:DateCreated, 2 the
    others (DateTimeDigitized, xmp:CreateDate, DateTime, the GPS date and time in UTC)."""

    source: str
    local: str  # "YYYY-MM-DDTHH:MM:SS"
    offset: str | None = None  # "+08:00"
    subsec: str | None = None
    rank: int = 2


@dataclass
class ExifView:
    """The capture fields one reader found, normalised so readers can be compared."""

    datetime_original: str | None = None  # wall-clock time as written, "YYYY-MM-DDTHH:MM:SS"
    subsec: str | None = None
    offset: str | None = None  # "+08:00"
    time_tag: str | None = None  # DateTimeOriginal, or DateTimeDigitized as a fallback
    lat: float | None = None
    lon: float | None = None
    altitude: float | None = None
    accuracy: float | None = None  # GPSHPositioningError, metres
    map_datum: str | None = None
    make: str | None = None
    model: str | None = None
    software: str | None = None
    width: int | None = None
    height: int | None = None
    tag_count: int = 0
    times: list[TimeCandidate] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class ImageExif:
    """Merged EXIF of one image with each reader's status and where they disagreed."""

    merged: ExifView
    readers: dict[str, str]
    cross_check: dict[str, str]
    errors: list[str]

    @property
    def has_exif(self) -> bool:
        """True when any reader found at least one EXIF tag."""
        return self.merged.tag_count > 0


def _text(v: Any) -> str | None:
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    if v is None:
        return None
    s = str(v).replace("\x00", "").strip()
    if any("\x80" <= ch <= "\xff" for ch in s):
        # Pillow decodes ASCII tags as Latin-1; Chinese apps write UTF-8 there (美图秀秀).
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            s = s.encode("latin-1").decode("utf-8")
    return s or None


def _float(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return f if math.isfinite(f) else None


def _datetime(v: Any, tag: str, problems: list[str]) -> str | None:
    s = _text(v)
    if s is None:
        return None
    m = _DT.match(s)
    if m:
        try:
            return datetime(*map(int, m.groups())).isoformat()  # noqa: DTZ001 - wall clock only
        except ValueError:
            pass
    problems.append(f"{tag} {s[:25]!r} is not a valid date and time")
    return None


def _offset(v: Any, tag: str, problems: list[str]) -> str | None:
    s = _text(v)
    if s is None:
        return None
    m = _OFFSET.match(s)
    if m and int(m.group(2)) <= 14 and int(m.group(3)) < 60:
        return f"{m.group(1)}{m.group(2)}:{m.group(3)}"
    problems.append(f"{tag} {s[:10]!r} is not a UTC offset")
    return None


def _dms(v: Any) -> float | None:
    seq = list(v) if isinstance(v, (list, tuple)) else [v]
    if not 1 <= len(seq) <= 3:
        return None
    parts = [_float(x) for x in seq]
    if any(p is None for p in parts):
        return None
    return sum(abs(p) / 60**i for i, p in enumerate(parts))  # type: ignore[arg-type]


def _ref_sign(ref: Any, negative: str) -> float | None:
    s = _text(ref)
    if s is None:
        return None
    return -1.0 if s.upper().startswith(negative) else 1.0


def _raw_sign(v: Any) -> float:
    first = v[0] if isinstance(v, (list, tuple)) and v else v
    f = _float(first)
    return -1.0 if f is not None and f < 0 else 1.0


def _gps(view: ExifView, get: Any) -> None:
    """Fill the GPS fields of ``view``; ``get(name)`` returns a raw GPS tag value."""
    lat, lon = _dms(get("GPSLatitude")), _dms(get("GPSLongitude"))
    if lat is None or lon is None:
        if get("GPSLatitude") is not None or get("GPSLongitude") is not None:
            view.problems.append("GPS latitude/longitude present but unreadable")
        return
    lat *= _ref_sign(get("GPSLatitudeRef"), "S") or _raw_sign(get("GPSLatitude"))
    lon *= _ref_sign(get("GPSLongitudeRef"), "W") or _raw_sign(get("GPSLongitude"))
    if get("GPSLatitudeRef") is None or get("GPSLongitudeRef") is None:
        view.problems.append("GPS reference (N/S, E/W) missing; sign taken from the value")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        view.problems.append(f"GPS {lat:.6f}, {lon:.6f} is out of range")
        return
    if lat == 0 and lon == 0:
        view.problems.append("GPS 0, 0 is a placeholder, not a fix")
        return
    view.lat, view.lon = round(lat, 8), round(lon, 8)
    alt = _float(get("GPSAltitude"))
    if alt is not None:
        ref = get("GPSAltitudeRef")
        ref_val = ref[0] if isinstance(ref, bytes) and ref else ref
        below = str(ref_val).strip() == "1"
        view.altitude = -abs(alt) if below else alt
    acc = _float(get("GPSHPositioningError"))
    view.accuracy = acc if acc is not None and acc >= 0 else None
    view.map_datum = _text(get("GPSMapDatum"))


def _fill_time(view: ExifView, get_exif: Any) -> None:
    for tag, off_tag, sub_tag in (
        ("DateTimeOriginal", "OffsetTimeOriginal", "SubSecTimeOriginal"),
        ("DateTimeDigitized", "OffsetTimeDigitized", "SubSecTimeDigitized"),
    ):
        dt = _datetime(get_exif(tag), tag, view.problems)
        if dt:
            view.datetime_original, view.time_tag = dt, tag
            view.offset = _offset(get_exif(off_tag), off_tag, view.problems)
            sub = _text(get_exif(sub_tag))
            view.subsec = sub if sub and sub.isdigit() else None
            return


_BLANK = re.compile(r"^[\s:0-]*$")  # an unset camera clock: "0000:00:00 00:00:00" or spaces
# (source, tag, offset tag, subsec tag, where, rank): "exif" the EXIF sub-IFD, "ifd0" the
# main IFD (old and trail cameras put DateTimeOriginal there).
_TIME_TAGS = (
    ("EXIF DateTimeOriginal", "DateTimeOriginal", "OffsetTimeOriginal", "SubSecTimeOriginal",
     "exif", 0),
    ("EXIF DateTimeOriginal (IFD0)", "DateTimeOriginal", "OffsetTimeOriginal",
     "SubSecTimeOriginal", "ifd0", 0),
    ("EXIF DateTimeDigitized", "DateTimeDigitized", "OffsetTimeDigitized",
     "SubSecTimeDigitized", "exif", 2),
    ("EXIF DateTime", "DateTime", "OffsetTime", "SubSecTime", "ifd0", 2),
)


def _time_candidates(view: ExifView, get_exif: Any, get_ifd0: Any, get_gps: Any) -> None:
    """Every date the EXIF gives, in preference order (see TimeCandidate)."""
    for source, tag, off_tag, sub_tag, where, rank in _TIME_TAGS:
        raw = (get_exif if where == "exif" else get_ifd0)(tag)
        text = _text(raw)
        if text is None or _BLANK.match(text):
            continue
        local = _datetime(text, tag, [])  # _fill_time already reported a bad one
        if local is None:
            continue
        offset = _offset(get_exif(off_tag), off_tag, []) if off_tag else None
        sub = _text(get_exif(sub_tag))
        view.times.append(TimeCandidate(source, local, offset,
                                        sub if sub and sub.isdigit() else None, rank))
    gps = _gps_time(get_gps("GPSDateStamp"), get_gps("GPSTimeStamp"))
    if gps is not None:
        view.times.append(TimeCandidate("EXIF GPSDateStamp and GPSTimeStamp (UTC)", gps[0],
                                        "+00:00", gps[1], 2))


def _gps_time(date: Any, stamp: Any) -> tuple[str, str | None] | None:
    """GPS date ("YYYY:MM:DD") and time (h, m, s rationals, UTC) as wall clock and fraction."""
    d = _text(date)
    seq = list(stamp) if isinstance(stamp, (list, tuple)) else None
    if d is None or seq is None or len(seq) != 3:
        return None
    m = re.match(r"^(\d{4})[:\-](\d{2})[:\-](\d{2})", d)
    parts = [_float(x) for x in seq]
    if not m or any(p is None or p < 0 for p in parts):
        return None
    h, mi, sec = parts  # type: ignore[misc]
    whole = int(sec)  # type: ignore[arg-type]
    try:
        local = datetime(*map(int, m.groups()), int(h), int(mi), whole)  # noqa: DTZ001
    except (ValueError, OverflowError):
        return None
    frac = f"{sec - whole:.3f}"[2:].rstrip("0") if sec != whole else None  # type: ignore[operator]
    return local.isoformat(), frac or None


_PIL_EXIF_TAGS = {"DateTimeOriginal": 36867, "DateTimeDigitized": 36868,
                  "OffsetTimeOriginal": 36881, "OffsetTimeDigitized": 36882,
                  "SubSecTimeOriginal": 37521, "SubSecTimeDigitized": 37522,
                  "OffsetTime": 36880, "SubSecTime": 37520}
_PIL_IFD0_TAGS = {"DateTime": 306, "DateTimeOriginal": 36867}
_PIL_GPS_TAGS = {"GPSLatitudeRef": 1, "GPSLatitude": 2, "GPSLongitudeRef": 3,
                 "GPSLongitude": 4, "GPSAltitudeRef": 5, "GPSAltitude": 6,
                 "GPSTimeStamp": 7, "GPSMapDatum": 18, "GPSDateStamp": 29,
                 "GPSHPositioningError": 31}


def _pillow_exif(f: Any, path: Source, media_type: str,
                 size: int) -> tuple[Image.Exif, tuple[int, int] | None, Any]:
    if media_type in ("webp", "heic") and size > WHOLE_FILE_MAX:
        raw = webp_exif(path) if media_type == "webp" else heif_exif(path)
        exif = Image.Exif()
        if raw:
            exif.load(raw)
        return exif, None, None
    with Image.open(f, formats=[_PILLOW_FORMATS[media_type]]) as im:
        if media_type == "png" and "exif" not in im.info:
            # Pillow would decode every pixel to look for a late eXIf chunk; walk chunks.
            raw = png_exif(path)
            exif = Image.Exif()
            if raw:
                exif.load(raw)
        else:
            exif = im.getexif()
        # Touch the sub-IFDs while the file is open: TIFF reads them lazily from disk.
        exif.get_ifd(_EXIF_IFD)
        exif.get_ifd(_GPS_IFD)
        xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
        if xmp is None and media_type == "tiff":
            xmp = getattr(im, "tag_v2", {}).get(_XMP_TAG)
        return exif, im.size, xmp


def read_pillow(path: Source, media_type: str) -> ExifView:
    """EXIF as Pillow (and pillow-heif for HEIC) reads it."""
    with open_source(path) as f:
        size = os.fstat(f.fileno()).st_size
        exif, dims, xmp = _pillow_exif(f, path, media_type, size)
    view = ExifView()
    if dims:
        view.width, view.height = dims
    exif_ifd, gps_ifd = exif.get_ifd(_EXIF_IFD), exif.get_ifd(_GPS_IFD)
    view.tag_count = len(exif) + len(exif_ifd) + len(gps_ifd)
    view.make, view.model = _text(exif.get(271)), _text(exif.get(272))
    view.software = _text(exif.get(305))
    _fill_time(view, lambda name: exif_ifd.get(_PIL_EXIF_TAGS[name]))
    _gps(view, lambda name: gps_ifd.get(_PIL_GPS_TAGS[name]))
    _time_candidates(view, lambda name: exif_ifd.get(_PIL_EXIF_TAGS[name]),
                     lambda name: exif.get(_PIL_IFD0_TAGS[name]),
                     lambda name: gps_ifd.get(_PIL_GPS_TAGS[name]))
    found, problems = xmp_dates(xmp)
    view.problems.extend(problems)
    view.times.extend(TimeCandidate(f"XMP {d.field}", d.local, d.offset, d.subsec,
                                    2 if d.field == "xmp:CreateDate" else 1) for d in found)
    view.times.sort(key=lambda c: c.rank)  # stable: keeps the order within a rank
    return view


def read_exifread(path: Source, media_type: str) -> ExifView | None:
    """EXIF as exifread reads it, from the EXIF block our container walkers located.

    exifread fails on HEIC and misses WebP EXIF, and walks every entry a corrupt IFD claims
    (65,535 of them); so it gets the TIFF block only, after a plausibility check.
    """
    if media_type == "tiff":
        with open_source(path) as f:
            size = os.fstat(f.fileno()).st_size

            def read(offset: int, n: int) -> bytes:
                f.seek(offset)
                return f.read(n)

            problem = ifd_problem(read, size)
            if problem:
                raise ValueError(f"implausible TIFF structure: {problem}")
            f.seek(0)
            tags = exifread.process_file(f, details=False, extract_thumbnail=False,
                                         builtin_types=True)
    else:
        raw = _BLOCK_FINDERS[media_type](path)
        if not raw:
            return ExifView()
        problem = ifd_problem(lambda o, n: raw[o:o + n], len(raw))
        if problem:
            raise ValueError(f"implausible EXIF structure: {problem}")
        tags = exifread.process_file(io.BytesIO(raw), details=False, extract_thumbnail=False,
                                     builtin_types=True)
    view = ExifView(tag_count=len(tags))
    view.make, view.model = _text(tags.get("Image Make")), _text(tags.get("Image Model"))
    view.software = _text(tags.get("Image Software"))
    _fill_time(view, lambda name: tags.get(f"EXIF {name}"))

    def gps(name: str) -> Any:
        if name == "GPSDateStamp":
            return tags.get("GPS GPSDate")
        if name == "GPSHPositioningError" and f"GPS {name}" not in tags:
            return tags.get("GPS Tag 0x001F")  # exifread 3.5 has no name for tag 31
        return tags.get(f"GPS {name}")

    _gps(view, gps)
    _time_candidates(view, lambda name: tags.get(f"EXIF {name}"),
                     lambda name: tags.get(f"Image {name}"), gps)
    return view


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-6 * max(1.0, abs(a))
    return a == b


def read_image(path: Source, media_type: str) -> ImageExif:
    """Run both readers, merge (Pillow first) and record where they agree or disagree."""
    views: dict[str, ExifView] = {}
    readers: dict[str, str] = {}
    errors: list[str] = []
    for name, reader in (("pillow", read_pillow), ("exifread", read_exifread)):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                view = reader(path, media_type)
            for w in caught[:5]:
                errors.append(f"{name}: warning: {w.message}")
        except Exception as exc:  # noqa: BLE001 - third-party parsers raise anything on bad input
            readers[name] = f"failed: {type(exc).__name__}"
            errors.append(reader_error(name, exc))
            continue
        if view is None:
            readers[name] = "skipped"
            continue
        views[name] = view
        readers[name] = "ok" if view.tag_count else "no EXIF"
        errors.extend(f"{name}: {p}" for p in view.problems)
    merged = ExifView()
    cross: dict[str, str] = {}
    for f in fields(ExifView):
        if f.name == "problems":
            continue
        values = {n: getattr(v, f.name) for n, v in views.items()}
        present = {n: v for n, v in values.items()
                   if v is not None and (f.name != "times" or v)}
        chosen = present.get("pillow", present.get("exifread"))
        if f.name == "tag_count":
            chosen = max(values.values(), default=0)
        elif f.name == "times" and chosen is None:
            chosen = []
        setattr(merged, f.name, chosen)
        if f.name in COMPARED and present:
            if len(present) == 1:
                cross[f.name] = f"only {next(iter(present))}"
            elif _same(present["pillow"], present["exifread"]):
                cross[f.name] = "agree"
            else:
                cross[f.name] = (f"disagree: pillow={present['pillow']!r}, "
                                 f"exifread={present['exifread']!r}")
    return ImageExif(merged, readers, cross, errors)
