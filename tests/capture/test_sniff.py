"""Type sniffing by magic bytes, and agreement with file name and declared type."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from capture.sniff import UnsupportedType, check_type, sniff
from tests.capture import media


def _write(tmp_path: Path, data: bytes, name: str = "f.bin") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _ftyp(major: bytes, *compat: bytes) -> bytes:
    return media.box(b"ftyp", major + b"\0\0\0\0" + b"".join(compat)) + media.box(b"mdat")


@pytest.mark.parametrize(
    ("kind", "family", "mime"),
    [("jpeg", "image", "image/jpeg"), ("heic", "image", "image/heic"),
     ("png", "image", "image/png"), ("webp", "image", "image/webp"),
     ("tiff", "image", "image/tiff"), ("amr", "audio", "audio/amr"),
     ("wav", "audio", "audio/wav"), ("pdf", "document", "application/pdf")],
)
def test_sniffs_generated_files(samples: dict[str, Path], kind: str, family: str,
                                mime: str) -> None:
    """Each generated file is recognised by its first bytes, whatever its name."""
    s = sniff(samples[kind], "whatever.xyz")
    assert (s.media_type, s.family, s.mime) == (kind, family, mime)
    assert s.ext_ok is None  # .xyz is no media extension


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("mp4", "mp4"), ("mov", "mov"), ("3gp", "3gp"), ("ff-m4a", "m4a"), ("ff-mp3", "mp3"),
     ("ff-opus", "opus"), ("ff-ogg", "ogg"), ("ff-aac", "aac"), ("ff-wav", "wav")],
)
def test_sniffs_ffmpeg_files(samples: dict[str, Path], kind: str, expected: str) -> None:
    """Files written by ffmpeg are recognised: MP4/MOV/3GP, M4A, MP3, Opus, Vorbis, ADTS, WAV."""
    if kind not in samples:
        pytest.skip("ffmpeg is not installed (CI installs it)")
    assert sniff(samples[kind]).media_type == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_ftyp(b"heic", b"mif1", b"heic"), "heic"),
        (_ftyp(b"mif1", b"mif1", b"heic"), "heic"),
        (_ftyp(b"msf1", b"hevc"), "heic"),
        (_ftyp(b"qt  ", b"qt  "), "mov"),
        (_ftyp(b"3gp5", b"3gp5", b"isom"), "3gp"),
        (_ftyp(b"3g2a"), "3gp"),
        (_ftyp(b"M4A ", b"M4A ", b"mp42"), "m4a"),
        (_ftyp(b"mp42", b"isom"), "mp4"),
        (_ftyp(b"avc1"), "mp4"),
        (media.box(b"wide") + media.box(b"mdat", b"x" * 20), "mov"),
        (media.box(b"moov", media.box(b"mvhd", bytes(100))), "mov"),
        (b"#!AMR-WB\n" + b"\x44" + bytes(60), "amr"),
        (b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(413), "mp3"),
        (b"%PDF-1.7\n", "pdf"),
        (b"II*\x00\x08\x00\x00\x00" + bytes(20), "tiff"),
        (b"MM\x00*\x00\x00\x00\x08" + bytes(20), "tiff"),
    ],
)
def test_sniffs_hand_made_signatures(tmp_path: Path, data: bytes, expected: str) -> None:
    """Brands and signatures phones produce map to the right type."""
    assert sniff(_write(tmp_path, data)).media_type == expected


def test_mp3_frame_sync_needs_two_frames(tmp_path: Path) -> None:
    """A bare MPEG frame header is confirmed by the next frame before we call it MP3."""
    frame = b"\xff\xfb\x90\x64" + bytes(413)  # 128 kbit/s, 44.1 kHz: 417 bytes
    assert sniff(_write(tmp_path, frame * 3)).media_type == "mp3"
    with pytest.raises(UnsupportedType):
        sniff(_write(tmp_path, frame + b"garbage" * 200))


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"GIF89a" + bytes(20), "GIF image"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "AVI video"),
        (b"\x1aE\xdf\xa3" + bytes(20), "Matroska/WebM video"),
        (_ftyp(b"avif", b"avif", b"mif1"), "AVIF image"),
        (b"fLaC" + bytes(40), "FLAC audio"),
        (b"#!SILK_V3" + bytes(20), "SILK voice (WeChat)"),
        (b"OggS" + bytes(22) + b"\x01\x1e" + b"\x80theora" + bytes(30), "Ogg"),
    ],
)
def test_known_unsupported_types_are_named(tmp_path: Path, data: bytes, named: str) -> None:
    """Rejected types say what they are, so the officer knows what to send instead."""
    with pytest.raises(UnsupportedType) as err:
        sniff(_write(tmp_path, data))
    assert err.value.detected == named
    assert err.value.message


@pytest.mark.parametrize("data", [b"", b"hello world, this is text", bytes(4096)])
def test_unknown_content_is_unsupported(tmp_path: Path, data: bytes) -> None:
    """Empty, text and zero-filled files raise UnsupportedType (the API answers 415)."""
    with pytest.raises(UnsupportedType, match="empty|unrecognised"):
        sniff(_write(tmp_path, data))


def test_sniff_reads_only_the_head(tmp_path: Path) -> None:
    """A file far larger than the head is sniffed from its first bytes only."""
    big = tmp_path / "big.jpg"
    with open(big, "wb") as f:
        f.write(b"\xff\xd8\xff\xe0")
        f.seek(200 << 20)  # a 200 MB sparse file
        f.write(b"\xff\xd9")
    assert sniff(big, "big.jpg").media_type == "jpeg"


def test_verdict_passes_when_everything_agrees(samples: dict[str, Path]) -> None:
    """Magic, extension and declared type agree: status pass, no problems."""
    v = check_type(samples["jpeg"], "IMG_0001.JPG", "image/jpeg")
    assert (v.status, v.ext_ok, v.declared_ok, v.problems) == ("pass", True, True, ())
    assert "image/jpeg" in v.detail


@pytest.mark.parametrize(
    ("name", "declared"),
    [("a.jpg", "image/jpg"), ("a.jpeg", "image/pjpeg"), ("a.jpg", "application/octet-stream"),
     ("a.jpg", None), ("a.jpg", ""), ("a.jpg", "IMAGE/JPEG; charset=binary")],
)
def test_common_aliases_and_undeclared_types_pass(samples: dict[str, Path], name: str,
                                                  declared: str | None) -> None:
    """image/jpg and octet-stream (meaning "not declared") are tolerated."""
    v = check_type(samples["jpeg"], name, declared)
    assert v.status == "pass", v.problems


def test_octet_stream_counts_as_not_declared(samples: dict[str, Path]) -> None:
    """application/octet-stream is recorded as no declaration at all."""
    v = check_type(samples["jpeg"], "a.jpg", "application/octet-stream")
    assert v.declared_type is None and v.declared_ok is None


@pytest.mark.parametrize(
    ("data", "name", "declared", "media_type"),
    [
        (_ftyp(b"qt  "), "clip.mov", "video/quicktime", "mov"),
        (_ftyp(b"M4A ", b"mp42"), "memo.m4a", "audio/x-m4a", "m4a"),
        (_ftyp(b"mp42", b"isom"), "voice.m4a", "audio/mp4", "m4a"),  # Android recorders
        (_ftyp(b"mp42", b"isom"), "clip.mp4", "video/mp4", "mp4"),
        (_ftyp(b"isom"), "clip.3gp", "video/3gpp", "3gp"),
        (_ftyp(b"qt  "), "clip.mp4", "video/mp4", "mov"),
    ],
)
def test_iso_media_labels(tmp_path: Path, data: bytes, name: str, declared: str,
                          media_type: str) -> None:
    """Generic MP4 brands take the stated label (m4a, 3gp); specific brands keep theirs."""
    v = check_type(_write(tmp_path, data), name, declared)
    assert (v.status, v.media_type) == ("pass", media_type), v.problems


def test_same_family_mismatch_warns(samples: dict[str, Path]) -> None:
    """A HEIC photo named .jpg is a labelling slip: warn, and say what it really is."""
    v = check_type(samples["heic"], "IMG_0001.jpg", "image/jpeg")
    assert v.status == "warn"
    assert v.media_type == "heic" and v.ext_ok is False and v.declared_ok is False
    assert any(".jpg" in p for p in v.problems)


def test_other_family_mismatch_fails(samples: dict[str, Path]) -> None:
    """A photo uploaded as video/mp4 named .mp4 is the wrong file: fail."""
    v = check_type(samples["jpeg"], "clip.mp4", "video/mp4")
    assert v.status == "fail"
    assert "declared as video/mp4" in v.detail


def test_unaccepted_declared_type_warns(samples: dict[str, Path]) -> None:
    """A declared type we do not accept (text/plain) warns even when the content is fine."""
    v = check_type(samples["png"], "a.png", "text/plain")
    assert v.status == "warn" and v.declared_ok is False


def test_check_type_raises_for_unknown_magic(tmp_path: Path) -> None:
    """check_type lets UnsupportedType through: the caller answers 415."""
    with pytest.raises(UnsupportedType):
        check_type(_write(tmp_path, b"just text" * 10), "a.jpg", "image/jpeg")


def test_sniff_reports_extension_agreement(samples: dict[str, Path]) -> None:
    """SniffResult.ext_ok compares the magic with the extension."""
    assert sniff(samples["png"], "x.png").ext_ok is True
    assert sniff(samples["png"], "x.jpg").ext_ok is False
    assert sniff(samples["png"]).ext_ok is None


def test_largesize_ftyp_does_not_crash(tmp_path: Path) -> None:
    """An ftyp with a 64-bit size field is still recognised."""
    data = struct.pack(">I4sQ", 1, b"ftyp", 32) + b"qt  " + bytes(12)
    assert sniff(_write(tmp_path, data)).media_type in ("mov", "mp4")
