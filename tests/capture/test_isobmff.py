"""The ISO base media box walker: times, duration, the three location layouts, and limits."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from capture import heif, isobmff
from capture.iso6709 import parse_iso6709
from capture.isobmff import Walker, parse_mvhd, read_movie
from capture.metadata import extract_inline
from tests.capture import media
from tests.capture.fixtures import CREATED

APPLE = "com.apple.quicktime."
APPLE_ITEMS = {
    APPLE + "location.ISO6709": "+39.9042+116.4074+043.500/",
    APPLE + "location.accuracy.horizontal": "14.5",
    APPLE + "make": "Apple",
    APPLE + "model": "iPhone 15 Pro",
    APPLE + "software": "17.4.1",
    APPLE + "creationdate": "2024-03-05T10:11:12+0800",
}


def _file(tmp_path: Path, data: bytes, name: str = "m.mp4") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+39.9042+116.4074+043.000/", (39.9042, 116.4074, 43.0)),
        ("+39.9042+116.4074/", (39.9042, 116.4074, None)),
        ("-33.8568-070.6483-012.5/", (-33.8568, -70.6483, -12.5)),
        ("+3954.252+11624.444/", (39 + 54.252 / 60, 116 + 24.444 / 60, None)),
        ("+395415.12+1162426.64+43/", (39 + 54 / 60 + 15.12 / 3600,
                                       116 + 24 / 60 + 26.64 / 3600, 43.0)),
        ("+39.9042+116.4074+43.5CRSWGS_84/", (39.9042, 116.4074, 43.5)),
        ("+37.4220-122.0841/\x00", (37.422, -122.0841, None)),
    ],
)
def test_iso6709_forms(text: str, expected: tuple[float, float, float | None]) -> None:
    """Decimal degrees, degrees-minutes, degrees-minutes-seconds, altitude and CRS suffix."""
    lat, lon, alt = parse_iso6709(text)
    assert lat == pytest.approx(expected[0])
    assert lon == pytest.approx(expected[1])
    assert alt == (pytest.approx(expected[2]) if expected[2] is not None else None)


@pytest.mark.parametrize("text", ["", "hello", "+99.0+010.0/", "+10.0+190.0/", "+39.9",
                                  "+3975.0+11624.0/", "+1+2+3+4/"])
def test_iso6709_rejects_junk(text: str) -> None:
    """Out-of-range or malformed strings raise ValueError."""
    with pytest.raises(ValueError):
        parse_iso6709(text)


@pytest.mark.parametrize("version", [0, 1])
def test_mvhd_versions(version: int) -> None:
    """Creation time from the 1904 epoch and duration/timescale, 32- and 64-bit."""
    created = datetime(2024, 3, 5, 2, 11, 12, tzinfo=UTC)
    box = media.mvhd(created, 12.5, timescale=600, version=version)
    assert parse_mvhd(box[8:]) == (created, 12.5)


def test_mvhd_zero_time_is_unset() -> None:
    """Creation time 0 means "not set", not 1904."""
    assert parse_mvhd(media.mvhd(None, 1.0)[8:])[0] is None


def test_hand_made_movie_with_all_three_layouts(tmp_path: Path) -> None:
    """Apple keys win over ©xyz and loci; every layout is read and cross-checked."""
    data = media.movie_bytes(
        created=CREATED, duration_s=3.0, audio_rate=44100,
        udta=[media.xyz("+39.9042+116.4074+043.500/"), media.loci(39.9042, 116.4074, 43.5),
              media.qt_text(b"\xa9mak", "Ignored Make")],
        moov_extra=[media.apple_meta(APPLE_ITEMS)],
    )
    info = read_movie(_file(tmp_path, data, "m.mov"))
    assert set(info.locations) == {"keys", "©xyz", "loci"}
    assert info.locations["loci"].lat == pytest.approx(39.9042, abs=2e-5)
    assert info.locations["keys"].accuracy == 14.5
    assert info.created == CREATED and info.duration_s == 3.0
    assert (info.width, info.height, info.video_codec) == (64, 48, "avc1")
    assert (info.audio_codec, info.sample_rate) == ("mp4a", 44100)
    assert info.errors == []
    md = extract_inline(_file(tmp_path, data, "m.mov"), "mov")
    assert md.gps is not None and md.gps.source == "keys" and md.gps.accuracy == 14.5
    assert md.cross_check["gps keys/©xyz"] == "agree"
    assert md.cross_check["gps keys/loci"] == "agree"
    assert md.taken_at == datetime(2024, 3, 5, 10, 11, 12, tzinfo=timezone(timedelta(hours=8)))
    assert md.taken_at_source == "com.apple.quicktime.creationdate"
    assert md.cross_check["taken_at"] == "agree"  # 10:11:12+08:00 is 02:11:12 UTC
    assert (md.make, md.model, md.software) == ("Apple", "iPhone 15 Pro", "17.4.1")


def test_disagreeing_layouts_are_reported(tmp_path: Path) -> None:
    """A loci 3 km from ©xyz is flagged in cross_check."""
    data = media.movie_bytes(udta=[media.xyz("+39.9042+116.4074/"),
                                   media.loci(39.93, 116.4074, 0)])
    md = extract_inline(_file(tmp_path, data), "mp4")
    assert md.gps is not None and md.gps.source == "©xyz"
    assert md.cross_check["gps ©xyz/loci"].startswith("disagree")


def test_loci_with_utf16_name(tmp_path: Path) -> None:
    """A loci name in UTF-16 (with BOM) is skipped correctly."""
    name = "\ufeff现场".encode("utf-16-be")
    body = (struct.pack(">H", 0x15C7) + name + b"\0\0" + b"\0"
            + struct.pack(">iii", round(116.4 * 65536), round(39.9 * 65536), 0) + b"\0\0")
    info = read_movie(_file(tmp_path, media.movie_bytes(udta=[media.full_box(b"loci", body)])))
    assert info.locations["loci"].lat == pytest.approx(39.9, abs=2e-5)


def test_largesize_and_size_zero_boxes(tmp_path: Path) -> None:
    """A 64-bit largesize moov and a final size-0 mdat (to end of file) are walked."""
    moov_payload = media.mvhd(CREATED, 5.0) + media.box(b"udta", media.xyz("+10.5+020.5/"))
    moov = struct.pack(">I4sQ", 1, b"moov", 16 + len(moov_payload)) + moov_payload
    mdat = struct.pack(">I4s", 0, b"mdat") + bytes(100)
    data = media.box(b"ftyp", b"isom\0\0\0\0isom") + moov + mdat
    info = read_movie(_file(tmp_path, data))
    assert info.created == CREATED and info.duration_s == 5.0
    assert info.locations["©xyz"].lat == 10.5
    assert info.errors == []


def test_truncated_mdat_is_reported_and_moov_still_read(tmp_path: Path) -> None:
    """A recording cut off mid-mdat (moov first) keeps its metadata and says it is cut."""
    ftyp = media.box(b"ftyp", b"isom\0\0\0\0isom")
    moov = media.box(b"moov", media.mvhd(CREATED, 5.0))
    mdat = struct.pack(">I4s", 10_000, b"mdat") + bytes(100)
    info = read_movie(_file(tmp_path, ftyp + moov + mdat))
    assert info.created == CREATED
    assert any("truncated" in e for e in info.errors)


def test_no_moov_means_not_finalised(tmp_path: Path) -> None:
    """A file with only ftyp+mdat (recording interrupted) says so (A17.2)."""
    data = media.box(b"ftyp", b"isom\0\0\0\0") + media.box(b"mdat", bytes(50))
    info = read_movie(_file(tmp_path, data))
    assert any("moov" in e for e in info.errors)


def test_box_smaller_than_header_stops_cleanly(tmp_path: Path) -> None:
    """A size of 4 cannot hold its own header: stop with an error, do not loop."""
    data = media.box(b"ftyp", b"isom\0\0\0\0") + struct.pack(">I4s", 4, b"moov") + bytes(20)
    info = read_movie(_file(tmp_path, data))
    assert any("smaller than its header" in e for e in info.errors)


def test_depth_and_count_limits(tmp_path: Path) -> None:
    """Deep nesting and huge box counts are cut off by the walker's limits."""
    deep = b""
    for _ in range(40):
        deep = media.box(b"udta", deep)
    path = _file(tmp_path, deep)
    with open(path, "rb") as f:
        w = Walker(f, path.stat().st_size, max_depth=5)

        def walk(start: int, end: int, depth: int) -> None:
            for b in w.children(start, end, depth):
                walk(b.payload, b.end, depth + 1)

        walk(0, w.size, 0)
    assert any("deeper" in e for e in w.errors)
    many = _file(tmp_path, media.box(b"free") * 50_000, "many.mp4")
    info = read_movie(many)
    assert any(f"more than {isobmff.MAX_BOXES}" in e for e in info.errors)


