"""Build real media files in a temporary directory for the capture tests (never committed)."""

from __future__ import annotations

import random
import shutil
import struct
import subprocess
import wave
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image, TiffImagePlugin

pillow_heif.register_heif_opener()

FFMPEG = shutil.which("ffmpeg")
FFPROBE = shutil.which("ffprobe")
needs_ffmpeg = pytest.mark.skipif(
    FFMPEG is None, reason="ffmpeg is not installed (CI installs it: apt-get install ffmpeg)"
)

# Tiananmen Square, WGS-84: the coordinates the sample files carry.
LAT, LON, ALT = 39.9042, 116.4074, 43.5
ISO6709 = "+39.9042+116.4074+043.500/"
PIL_FORMAT = {"jpeg": "JPEG", "heic": "HEIF", "png": "PNG", "webp": "WEBP", "tiff": "TIFF"}
SUFFIX = {"jpeg": "jpg", "heic": "heic", "png": "png", "webp": "webp", "tiff": "tif"}


@dataclass(frozen=True)
class Photo:
    """The EXIF a sample photo carries; None leaves a tag out."""

    taken: str | None = "2024:03:05 10:11:12"
    offset: str | None = "+08:00"
    subsec: str | None = None
    lat: float | None = LAT
    lon: float | None = LON
    altitude: float | None = ALT
    accuracy: float | None = 4.2
    make: str | None = "Apple"
    model: str | None = "iPhone 13"
    software: str | None = "17.1"
    width: int = 64
    height: int = 48

    def but(self, **changes: object) -> Photo:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _dms(value: float) -> tuple[float, float, float]:
    v = abs(value)
    deg = int(v)
    minutes = int((v - deg) * 60)
    seconds = round((v - deg - minutes / 60) * 3600, 4)
    return float(deg), float(minutes), seconds


def _ifds(p: Photo) -> tuple[dict[int, object], dict[int, object], dict[int, object]]:
    ifd0: dict[int, object] = {}
    for tag, value in ((271, p.make), (272, p.model), (305, p.software)):
        if value is not None:
            ifd0[tag] = value
    exif: dict[int, object] = {}
    if p.taken is not None:
        exif[36867] = p.taken
    if p.offset is not None:
        exif[36881] = p.offset
    if p.subsec is not None:
        exif[37521] = p.subsec
    gps: dict[int, object] = {}
    if p.lat is not None and p.lon is not None:
        gps.update({1: "N" if p.lat >= 0 else "S", 2: _dms(p.lat),
                    3: "E" if p.lon >= 0 else "W", 4: _dms(p.lon)})
        if p.altitude is not None:
            gps[5] = b"\x00" if p.altitude >= 0 else b"\x01"
            gps[6] = abs(p.altitude)
        if p.accuracy is not None:
            gps[31] = p.accuracy
    return ifd0, exif, gps


def exif_of(p: Photo) -> Image.Exif:
    """A Pillow Exif object carrying the photo's tags."""
    ifd0, exif_ifd, gps = _ifds(p)
    ex = Image.Exif()
    ex.update(ifd0)
    if exif_ifd:
        ex.get_ifd(0x8769).update(exif_ifd)
    if gps:
        ex.get_ifd(0x8825).update(gps)
    return ex


def write_image(directory: Path, kind: str, photo: Photo | None = Photo(),
                name: str | None = None) -> Path:
    """Write a small image of ``kind`` (jpeg, heic, png, webp, tiff); photo=None: no EXIF."""
    path = directory / (name or f"photo.{SUFFIX[kind]}")
    w, h = (photo.width, photo.height) if photo else (64, 48)
    im = Image.new("RGB", (w, h), (40, 120, 200))
    if photo is None:
        im.save(path, PIL_FORMAT[kind])
    elif kind == "tiff":
        # Pillow's TIFF writer needs sub-IFDs as typed dicts in a v2 directory.
        ifd0, exif_ifd, gps = _ifds(photo)
        info = TiffImagePlugin.ImageFileDirectory_v2()
        for tag, value in ifd0.items():
            info[tag] = value
        for tag, sub in ((0x8769, exif_ifd), (0x8825, gps)):
            if sub:
                info.tagtype[tag] = 4
                info[tag] = sub
        im.save(path, "TIFF", tiffinfo=info)
    else:
        im.save(path, PIL_FORMAT[kind], exif=exif_of(photo))
    return path


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly, failing the test with its stderr on error."""
    assert FFMPEG, "ffmpeg missing"
    proc = subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", *args],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr


def ffmpeg_movie(directory: Path, container: str, *, name: str | None = None,
                 metadata: dict[str, str] | None = None, apple_keys: bool = False,
                 duration: float = 1.0, audio: bool = True) -> Path:
    """A tiny H.264 (+AAC) movie; ``metadata`` goes through ffmpeg's -metadata options."""
    path = directory / (name or f"movie.{container}")
    args = ["-f", "lavfi", "-i", f"testsrc=size=64x48:rate=10:duration={duration}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=8000:duration={duration}",
                 "-c:a", "aac"]
    args += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast"]
    if apple_keys:
        args += ["-movflags", "use_metadata_tags"]
    for key, value in (metadata or {}).items():
        args += ["-metadata", f"{key}={value}"]
    ffmpeg(*args, str(path))
    return path


