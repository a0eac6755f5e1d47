"""Capture time on real camera layouts (issue 12 item 12): EXIF DateTimeOriginal with its
OffsetTimeOriginal first, then XMP exif:DateTimeOriginal / photoshop:DateCreated (with their
UTC offset), then the other dates; taken_at_source says which one was used. Checked against
exiftool where it is installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin, TiffImagePlugin

from capture import exif as exif_mod
from capture.metadata import extract_inline
from capture.xmp import dates as xmp_dates
from capture.xmp import parse_date

EXIFTOOL = shutil.which("exiftool")
BEIJING = timezone(timedelta(hours=8))
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DTO, DTD, DT = 36867, 36868, 306
OFF, OFF_DTO, OFF_DTD = 36880, 36881, 36882
SUB_DTO = 37521
MAKERNOTE = 0x927C


def xmp_packet(**props: str) -> str:
    """An XMP packet as cameras and Photoshop write it; props like exif_DateTimeOriginal."""
    attrs = " ".join(f'{k.replace("_", ":", 1)}="{v}"' for k, v in props.items())
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
            'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
            'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
            f'xmlns:xmp="http://ns.adobe.com/xap/1.0/" {attrs}/>'
            '</rdf:RDF></x:xmpmeta>\n<?xpacket end="w"?>')


def jpeg(path: Path, *, ifd0: dict | None = None, exif: dict | None = None,
         gps: dict | None = None, xmp: str | None = None) -> Path:
    """A small JPEG with these tags in IFD0, the EXIF sub-IFD and the GPS IFD, and XMP."""
    ex = Image.Exif()
    ex.update(ifd0 or {})
    if exif:
        ex.get_ifd(EXIF_IFD).update(exif)
    if gps:
        ex.get_ifd(GPS_IFD).update(gps)
    kwargs = {"exif": ex} if (ifd0 or exif or gps) else {}
    if xmp is not None:
        kwargs["xmp"] = xmp.encode()
    Image.new("RGB", (32, 24), (90, 90, 90)).save(path, "JPEG", **kwargs)
    return path


def exiftool_dto(path: Path) -> str | None:
    """exiftool's DateTimeOriginal (whichever group it found it in), normalised to ISO."""
    out = subprocess.run([EXIFTOOL, "-j", "-DateTimeOriginal", str(path)], capture_output=True,
                         text=True, check=True, timeout=60)
    value = json.loads(out.stdout)[0].get("DateTimeOriginal")
    if value is None:
        return None
    date, _, rest = str(value).partition(" ")
    return date.replace(":", "-") + "T" + rest


def check_exiftool(path: Path, md) -> None:
    """exiftool reads the same DateTimeOriginal (EXIF or XMP) as our capture time, its UTC
    offset included when it shows one (skipped where exiftool is not installed)."""
    if EXIFTOOL is None:
        return
    theirs = exiftool_dto(path)
    assert theirs is not None, f"exiftool finds no DateTimeOriginal in {path.name}"
    assert theirs[:19] == md.taken_at_local[:19], (theirs, md.taken_at_local)
    if len(theirs) > 19 and theirs[19] in "+-Z":  # XMP: exiftool shows the offset
        offset = "+00:00" if theirs[19:] == "Z" else theirs[19:]
        assert md.taken_at is not None and md.taken_at.isoformat().endswith(offset), theirs


def test_several_dates_take_date_time_original(tmp_path: Path) -> None:
    """A6.1: a file whose DateTime (edited later), DateTimeDigitized (scanned) and GPS time
    all differ: DateTimeOriginal with OffsetTimeOriginal is the capture time, as exiftool."""
    path = jpeg(tmp_path / "several.jpg",
                ifd0={DT: "2024:06:01 09:00:00"},
                exif={DTO: "2024:03:05 10:11:12", OFF_DTO: "+08:00", SUB_DTO: "25",
                      DTD: "2024:04:01 08:00:00", OFF_DTD: "+08:00", OFF: "+02:00"},
                gps={29: "2024:03:07", 7: (1.0, 2.0, 3.0)},
                xmp=xmp_packet(photoshop_DateCreated="2023-01-01T00:00:00+09:00"))
    md = extract_inline(path, "jpeg")
    assert md.taken_at == datetime(2024, 3, 5, 10, 11, 12, 250000, tzinfo=BEIJING)
    assert md.taken_at_source == "EXIF DateTimeOriginal with its UTC offset"
    assert md.cross_check["datetime_original"] == "agree"
    check_exiftool(path, md)