def test_oversized_payload_is_refused(tmp_path: Path) -> None:
    """A 'keys' box larger than MAX_PAYLOAD is not read into memory."""
    keys = media.full_box(b"keys", bytes(isobmff.MAX_PAYLOAD + 10))
    meta = media.box(b"meta", media.full_box(b"hdlr", bytes(4) + b"mdta" + bytes(13)) + keys)
    info = read_movie(_file(tmp_path, media.movie_bytes(moov_extra=[meta])))
    assert any("exceeds" in e for e in info.errors)


def test_heif_exif_item_is_located(samples: dict[str, Path]) -> None:
    """heif_exif finds the Exif item through iinf/iloc and returns the TIFF block."""
    blob = heif.heif_exif(samples["heic"])
    assert blob is not None and blob[:4] in (b"MM\x00*", b"II*\x00")


# --- files written by ffmpeg: the layouts real muxers produce ------------------------------

@media.needs_ffmpeg
def test_ffmpeg_mov_udta_xyz(samples: dict[str, Path]) -> None:
    """MOV from ffmpeg: udta/©xyz location, ©mak/©mod, mvhd time, size, duration."""
    md = extract_inline(samples["mov"], "mov")
    assert md.gps is not None and md.gps.source == "©xyz"
    assert (md.gps.lat, md.gps.lon, md.gps.altitude) == (39.9042, 116.4074, 43.5)
    assert md.taken_at == CREATED and md.tz_known
    assert md.taken_at_source == "mvhd creation time (UTC)"
    assert (md.make, md.model) == ("Xiaomi", "MI 9")
    assert md.software is not None and md.software.startswith("Lavf")
    assert (md.width, md.height, md.codec) == (64, 48, "avc1")
    assert md.duration_s == pytest.approx(1.0, abs=0.1)
    assert md.errors == []


