"""Audio duration, codec and sample rate: mutagen, plus our own AMR frame counter."""

from __future__ import annotations

from dataclasses import dataclass, field

from mutagen.aac import AAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from capture.source import Source, open_source

# Bytes per AMR frame, header byte included, by frame type (as ffmpeg's AMR demuxer counts).
# Every frame, NO_DATA included, stands for 20 ms of the recording.
AMR_NB_SIZES = (13, 14, 16, 18, 20, 21, 27, 32, 6, 1, 1, 1, 1, 1, 1, 1)
AMR_WB_SIZES = (18, 24, 33, 37, 41, 47, 51, 59, 61, 6, 1, 1, 1, 1, 1, 1)
AMR_FRAME_S = 0.020
_CHUNK = 1 << 16

_MUTAGEN = {"mp3": MP3, "m4a": MP4, "aac": AAC, "opus": OggOpus, "ogg": OggVorbis,
            "wav": WAVE}
_CODEC = {"mp3": "mp3", "aac": "aac", "opus": "opus", "ogg": "vorbis", "wav": "pcm"}


@dataclass
class AudioInfo:
    """Duration and stream facts of one audio file."""

    duration_s: float | None = None
    codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    errors: list[str] = field(default_factory=list)


def read_audio(path: Source, media_type: str) -> AudioInfo:
    """Duration, codec and sample rate; raises on a file the parser cannot read."""
    if media_type == "amr":
        return read_amr(path)
    cls = _MUTAGEN[media_type]
    if isinstance(path, int):  # a descriptor from the parser pool: mutagen takes a file object
        with open_source(path) as f:
            info = cls(f).info
    else:
        info = cls(path).info  # mutagen opens, reads the headers it needs, and closes
    codec = getattr(info, "codec", None) or _CODEC.get(media_type)
    if media_type == "wav" and getattr(info, "bits_per_sample", None):
        codec = f"pcm_{info.bits_per_sample}bit"
    # Opus always decodes at 48 kHz whatever rate the encoder was fed.
    rate = 48000 if media_type == "opus" else getattr(info, "sample_rate", None)
    length = getattr(info, "length", None)
    return AudioInfo(
        duration_s=round(float(length), 3) if length is not None else None,
        codec=codec, sample_rate=int(rate) if rate else None,
        channels=getattr(info, "channels", None),
    )


def read_amr(path: Source) -> AudioInfo:
    """Count AMR-NB/WB frames (20 ms each) from their one-byte headers, streaming the file."""
    with open_source(path) as f:
        head = f.read(16)
        if head.startswith(b"#!AMR-WB\n"):
            sizes, start, info = AMR_WB_SIZES, 9, AudioInfo(codec="amr-wb", sample_rate=16000)
        elif head.startswith(b"#!AMR\n"):
            sizes, start, info = AMR_NB_SIZES, 6, AudioInfo(codec="amr-nb", sample_rate=8000)
        else:
            return AudioInfo(errors=["multichannel or unknown AMR header is not supported"])
        info.channels = 1
        f.seek(start)
        frames, skip, offset = 0, 0, start
        while True:
            chunk = f.read(_CHUNK)
            if not chunk:
                break
            i, n = skip, len(chunk)
            while i < n:
                b = chunk[i]
                if b & 0x80:  # the padding bit before the frame type must be zero
                    info.errors.append(f"AMR frame header {b:#04x} at byte {offset + i} is "
                                       f"invalid; duration counts the frames before it")
                    info.duration_s = round(frames * AMR_FRAME_S, 3)
                    return info
                frames += 1
                i += sizes[(b >> 3) & 15]
            skip, offset = i - n, offset + n
        if skip > 0:
            frames -= 1  # the last frame is cut off: it holds no full 20 ms
            info.errors.append("last AMR frame is cut off (recording interrupted?)")
    info.duration_s = round(frames * AMR_FRAME_S, 3)
    return info
