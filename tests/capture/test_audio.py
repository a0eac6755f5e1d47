"""Audio: duration, codec and sample rate for M4A, AAC, MP3, Opus, Vorbis, WAV and AMR."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from capture.audio import read_amr
from capture.metadata import extract_inline
from tests.capture import media


def test_amr_nb_duration_from_frames(samples: dict[str, Path]) -> None:
    """150 AMR-NB 12.2k frames of 20 ms are 3.0 s at 8 kHz."""
    md = extract_inline(samples["amr"], "amr")
    assert (md.duration_s, md.codec, md.sample_rate) == (3.0, "amr-nb", 8000)
    assert md.readers == {"amr frames": "ok"} and md.errors == []


def test_amr_wb_duration_from_frames(samples: dict[str, Path]) -> None:
    """100 AMR-WB frames are 2.0 s at 16 kHz."""
    md = extract_inline(samples["amr-wb"], "amr")
    assert (md.duration_s, md.codec, md.sample_rate) == (2.0, "amr-wb", 16000)


def test_amr_mixed_frame_types(tmp_path: Path) -> None:
    """Frames of different sizes (12.2k, 4.75k, SID, NO_DATA) each count 20 ms."""
    data = bytearray(b"#!AMR\n")
    for ft in (7, 0, 8, 15, 7):
        data += media.amr_bytes(1, frame_type=ft)[6:]
    p = tmp_path / "mixed.amr"
    p.write_bytes(bytes(data))
    assert read_amr(p).duration_s == pytest.approx(0.1)


def test_amr_frames_span_read_chunks(tmp_path: Path) -> None:
    """A long recording (frames crossing 64 KB read boundaries) is counted exactly."""
    p = tmp_path / "long.amr"
    p.write_bytes(media.amr_bytes(15_000))  # 5 minutes, 480 KB
    assert read_amr(p).duration_s == 300.0


def test_amr_cut_off_last_frame(tmp_path: Path) -> None:
    """An interrupted recording: the partial last frame is not counted and is reported."""
    p = tmp_path / "cut.amr"
    p.write_bytes(media.amr_bytes(10)[:-5])
    info = read_amr(p)
    assert info.duration_s == 0.18
    assert any("cut off" in e for e in info.errors)


def test_amr_invalid_header_stops_counting(tmp_path: Path) -> None:
    """A frame header with the padding bit set ends the count with an error entry."""
    p = tmp_path / "bad.amr"
    p.write_bytes(media.amr_bytes(5) + b"\xff" + bytes(40))
    info = read_amr(p)
    assert info.duration_s == 0.1
    assert any("invalid" in e for e in info.errors)


@media.needs_ffmpeg
def test_amr_count_matches_ffprobe(samples: dict[str, Path]) -> None:
    """ffmpeg's own AMR demuxer counts the same number of packets as our frame counter."""
    out = subprocess.run(
        [media.FFPROBE or "ffprobe", "-v", "error", "-count_packets", "-select_streams", "a:0",
         "-show_entries", "stream=nb_read_packets,codec_name", "-of", "csv=p=0",
         str(samples["amr"])], capture_output=True, text=True, check=True, timeout=30)
    codec, packets = out.stdout.strip().split(",")
    assert codec == "amr_nb" and int(packets) == 150


@media.needs_ffmpeg
def test_ffmpeg_amr_when_the_encoder_exists(tmp_path: Path) -> None:
    """An AMR-NB file from ffmpeg's libopencore encoder (when built in) reads as 2.0 s."""
    encoders = subprocess.run([media.FFMPEG or "ffmpeg", "-hide_banner", "-encoders"],
                              capture_output=True, text=True, check=False, timeout=30).stdout
    if "libopencore_amrnb" not in encoders:
        pytest.skip("this ffmpeg has no libopencore_amrnb encoder; hand-built AMR is tested")
    path = tmp_path / "ff.amr"
    media.ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:duration=2",
                 "-c:a", "libopencore_amrnb", "-ar", "8000", "-ac", "1", str(path))
    md = extract_inline(path, "amr")
    assert md.duration_s == pytest.approx(2.0, abs=0.05) and md.codec == "amr-nb"


def test_wav_without_ffmpeg(samples: dict[str, Path]) -> None:
    """A WAV written by the standard library: duration, PCM, rate."""
    md = extract_inline(samples["wav"], "wav")
    assert (md.duration_s, md.codec, md.sample_rate) == (1.0, "pcm_16bit", 8000)


@media.needs_ffmpeg
@pytest.mark.parametrize(
    ("kind", "codec", "rate"),
    [("ff-m4a", "mp4a.40.2", 44100), ("ff-mp3", "mp3", 44100), ("ff-opus", "opus", 48000),
     ("ff-ogg", "vorbis", 44100), ("ff-aac", "aac", 44100), ("ff-wav", "pcm_16bit", 16000)],
)
def test_ffmpeg_audio(samples: dict[str, Path], kind: str, codec: str, rate: int) -> None:
    """A 1.5 s tone in each format reads as about 1.5 s with the right codec and rate."""
    media_type = kind.removeprefix("ff-")
    md = extract_inline(samples[kind], media_type)
    assert md.duration_s == pytest.approx(1.5, abs=0.1)
    assert (md.codec, md.sample_rate) == (codec, rate)
    assert md.errors == []


@media.needs_ffmpeg
def test_m4a_has_two_readers(samples: dict[str, Path]) -> None:
    """M4A duration comes from mvhd and is confirmed by mutagen."""
    md = extract_inline(samples["ff-m4a"], "m4a")
    assert md.readers == {"isobmff": "ok", "mutagen": "ok"}
    assert md.cross_check["duration_s"] == "agree"


def test_garbage_audio_is_an_error_not_an_exception(tmp_path: Path) -> None:
    """mutagen failing on a broken file becomes an error entry."""
    p = tmp_path / "broken.mp3"
    p.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 50)
    md = extract_inline(p, "mp3")
    assert md.duration_s is None
    assert md.readers["mutagen"] == "failed"
    assert any("mutagen could not read" in e for e in md.errors)