@media.needs_ffmpeg
@pytest.mark.parametrize("kind", ["mp4", "3gp"])
def test_ffmpeg_mp4_and_3gp_loci(samples: dict[str, Path], kind: str) -> None:
    """MP4 and 3GP from ffmpeg: the 3GPP loci box (16.16 fixed point)."""
    md = extract_inline(samples[kind], kind)
    assert md.gps is not None and md.gps.source == "loci"
    assert md.gps.lat == pytest.approx(39.9042, abs=2e-5)
    assert md.gps.lon == pytest.approx(116.4074, abs=2e-5)
    assert md.gps.altitude == pytest.approx(43.5, abs=1e-3)
    assert md.taken_at == CREATED and md.taken_at_source == "mvhd creation time (UTC)"
    assert (md.width, md.height, md.codec) == (64, 48, "avc1")
    assert md.sample_rate == 8000 and md.duration_s == pytest.approx(1.0, abs=0.1)
    assert md.software is None or md.software.startswith("Lavf")
    assert md.errors == []


@media.needs_ffmpeg
def test_ffmpeg_mov_apple_keys(tmp_path: Path) -> None:
    """MOV with mdta keys/ilst as iPhones write them (ffmpeg use_metadata_tags)."""
    path = media.ffmpeg_movie(tmp_path, "mov", apple_keys=True, metadata=APPLE_ITEMS,
                              audio=False)
    md = extract_inline(path, "mov")
    assert md.gps is not None and md.gps.source == "keys"
    assert (md.gps.lat, md.gps.lon, md.gps.altitude, md.gps.accuracy) == (
        39.9042, 116.4074, 43.5, 14.5)
    assert (md.make, md.model, md.software) == ("Apple", "iPhone 15 Pro", "17.4.1")
    assert md.taken_at == datetime(2024, 3, 5, 10, 11, 12, tzinfo=timezone(timedelta(hours=8)))
    assert md.errors == []


@media.needs_ffmpeg
def test_android_layout_xyz_injected_into_mp4(tmp_path: Path) -> None:
    """MP4 with udta/©xyz as Android's MPEG4Writer writes it (injected into ffmpeg output)."""
    path = media.ffmpeg_movie(tmp_path, "mp4", audio=False,
                              metadata={"creation_time": "2024-03-05T02:11:12Z"})
    media.inject(path, udta=(media.xyz("+37.4220-122.0841/"),))
    md = extract_inline(path, "mp4")
    assert md.gps is not None and md.gps.source == "©xyz"
    assert (md.gps.lat, md.gps.lon) == (37.422, -122.0841)
    assert md.taken_at == CREATED
    assert md.errors == []


@media.needs_ffmpeg
def test_injected_apple_meta_into_ffmpeg_mp4(tmp_path: Path) -> None:
    """Apple keys/ilst built by hand and injected into an ffmpeg file are read too."""
    path = media.ffmpeg_movie(tmp_path, "mp4", audio=False)
    media.inject(path, moov_extra=(media.apple_meta(APPLE_ITEMS),))
    md = extract_inline(path, "mp4")
    assert md.gps is not None and md.gps.source == "keys" and md.gps.accuracy == 14.5
    assert md.model == "iPhone 15 Pro"