@pytest.mark.parametrize(("field", "value", "expected", "source"), [
    ("exif_DateTimeOriginal", "2024-03-05T10:11:12+08:00",
     datetime(2024, 3, 5, 10, 11, 12, tzinfo=BEIJING), "XMP exif:DateTimeOriginal"),
    ("photoshop_DateCreated", "2024-03-05T10:11:12.5-05:00",
     datetime(2024, 3, 5, 10, 11, 12, 500000, tzinfo=timezone(timedelta(hours=-5))),
     "XMP photoshop:DateCreated"),
    ("photoshop_DateCreated", "2024-03-05T02:11Z",
     datetime(2024, 3, 5, 2, 11, tzinfo=UTC), "XMP photoshop:DateCreated"),
])
def test_xmp_date_with_utc_offset(tmp_path: Path, field: str, value: str,
                                  expected: datetime, source: str) -> None:
    """A file without EXIF DateTimeOriginal whose XMP carries the date with a UTC offset
    (the one phone file the review found): an aware capture time, the XMP field named."""
    path = jpeg(tmp_path / "xmp.jpg", ifd0={271: "Sony"}, xmp=xmp_packet(**{field: value}))
    md = extract_inline(path, "jpeg")
    assert md.taken_at == expected and md.tz_known
    assert md.taken_at_source == f"{source} with its UTC offset"
    if field == "exif_DateTimeOriginal":  # exiftool's DateTimeOriginal is not DateCreated
        check_exiftool(path, md)


def test_xmp_original_beats_other_exif_dates(tmp_path: Path) -> None:
    """XMP's DateTimeOriginal outranks EXIF DateTimeDigitized and DateTime; without an
    offset the time stays wall-clock (taken_at None) and says so."""
    path = jpeg(tmp_path / "x.jpg", ifd0={DT: "2024:06:01 09:00:00"},
                exif={DTD: "2024:04:01 08:00:00"},
                xmp=xmp_packet(exif_DateTimeOriginal="2024-03-05T10:11:12"))
    md = extract_inline(path, "jpeg")
    assert (md.taken_at, md.taken_at_local, md.tz_known) == (None, "2024-03-05T10:11:12", False)
    assert md.taken_at_source == "XMP exif:DateTimeOriginal"
    check_exiftool(path, md)


def test_exif_original_beats_xmp(tmp_path: Path) -> None:
    """When EXIF and XMP disagree, EXIF DateTimeOriginal wins (XMP may be an editor's)."""
    path = jpeg(tmp_path / "both.jpg", exif={DTO: "2024:03:05 10:11:12"},
                xmp=xmp_packet(exif_DateTimeOriginal="2020-01-01T00:00:00+08:00"))
    md = extract_inline(path, "jpeg")
    assert md.taken_at_local == "2024-03-05T10:11:12"
    assert md.taken_at_source == "EXIF DateTimeOriginal"
    check_exiftool(path, md)


def test_date_time_original_in_ifd0(tmp_path: Path) -> None:
    """Trail and old cameras write DateTimeOriginal in the main IFD: it is still found."""
    path = jpeg(tmp_path / "trail.jpg", ifd0={271: "Bushnell", DTO: "2019:08:17 05:42:10",
                                              DT: "2019:08:20 12:00:00"})
    md = extract_inline(path, "jpeg")
    assert md.taken_at_local == "2019-08-17T05:42:10"
    assert md.taken_at_source == "EXIF DateTimeOriginal (IFD0)"
    check_exiftool(path, md)


@pytest.mark.parametrize("maker", [
    b"OLYMPUS\x00II\x03\x00" + b"\x02\x00" + b"\x00" * 24 + b"\x00\x00\x00\x00",
    b"QVC\x00\x00\x00\x00\x02" + b"\x00" * 28,  # Casio type 2
    b"SONY DSC \x00\x00\x00" + b"\xff\xff" + b"\x00" * 30,  # a count no IFD can hold
])
def test_old_camera_with_makernote(tmp_path: Path, maker: bytes) -> None:
    """Older Olympus, Casio and Sony layout: DateTimeOriginal in the EXIF sub-IFD next to a
    MakerNote (even a broken one): both readers find the time and agree."""
    path = jpeg(tmp_path / "old.jpg", ifd0={271: "OLYMPUS", DT: "2008:01:02 03:04:05"},
                exif={DTO: "2007:12:30 14:15:16", DTD: "2007:12:30 14:15:16",
                      MAKERNOTE: maker})
    md = extract_inline(path, "jpeg")
    assert md.taken_at_local == "2007-12-30T14:15:16"
    assert md.taken_at_source == "EXIF DateTimeOriginal"
    if md.readers.get("exifread") == "ok":
        assert md.cross_check["datetime_original"] == "agree"
    check_exiftool(path, md)