AUDIO_ARGS = {
    "m4a": (["-c:a", "aac"], 44100),
    "mp3": (["-c:a", "libmp3lame"], 44100),
    "opus": (["-c:a", "libopus"], 48000),
    "ogg": (["-c:a", "libvorbis"], 44100),
    "aac": (["-c:a", "aac", "-f", "adts"], 44100),
    "wav": (["-c:a", "pcm_s16le"], 16000),
}


def ffmpeg_audio(directory: Path, kind: str, duration: float = 1.5) -> Path:
    """A sine tone of ``duration`` seconds encoded as ``kind``."""
    codec_args, rate = AUDIO_ARGS[kind]
    path = directory / f"tone.{kind}"
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={rate}:duration={duration}",
           *codec_args, str(path))
    return path


def write_wav(directory: Path, seconds: float = 1.0, rate: int = 8000) -> Path:
    """A silent mono 16-bit WAV written with the standard library."""
    path = directory / "silence.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * int(seconds * rate))
    return path


AMR_NB_BYTES = {7: 31, 0: 12, 8: 5, 15: 0}  # speech bytes after the header, by frame type
AMR_WB_BYTES = {8: 60, 0: 17, 9: 5, 15: 0}


def amr_bytes(frames: int, wb: bool = False, frame_type: int | None = None,
              seed: int = 1) -> bytes:
    """An AMR-NB (or WB) file of ``frames`` 20 ms frames with random speech bits."""
    rng = random.Random(seed)
    table = AMR_WB_BYTES if wb else AMR_NB_BYTES
    ft = frame_type if frame_type is not None else (8 if wb else 7)
    out = bytearray(b"#!AMR-WB\n" if wb else b"#!AMR\n")
    for _ in range(frames):
        out.append((ft << 3) | 0x04)  # frame type and the "quality good" bit
        out += bytes(rng.randrange(256) for _ in range(table[ft]))
    return bytes(out)


def write_amr(directory: Path, frames: int = 150, wb: bool = False) -> Path:
    """An AMR file built frame by frame (ffmpeg here has no AMR encoder)."""
    path = directory / ("voice.awb" if wb else "voice.amr")
    path.write_bytes(amr_bytes(frames, wb))
    return path


# --- ISO base media boxes, by hand -------------------------------------------------------

_EPOCH_1904 = datetime(1904, 1, 1, tzinfo=UTC)
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def box(kind: bytes, payload: bytes = b"") -> bytes:
    """A box with a 32-bit size."""
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full_box(kind: bytes, payload: bytes, version: int = 0, flags: int = 0) -> bytes:
    """A full box: version and flags before the payload."""
    return box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload)


def mac_seconds(dt: datetime) -> int:
    """Seconds since 1904-01-01 UTC, as mvhd stores time."""
    return int((dt - _EPOCH_1904).total_seconds())


def mvhd(created: datetime | None, duration_s: float, timescale: int = 1000,
         version: int = 0) -> bytes:
    """A movie header box (v0: 32-bit times; v1: 64-bit)."""
    secs = mac_seconds(created) if created else 0
    units = int(round(duration_s * timescale))
    if version == 1:
        times = struct.pack(">QQIQ", secs, secs, timescale, units)
    else:
        times = struct.pack(">IIII", secs, secs, timescale, units)
    rest = struct.pack(">IH", 0x10000, 0x100) + bytes(10) + _MATRIX + bytes(24) + b"\0\0\0\2"
    return full_box(b"mvhd", times + rest, version)


