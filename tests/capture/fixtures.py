"""Sample media built once per test session in a temporary directory.

Every capture test gets them through tests/capture/conftest.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.capture import media

IMAGE_KINDS = ("jpeg", "heic", "png", "webp", "tiff")
FFMPEG_AUDIO = ("m4a", "mp3", "opus", "ogg", "aac", "wav")
CREATED = datetime(2024, 3, 5, 2, 11, 12, tzinfo=UTC)


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory that lives for the session."""
    return tmp_path_factory.mktemp("capture-media")


@pytest.fixture(scope="session")
def samples(sample_dir: Path) -> dict[str, Path]:
    """One valid file per accepted type (ffmpeg-made types only when ffmpeg is present)."""
    out: dict[str, Path] = {}
    for kind in IMAGE_KINDS:
        out[kind] = media.write_image(sample_dir, kind)
    out["amr"] = media.write_amr(sample_dir)
    out["amr-wb"] = media.write_amr(sample_dir, frames=100, wb=True)
    out["wav"] = media.write_wav(sample_dir)
    out["pdf"] = sample_dir / "doc.pdf"
    out["pdf"].write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    hand = sample_dir / "hand.mp4"
    hand.write_bytes(media.movie_bytes(created=CREATED, udta=[media.xyz(media.ISO6709)]))
    out["mp4-hand"] = hand
    if media.FFMPEG:
        stamp = {"creation_time": "2024-03-05T02:11:12Z"}
        out["mp4"] = media.ffmpeg_movie(sample_dir, "mp4",
                                        metadata={**stamp, "location": media.ISO6709})
        out["mov"] = media.ffmpeg_movie(sample_dir, "mov", metadata={
            **stamp, "location": media.ISO6709, "make": "Xiaomi", "model": "MI 9"})
        out["3gp"] = media.ffmpeg_movie(sample_dir, "3gp",
                                        metadata={**stamp, "location": media.ISO6709})
        for kind in FFMPEG_AUDIO:
            out[f"ff-{kind}"] = media.ffmpeg_audio(sample_dir, kind)
    return out