def test_falls_back_through_the_other_dates(tmp_path: Path) -> None:
    """An unset DateTimeOriginal ("0000:00:00 00:00:00") gives way to DateTimeDigitized;
    without both, DateTime with OffsetTime; without any, the GPS date and time (UTC)."""
    md = extract_inline(jpeg(tmp_path / "a.jpg", exif={
        DTO: "0000:00:00 00:00:00", DTD: "2024:03:05 10:11:12", OFF_DTD: "+08:00"}), "jpeg")
    assert md.taken_at == datetime(2024, 3, 5, 10, 11, 12, tzinfo=BEIJING)
    assert md.taken_at_source == "EXIF DateTimeDigitized with its UTC offset"
    md = extract_inline(jpeg(tmp_path / "b.jpg", ifd0={DT: "2024:03:05 10:11:12"},
                             exif={OFF: "+08:00"}), "jpeg")
    assert md.taken_at == datetime(2024, 3, 5, 10, 11, 12, tzinfo=BEIJING)
    assert md.taken_at_source == "EXIF DateTime with its UTC offset"
    md = extract_inline(jpeg(tmp_path / "c.jpg", gps={1: "N", 2: (29.0, 21.0, 0.0),
                                                      29: "2024:03:05", 7: (2.0, 11.0, 12.5)}),
                        "jpeg")
    assert md.taken_at == datetime(2024, 3, 5, 2, 11, 12, 500000, tzinfo=UTC)
    assert md.taken_at_source == "EXIF GPSDateStamp and GPSTimeStamp (UTC)"
    md = extract_inline(jpeg(tmp_path / "d.jpg", ifd0={271: "X"}), "jpeg")
    assert md.taken_at_local is None and md.taken_at_source is None


def test_both_readers_find_every_candidate(tmp_path: Path) -> None:
    """Pillow and exifread each list the same EXIF dates in the same order."""
    path = jpeg(tmp_path / "all.jpg", ifd0={DT: "2024:06:01 09:00:00"},
                exif={DTO: "2024:03:05 10:11:12", DTD: "2024:04:01 08:00:00"},
                gps={29: "2024:03:05", 7: (2.0, 11.0, 12.0)})
    pil = exif_mod.read_pillow(path, "jpeg")
    er = exif_mod.read_exifread(path, "jpeg")
    assert [c.source for c in pil.times] == [c.source for c in er.times] == [
        "EXIF DateTimeOriginal", "EXIF DateTimeDigitized", "EXIF DateTime",
        "EXIF GPSDateStamp and GPSTimeStamp (UTC)"]
    assert [c.local for c in pil.times] == [c.local for c in er.times]


@pytest.mark.parametrize("kind", ["png", "webp", "tiff"])
def test_xmp_in_other_containers(tmp_path: Path, kind: str) -> None:
    """XMP is read from PNG (iTXt XML:com.adobe.xmp), WebP (XMP chunk) and TIFF (tag 700)."""
    packet = xmp_packet(exif_DateTimeOriginal="2024-03-05T10:11:12+08:00")
    im = Image.new("RGB", (32, 24))
    path = tmp_path / f"x.{kind}"
    if kind == "png":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", packet)
        im.save(path, "PNG", pnginfo=info)
    elif kind == "webp":
        im.save(path, "WEBP", xmp=packet.encode())
    else:
        tags = TiffImagePlugin.ImageFileDirectory_v2()
        tags[700] = packet.encode()
        tags.tagtype[700] = 1  # BYTE, as writers store XMP
        im.save(path, "TIFF", tiffinfo=tags)
    md = extract_inline(path, kind)
    assert md.taken_at == datetime(2024, 3, 5, 10, 11, 12, tzinfo=BEIJING), (md.errors, kind)
    assert md.taken_at_source == "XMP exif:DateTimeOriginal with its UTC offset"
    check_exiftool(path, md)


def test_xmp_parser_refuses_dtds_and_junk() -> None:
    """A DTD (entity expansion), a broken packet and bare dates are refused with a reason."""
    bomb = ('<!DOCTYPE x [<!ENTITY a "aaaa">]><x:xmpmeta xmlns:x="adobe:ns:meta/">&a;'
            '</x:xmpmeta>')
    assert xmp_dates(bomb) == ([], ["XMP packet declares a DTD; not read"])
    assert xmp_dates("<x:xmpmeta xmlns:x='adobe:ns:meta/'><a></x:xmpmeta>")[1][0].startswith(
        "XMP packet is not well-formed XML")
    found, problems = xmp_dates(xmp_packet(photoshop_DateCreated="2024-03-05"))
    assert found == [] and problems == ["XMP photoshop:DateCreated '2024-03-05' is not a date "
                                        "and time"]
    assert parse_date("2024-03-05T10:11:12+0800") == ("2024-03-05T10:11:12", "+08:00", None)
    assert parse_date("2024-02-30T10:11:12") is None
    assert parse_date("2024-03-05T10:11:12+15:00") is None
