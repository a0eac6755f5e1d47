"""Decide what a file is from its first bytes, and whether its name and declared type agree."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

HEAD_BYTES = 4096  # enough for every signature below; never read more


class UnsupportedType(ValueError):
    """The file is not a media type we accept (the API answers 415)."""

    def __init__(self, message: str, detected: str | None = None):
        super().__init__(message)
        self.message = message
        self.detected = detected


@dataclass(frozen=True)
class MediaType:
    """One accepted media type: its family, canonical MIME type, extensions and MIME aliases."""

    key: str
    family: str
    mime: str
    extensions: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    container: str = ""


_TYPES = (
    MediaType("jpeg", "image", "image/jpeg", ("jpg", "jpeg", "jpe", "jfif"),
              ("image/jpg", "image/pjpeg")),
    MediaType("heic", "image", "image/heic", ("heic", "heif", "hif"),
              ("image/heif", "image/heic-sequence", "image/heif-sequence"), "isobmff"),
    MediaType("png", "image", "image/png", ("png",), ("image/x-png", "image/apng")),
    MediaType("webp", "image", "image/webp", ("webp",), ("image/x-webp",), "riff"),
    MediaType("tiff", "image", "image/tiff", ("tif", "tiff", "dng"),
              ("image/tif", "image/x-tiff", "image/x-adobe-dng")),
    MediaType("mp4", "video", "video/mp4", ("mp4", "m4v"), ("video/x-m4v",), "isobmff"),
    MediaType("mov", "video", "video/quicktime", ("mov", "qt"), ("video/mov",), "isobmff"),
    MediaType("3gp", "video", "video/3gpp", ("3gp", "3gpp", "3g2"),
              ("video/3gpp2", "audio/3gpp", "audio/3gpp2"), "isobmff"),
    MediaType("m4a", "audio", "audio/mp4", ("m4a", "m4b"),
              ("audio/x-m4a", "audio/m4a", "audio/x-mp4"), "isobmff"),
    MediaType("aac", "audio", "audio/aac", ("aac", "adts"), ("audio/x-aac", "audio/aacp")),
    MediaType("amr", "audio", "audio/amr", ("amr", "awb"), ("audio/amr-wb", "audio/x-amr")),
    MediaType("mp3", "audio", "audio/mpeg", ("mp3",),
              ("audio/mp3", "audio/x-mp3", "audio/mpeg3", "audio/x-mpeg")),
    MediaType("opus", "audio", "audio/ogg", ("opus", "ogg", "oga"),
              ("audio/opus", "audio/x-opus+ogg", "application/ogg"), "ogg"),
    MediaType("ogg", "audio", "audio/ogg", ("ogg", "oga"),
              ("audio/vorbis", "audio/x-vorbis+ogg", "application/ogg"), "ogg"),
    MediaType("wav", "audio", "audio/wav", ("wav", "wave"),
              ("audio/x-wav", "audio/wave", "audio/vnd.wave")),
    MediaType("pdf", "document", "application/pdf", ("pdf",), ("application/x-pdf",)),
)
TYPES: dict[str, MediaType] = {t.key: t for t in _TYPES}

# Declared types that say nothing about the content: treat as "not declared".
_UNDECLARED = {"", "application/octet-stream", "binary/octet-stream", "application/unknown",
               "application/x-download", "application/force-download"}

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
                b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}
_M4A_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_MP4_BRANDS = {b"M4V ", b"M4VH", b"M4VP", b"F4V ", b"F4P "}
# Generic ISO brands say only "ISO base media": video or audio-only is decided by the tracks.
_GENERIC_BRANDS = {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8",
                   b"iso9", b"mp41", b"mp42", b"mp71", b"avc1", b"mmp4", b"MSNV", b"dash",
                   b"NDAS", b"XAVC", b"hvc1", b"kddi", b"CAEP", b"MiPr"}
_QT_FIRST_BOXES = {b"moov", b"mdat", b"wide", b"pnot", b"free", b"skip"}

# Well-known signatures we reject by name, so the officer is told what the file is.
_KNOWN_UNSUPPORTED = (
    (b"GIF87a", "GIF image"), (b"GIF89a", "GIF image"), (b"BM", "BMP image"),
    (b"\x1aE\xdf\xa3", "Matroska/WebM video"), (b"PK\x03\x04", "ZIP archive"),
    (b"fLaC", "FLAC audio"), (b"#!SILK", "SILK voice (WeChat)"), (b"\x02#!SILK", "SILK voice"),
    (b"Rar!", "RAR archive"), (b"7z\xbc\xaf", "7-Zip archive"), (b"MZ", "Windows program"),
    (b"\x7fELF", "ELF program"), (b"<?xml", "XML text"), (b"<!DOCTYPE", "HTML page"),
    (b"<html", "HTML page"), (b"\x00\x00\x01\xba", "MPEG program stream"),
    (b"0&\xb2u", "Windows Media file"), (b"FLV", "Flash video"), (b".RMF", "RealMedia file"),
)


@dataclass(frozen=True)
class SniffResult:
    """What the magic bytes say a file is."""

    media_type: str
    family: str
    mime: str
    detail: str
    candidates: tuple[str, ...] = ()  # every type the magic is consistent with
    ext_ok: bool | None = None  # None when no filename or an unknown extension was given


@dataclass(frozen=True)
class TypeVerdict:
    """Whether the magic bytes agree with the file name and the declared Content-Type."""

    media_type: str
    family: str
    mime: str
    sniffed: SniffResult
    extension: str | None
    ext_type: str | None
    ext_ok: bool | None
    declared_type: str | None
    declared_key: str | None
    declared_ok: bool | None
    status: str  # "pass" | "warn" | "fail", same scale as a Check
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def detail(self) -> str:
        """One sentence for the officer."""
        if not self.problems:
            return f"content is {self.mime}" + (
                ", matching the name and declared type" if self.ext_ok or self.declared_ok else ""
            )
        return f"content is {self.mime}; " + "; ".join(self.problems)


def _read_head(path: str | os.PathLike[str]) -> tuple[bytes, int]:
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        return f.read(HEAD_BYTES), size


def _ftyp(head: bytes) -> tuple[str, str, tuple[str, ...]]:
    (box_size,) = struct.unpack(">I", head[:4])
    end = min(max(box_size, 16), len(head))
    major = head[8:12]
    compat = [head[i:i + 4] for i in range(16, end - 3, 4)]
    brands = {major, *compat}
    name = major.decode("latin-1")
    heif_only = brands & (_HEIF_BRANDS - {b"mif1", b"msf1", b"mif2"})
    if major in _AVIF_BRANDS or (brands & _AVIF_BRANDS and not heif_only):
        raise UnsupportedType("AVIF images are not accepted; send JPEG or HEIC", "AVIF image")
    if major in _HEIF_BRANDS or (heif_only and major not in _GENERIC_BRANDS):
        return "heic", f"HEIF image (brand {name!r})", ("heic",)
    if major == b"qt  ":
        return "mov", "QuickTime movie (brand 'qt')", ("mov", "mp4", "m4a", "3gp")
    if major[:3] in (b"3gp", b"3g2", b"3ge", b"3gg", b"3gr", b"3gs"):
        return "3gp", f"3GPP file (brand {name!r})", ("3gp", "mp4", "m4a")
    if major in _M4A_BRANDS:
        return "m4a", f"MPEG-4 audio (brand {name!r})", ("m4a", "mp4")
    if major in _MP4_BRANDS:
        return "mp4", f"MPEG-4 video (brand {name!r})", ("mp4", "m4a")
    if major in _GENERIC_BRANDS or brands & _GENERIC_BRANDS:
        return "mp4", f"MPEG-4 file (brand {name!r})", ("mp4", "m4a", "3gp", "mov")
    if major in (b"crx ", b"jp2 ", b"jpx "):
        raise UnsupportedType(f"ISO media with brand {name!r} is not accepted", name)
    # An unknown brand is still ISO base media that the box walker can read.
    return "mp4", f"ISO media with unrecognised brand {name!r}", ("mp4", "m4a", "3gp", "mov")


def _ogg(head: bytes) -> tuple[str, str, tuple[str, ...]]:
    if len(head) < 28:
        raise UnsupportedType("Ogg file too short to identify", "Ogg")
    segments = head[26]
    payload = head[27 + segments:27 + segments + 8]
    if payload.startswith(b"OpusHead"):
        return "opus", "Ogg Opus audio", ("opus",)
    if payload.startswith(b"\x01vorbis"):
        return "ogg", "Ogg Vorbis audio", ("ogg",)
    raise UnsupportedType("Ogg stream with a codec other than Opus or Vorbis", "Ogg")


_MP3_BITRATES = {  # kbit/s by (MPEG-1?, layer)
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_frame_len(h: bytes) -> int | None:
    if len(h) < 4 or h[0] != 0xFF or (h[1] & 0xE0) != 0xE0:
        return None
    version, layer_bits = (h[1] >> 3) & 3, (h[1] >> 1) & 3
    br_idx, sr_idx, pad = h[2] >> 4, (h[2] >> 2) & 3, (h[2] >> 1) & 1
    if version == 1 or layer_bits == 0 or br_idx in (0, 15) or sr_idx == 3:
        return None
    layer = 4 - layer_bits
    mpeg1 = version == 3
    bitrate = _MP3_BITRATES[(mpeg1, layer)][br_idx] * 1000
    rate = _MP3_RATES[version][sr_idx]
    if layer == 1:
        return (12 * bitrate // rate + pad) * 4
    return (144 if mpeg1 or layer == 2 else 72) * bitrate // rate + pad


def _adts_frame_len(h: bytes) -> int | None:
    if len(h) < 7 or h[0] != 0xFF or (h[1] & 0xF6) != 0xF0:
        return None
    if (h[2] >> 2) & 0xF > 12:  # sampling-frequency index 13..15 is reserved
        return None
    length = ((h[3] & 3) << 11) | (h[4] << 3) | (h[5] >> 5)
    return length if length >= 7 else None


def _frames(head: bytes, start: int, size: int) -> str | None:
    """Name the audio framing at ``start`` when two frames in a row confirm it."""
    for name, frame_len in (("aac", _adts_frame_len), ("mp3", _mp3_frame_len)):
        n = frame_len(head[start:start + 7])
        if n is None:
            continue
        nxt = start + n
        # A second header confirms the sync; at end of file or buffer one frame must do.
        if nxt >= size or nxt + 7 > len(head) or frame_len(head[nxt:nxt + 7]) is not None:
            return name
    return None


def _isobmff_without_ftyp(head: bytes, size: int) -> bool:
    if len(head) < 8 or head[4:8] not in _QT_FIRST_BOXES:
        return False
    (n,) = struct.unpack(">I", head[:4])
    if n not in (0, 1) and not 8 <= n <= size:
        return False
    if head[4:8] in (b"free", b"skip") and n >= 8:
        # A lone free box is too weak a signal: the next box must be a movie box too.
        return len(head) >= n + 8 and head[n + 4:n + 8] in _QT_FIRST_BOXES
    return True


def _classify(head: bytes, size: int) -> tuple[str, str, tuple[str, ...]]:
    if size == 0 or not head:
        raise UnsupportedType("the file is empty")
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg", "JPEG image", ("jpeg",)
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png", "PNG image", ("png",)
    if head[:4] == b"RIFF" and len(head) >= 12:
        kind = head[8:12]
        if kind == b"WEBP":
            return "webp", "WebP image", ("webp",)
        if kind == b"WAVE":
            return "wav", "WAV audio", ("wav",)
        raise UnsupportedType(f"RIFF file of kind {kind!r} is not accepted",
                              "AVI video" if kind == b"AVI " else "RIFF")
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff", "TIFF image", ("tiff",)
    if head[:5] == b"%PDF-":
        return "pdf", "PDF document", ("pdf",)
    if head[:9] == b"#!AMR-WB\n" or head[:15] == b"#!AMR-WB_MC1.0\n":
        return "amr", "AMR-WB audio", ("amr",)
    if head[:6] == b"#!AMR\n" or head[:12] == b"#!AMR_MC1.0\n":
        return "amr", "AMR-NB audio", ("amr",)
    if head[:4] == b"OggS":
        return _ogg(head)
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return _ftyp(head)
    if _isobmff_without_ftyp(head, size):
        return "mov", f"QuickTime movie without ftyp (first box {head[4:8]!r})", ("mov", "mp4")
    if head[:3] == b"ID3" and len(head) >= 10:
        tag = 10 + ((head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14
                    | (head[8] & 0x7F) << 7 | (head[9] & 0x7F))
        kind = _frames(head, tag, size) if tag < len(head) else None
        if kind == "aac":
            return "aac", "AAC (ADTS) audio with ID3 tag", ("aac",)
        return "mp3", "MP3 audio (ID3 tag)", ("mp3",)
    kind = _frames(head, 0, size)
    if kind == "aac":
        return "aac", "AAC (ADTS) audio", ("aac",)
    if kind == "mp3":
        return "mp3", "MPEG audio (frame sync)", ("mp3",)
    for magic, name in _KNOWN_UNSUPPORTED:
        if head.startswith(magic):
            raise UnsupportedType(f"{name} is not an accepted evidence type", name)
    raise UnsupportedType(
        "unrecognised file type: accepted are JPEG, HEIC, PNG, WebP, TIFF, MP4, MOV, 3GP, "
        "M4A, AAC, AMR, MP3, Ogg Opus/Vorbis, WAV and PDF"
    )


def extension_of(filename: str | None) -> str | None:
    """Lower-case extension without the dot, or None."""
    if not filename:
        return None
    base = os.path.basename(filename.replace("\\", "/"))
    if "." not in base.strip("."):
        return None
    return base.rsplit(".", 1)[1].lower() or None


def types_for_extension(ext: str | None) -> tuple[str, ...]:
    """Media type keys that use this extension (ogg is shared by Opus and Vorbis)."""
    if not ext:
        return ()
    return tuple(t.key for t in _TYPES if ext in t.extensions)


def types_for_mime(mime: str | None) -> tuple[str, ...]:
    """Media type keys a Content-Type names; empty when it is generic or unknown."""
    norm = normalise_mime(mime)
    if norm is None:
        return ()
    return tuple(t.key for t in _TYPES if norm == t.mime or norm in t.aliases)


def normalise_mime(mime: str | None) -> str | None:
    """Lower-case MIME type without parameters; None when it declares nothing."""
    if mime is None:
        return None
    norm = mime.split(";", 1)[0].strip().lower()
    return None if norm in _UNDECLARED else norm


def sniff(path: str | os.PathLike[str], filename: str | None = None) -> SniffResult:
    """Identify a file by its first bytes; raise UnsupportedType for anything else."""
    head, size = _read_head(path)
    key, detail, candidates = _classify(head, size)
    ext_types = types_for_extension(extension_of(filename))
    ext_ok = None if not ext_types else bool(set(ext_types) & set(candidates))
    t = TYPES[key]
    return SniffResult(key, t.family, t.mime, detail, candidates, ext_ok)


def check_type(
    path: str | os.PathLike[str], filename: str | None, declared_type: str | None
) -> TypeVerdict:
    """Sniff the file and compare it with its extension and declared Content-Type."""
    s = sniff(path, filename)
    ext = extension_of(filename)
    ext_types = types_for_extension(ext)
    declared = normalise_mime(declared_type)
    declared_types = types_for_mime(declared)
    # The magic of a generic MP4 cannot tell video from audio-only: let the name decide.
    stated = [k for k in (*declared_types, *ext_types) if k in s.candidates]
    key = s.media_type
    if s.media_type == "mp4" and stated:
        key = stated[0]
    t = TYPES[key]
    problems: list[str] = []
    status = "pass"
    ext_ok: bool | None = None
    if ext and ext_types:
        ext_ok = bool(set(ext_types) & set(s.candidates))
        if not ext_ok:
            problems.append(f"the name ends in .{ext} but the content is {s.detail}")
            status = _worse(status, _mismatch_status(ext_types, key))
    elif ext:
        problems.append(f"extension .{ext} is not a media extension")
    declared_ok: bool | None = None
    if declared:
        if declared_types:
            declared_ok = bool(set(declared_types) & set(s.candidates))
            if not declared_ok:
                problems.append(f"declared as {declared} but the content is {s.detail}")
                status = _worse(status, _mismatch_status(declared_types, key))
        else:
            declared_ok = False
            problems.append(f"declared type {declared} is not an accepted media type")
            status = _worse(status, "warn")
    return TypeVerdict(
        media_type=key, family=t.family, mime=t.mime, sniffed=s, extension=ext,
        ext_type=ext_types[0] if ext_types else None, ext_ok=ext_ok,
        declared_type=declared, declared_key=declared_types[0] if declared_types else None,
        declared_ok=declared_ok, status=status, problems=tuple(problems),
    )


def _mismatch_status(claimed: tuple[str, ...], actual: str) -> str:
    # Same family (a HEIC named .jpg) is a labelling slip; another family is a wrong file.
    families = {TYPES[k].family for k in claimed}
    return "warn" if TYPES[actual].family in families else "fail"


def _worse(a: str, b: str) -> str:
    order = {"pass": 0, "warn": 1, "fail": 2}
    return a if order[a] >= order[b] else b