def trak(handler: bytes, fmt: bytes, width: int = 0, height: int = 0, rate: int = 0) -> bytes:
    """A track with tkhd (size), hdlr (kind) and a one-entry stsd (codec, sample rate)."""
    tkhd = full_box(b"tkhd", bytes(20) + bytes(16) + _MATRIX
                    + struct.pack(">II", width << 16, height << 16), flags=3)
    hdlr = full_box(b"hdlr", bytes(4) + handler + bytes(12) + b"handler\0")
    if handler == b"soun":
        entry = bytes(6) + b"\0\1" + bytes(8) + struct.pack(">HHHHI", 1, 16, 0, 0, rate << 16)
    else:
        entry = bytes(6) + b"\0\1" + bytes(16) + struct.pack(">HH", width, height) + bytes(50)
    stsd = full_box(b"stsd", struct.pack(">I", 1) + box(fmt, entry))
    return box(b"trak", tkhd + box(b"mdia", hdlr + box(b"minf", box(b"stbl", stsd))))


def xyz(text: str) -> bytes:
    """QuickTime/Android udta ©xyz: length, language, ISO 6709 text."""
    data = text.encode()
    return box(b"\xa9xyz", struct.pack(">HH", len(data), 0x15C7) + data)


def qt_text(kind: bytes, text: str) -> bytes:
    """A QuickTime user-data text box such as ©mak or ©mod."""
    data = text.encode()
    return box(kind, struct.pack(">HH", len(data), 0x15C7) + data)


def loci(lat: float, lon: float, alt: float, name: str = "site") -> bytes:
    """3GPP location box: language, name, role, 16.16 lon/lat/alt, body, notes."""
    body = (struct.pack(">H", 0x15C7) + name.encode() + b"\0" + b"\0"
            + struct.pack(">iii", round(lon * 65536), round(lat * 65536), round(alt * 65536))
            + b"earth\0" + b"\0")
    return full_box(b"loci", body)


def apple_meta(items: dict[str, str]) -> bytes:
    """QuickTime 'meta' with hdlr 'mdta', 'keys' and 'ilst' as iPhones write them."""
    names = list(items)
    keys = full_box(b"keys", struct.pack(">I", len(names)) + b"".join(
        struct.pack(">I4s", 8 + len(k.encode()), b"mdta") + k.encode() for k in names))
    ilst = box(b"ilst", b"".join(
        box(struct.pack(">I", i + 1),
            box(b"data", struct.pack(">II", 1, 0) + items[k].encode()))
        for i, k in enumerate(names)))
    hdlr = full_box(b"hdlr", bytes(4) + b"mdta" + bytes(12) + b"\0")
    return box(b"meta", hdlr + keys + ilst)


def movie_bytes(*, brand: bytes = b"isom", created: datetime | None = None,
                duration_s: float = 2.0, version: int = 0, udta: list[bytes] | None = None,
                moov_extra: list[bytes] | None = None, size: tuple[int, int] = (64, 48),
                audio_rate: int = 0, mdat: bytes = b"\0" * 16) -> bytes:
    """A minimal MP4/MOV/3GP made by hand: ftyp, mdat, moov."""
    ftyp = box(b"ftyp", brand + b"\0\0\0\0" + brand + b"isom")
    moov = mvhd(created, duration_s, version=version)
    if size != (0, 0):
        moov += trak(b"vide", b"avc1", *size)
    if audio_rate:
        moov += trak(b"soun", b"mp4a", rate=audio_rate)
    if udta:
        moov += box(b"udta", b"".join(udta))
    moov += b"".join(moov_extra or [])
    return ftyp + box(b"mdat", mdat) + box(b"moov", moov)


def inject(path: Path, *, udta: tuple[bytes, ...] = (),
           moov_extra: tuple[bytes, ...] = ()) -> Path:
    """Add boxes to the moov/udta of a file whose moov is the last box (ffmpeg's default).

    With moov last, no chunk offset in stco points past it, so growing it is safe.
    """
    data = path.read_bytes()
    pos, boxes = 0, []
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        boxes.append((kind, pos, size))
        pos += size
    kind, start, size = boxes[-1]
    assert kind == b"moov", "inject() needs moov as the last box"
    moov = data[start + 8:start + size]
    children, p, old_udta = [], 0, b""
    while p + 8 <= len(moov):
        n, k = struct.unpack(">I4s", moov[p:p + 8])
        if k == b"udta":
            old_udta = moov[p + 8:p + n]
        else:
            children.append(moov[p:p + n])
        p += n
    new_moov = b"".join(children) + box(b"udta", old_udta + b"".join(udta)) + b"".join(moov_extra)
    path.write_bytes(data[:start] + box(b"moov", new_moov))
    return path
