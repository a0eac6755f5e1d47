"""Image metadata: every field from every image format, both readers, and their agreement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from capture import exif
from capture.metadata import extract_inline
from tests.capture import media
from tests.capture.fixtures import IMAGE_KINDS

BEIJING = timezone(timedelta(hours=8))


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_reads_every_field(tmp_path: Path, kind: str) -> None:
    """A6.1 (objective): capture time with offset, GPS, device and size are read as written."""
    md = extract_inline(media.write_image(tmp_path, kind), kind)
    assert md.taken_at == datetime(2024, 3, 5, 10, 11, 12, tzinfo=BEIJING)
    assert md.taken_at.utcoffset() == timedelta(hours=8)
    assert md.taken_at_local == "2024-03-05T10:11:12"
    assert md.tz_known is True
    assert md.taken_at_source == "EXIF DateTimeOriginal with its UTC offset"
    assert md.gps is not None
    assert md.gps.lat == pytest.approx(media.LAT, abs=1e-6)
    assert md.gps.lon == pytest.approx(media.LON, abs=1e-6)
    assert md.gps.altitude == pytest.approx(media.ALT, abs=1e-3)
    assert md.gps.accuracy == pytest.approx(4.2, abs=1e-3)
    assert md.gps.source == "exif"
    assert (md.make, md.model, md.software) == ("Apple", "iPhone 13", "17.1")
    assert (md.width, md.height) == (64, 48)
    assert md.has_exif is True
    assert md.errors == []


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_both_readers_agree(tmp_path: Path, kind: str) -> None:
    """exifread confirms Pillow on every format, HEIC and WebP included."""
    md = extract_inline(media.write_image(tmp_path, kind), kind)
    assert md.readers == {"pillow": "ok", "exifread": "ok"}
    for name in ("datetime_original", "offset", "lat", "lon", "altitude", "make", "model",
                 "software"):
        assert md.cross_check[name] == "agree", (name, md.cross_check)


def test_exifread_alone_fails_on_heic(samples: dict[str, Path]) -> None:
    """exifread cannot open HEIC itself: why we hand it the EXIF item we locate."""
    import exifread

    with open(samples["heic"], "rb") as f, pytest.raises(Exception):  # noqa: B017, PT011
        exifread.process_file(f, details=False)


@pytest.mark.parametrize("kind", ["jpeg", "heic", "webp", "png"])
def test_missing_offset_is_never_a_naive_datetime(tmp_path: Path, kind: str) -> None:
    """Without OffsetTimeOriginal: taken_at None, wall clock kept, tz_known False."""
    md = extract_inline(media.write_image(tmp_path, kind, media.Photo(offset=None)), kind)
    assert md.taken_at is None
    assert md.taken_at_local == "2024-03-05T10:11:12"
    assert md.tz_known is False


def test_subseconds_are_kept(tmp_path: Path) -> None:
    """SubSecTimeOriginal adds the fraction of a second."""
    md = extract_inline(media.write_image(tmp_path, "jpeg", media.Photo(subsec="25")), "jpeg")
    assert md.taken_at == datetime(2024, 3, 5, 10, 11, 12, 250000, tzinfo=BEIJING)


def test_southern_western_hemisphere_and_below_sea_level(tmp_path: Path) -> None:
    """S/W references and GPSAltitudeRef=1 give negative numbers."""
    photo = media.Photo(lat=-33.8568, lon=-70.6483, altitude=-12.0, offset="-04:00")
    md = extract_inline(media.write_image(tmp_path, "jpeg", photo), "jpeg")
    assert md.gps is not None
    assert (md.gps.lat, md.gps.lon) == (pytest.approx(-33.8568, abs=1e-6),
                                        pytest.approx(-70.6483, abs=1e-6))
    assert md.gps.altitude == pytest.approx(-12.0)
    assert md.taken_at is not None and md.taken_at.astimezone(UTC).hour == 14


def test_photo_without_any_exif(tmp_path: Path) -> None:
    """A photo with no EXIF (what Telegram sends for compressed photos) reads as empty."""
    md = extract_inline(media.write_image(tmp_path, "jpeg", None), "jpeg")
    assert md.has_exif is False
    assert not md.has_capture_metadata
    assert md.readers == {"pillow": "no EXIF", "exifread": "no EXIF"}
    assert (md.width, md.height) == (64, 48)
    assert md.errors == []


def test_gps_zero_zero_is_a_placeholder(tmp_path: Path) -> None:
    """0,0 is what some phones write without a fix: no GPS, and the reason in errors."""
    md = extract_inline(media.write_image(tmp_path, "jpeg", media.Photo(lat=0.0, lon=0.0)),
                        "jpeg")
    assert md.gps is None
    assert any("placeholder" in e for e in md.errors)


def test_invalid_datetime_is_reported(tmp_path: Path) -> None:
    """A blank DateTimeOriginal is an error entry, not a crash and not a time."""
    photo = media.Photo(taken="0000:00:00 00:00:00")
    md = extract_inline(media.write_image(tmp_path, "jpeg", photo), "jpeg")
    assert not md.has_capture_time
    assert any("DateTimeOriginal" in e for e in md.errors)


@pytest.mark.parametrize("kind", ["heic", "webp"])
def test_large_file_path_uses_our_container_walkers(tmp_path: Path, kind: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Above WHOLE_FILE_MAX Pillow parses the EXIF block we located, not the whole file."""
    monkeypatch.setattr(exif, "WHOLE_FILE_MAX", 0)
    md = extract_inline(media.write_image(tmp_path, kind), kind)
    assert md.gps is not None and md.gps.lat == pytest.approx(media.LAT, abs=1e-6)
    assert md.make == "Apple" and md.width is None  # size would need pixel headers
    assert md.cross_check["make"] == "agree"


def test_disagreement_is_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the readers differ the main reader wins and the disagreement is recorded."""
    real = exif.read_exifread

    def lying(path: Path, media_type: str) -> exif.ExifView:
        view = real(path, media_type)
        assert view is not None
        view.model = "Other Phone"
        return view

    monkeypatch.setattr(exif, "read_exifread", lying)
    r = exif.read_image(media.write_image(tmp_path, "jpeg"), "jpeg")
    assert r.merged.model == "iPhone 13"
    assert r.cross_check["model"].startswith("disagree")
    assert "Other Phone" in r.cross_check["model"]


def test_one_reader_failing_keeps_the_other(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A crashing reader becomes an error entry; the other reader's fields are used."""
    def broken(path: Path, media_type: str) -> exif.ExifView:
        raise AssertionError("boom")

    monkeypatch.setattr(exif, "read_pillow", broken)
    md = extract_inline(media.write_image(tmp_path, "jpeg"), "jpeg")
    assert md.readers["pillow"].startswith("failed")
    assert md.make == "Apple" and md.cross_check["make"] == "only exifread"
    assert any("pillow could not read" in e for e in md.errors)


def test_utf8_software_tag_is_read(tmp_path: Path) -> None:
    """UTF-8 in an ASCII tag (美图秀秀 writes that) reads the same in both readers."""
    from PIL import Image

    ex = media.exif_of(media.Photo())
    ex[305] = "美图秀秀 9.1".encode()
    path = tmp_path / "meitu.jpg"
    Image.new("RGB", (8, 8)).save(path, exif=ex)
    md = extract_inline(path, "jpeg")
    assert md.software == "美图秀秀 9.1"
    assert md.cross_check["software"] == "agree"


def test_corrupt_ifd_count_skips_exifread_quickly(tmp_path: Path) -> None:
    """An IFD claiming 65,535 entries is refused before exifread walks them all."""
    import struct
    import time

    path = media.write_image(tmp_path, "jpeg")
    data = bytearray(path.read_bytes())
    tiff = data.index(b"Exif\x00\x00") + 6
    order = ">" if data[tiff:tiff + 2] == b"MM" else "<"
    (ifd0,) = struct.unpack(order + "I", data[tiff + 4:tiff + 8])
    data[tiff + ifd0:tiff + ifd0 + 2] = b"\xff\xff"
    path.write_bytes(bytes(data))
    start = time.perf_counter()
    md = extract_inline(path, "jpeg")
    assert time.perf_counter() - start < 0.5
    assert md.readers["exifread"] == "failed: ValueError"
    assert any("claims 65535 entries" in e for e in md.errors)


def test_block_finders_agree_with_pillow(samples: dict[str, Path]) -> None:
    """Our JPEG/PNG/WebP/HEIC EXIF finders return the block Pillow reads."""
    from PIL import Image

    from capture.containers import jpeg_exif, png_exif, webp_exif
    from capture.heif import heif_exif

    for kind, finder in (("jpeg", jpeg_exif), ("png", png_exif), ("webp", webp_exif),
                         ("heic", heif_exif)):
        block = finder(samples[kind])
        assert block is not None and block[:4] in (b"MM\x00*", b"II*\x00"), kind
        ours, theirs = Image.Exif(), Image.Exif()
        ours.load(block)
        with Image.open(samples[kind]) as im:
            theirs = im.getexif()
            assert dict(ours) == dict(theirs), kind
