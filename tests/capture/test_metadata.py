"""extract(): the child process with time and memory limits; extract_inline() contracts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from capture.metadata import extract, extract_inline
from capture.model import Gps, Metadata


@pytest.mark.parametrize("kind", ["jpeg", "heic", "png", "webp", "tiff", "amr", "wav",
                                  "mp4-hand", "mp4", "mov", "ff-m4a", "ff-opus"])
def test_child_process_gives_the_same_result(samples: dict[str, Path], kind: str) -> None:
    """extract() in a limited child returns exactly what extract_inline() returns."""
    if kind not in samples:
        pytest.skip("ffmpeg is not installed (CI installs it)")
    media_type = kind.removeprefix("ff-").removesuffix("-hand")
    assert extract(samples[kind], media_type) == extract_inline(samples[kind], media_type)


def _fake(mode: str) -> list[str]:
    return [sys.executable, "-m", "tests.capture.fake_worker", mode]


def test_fifo_neither_hangs_nor_parses(tmp_path: Path) -> None:
    """A FIFO (a parser waiting for bytes that never come) is opened without blocking and
    refused by the readers as unseekable: an error entry within the timeout, no hang."""
    fifo = tmp_path / "hang.jpg"
    os.mkfifo(fifo)
    start = time.monotonic()
    md = extract(fifo, "jpeg", timeout_s=1.0)
    assert time.monotonic() - start < 5
    assert md.errors and all("not seekable" in e for e in md.errors), md.errors
    assert md.media_type == "jpeg" and md.taken_at is None


def test_hanging_worker_is_killed(samples: dict[str, Path]) -> None:
    """A worker that never answers is killed and reported as timed out."""
    start = time.monotonic()
    md = extract(samples["jpeg"], "jpeg", timeout_s=0.5, command=_fake("hang"))
    assert time.monotonic() - start < 5
    assert md.errors == ["metadata unreadable: timed out after 0.5 s"]


@pytest.mark.parametrize("memory_mb", [4, 32])
def test_memory_limit_is_enforced(samples: dict[str, Path], memory_mb: int) -> None:
    """Under a too-small address-space cap the worker reports the limit, never a result."""
    md = extract(samples["jpeg"], "jpeg", memory_mb=memory_mb)
    assert md.taken_at is None and len(md.errors) == 1
    assert md.errors[0].startswith("metadata unreadable: the parser")
    assert f"{memory_mb} MB memory limit" in md.errors[0]


def test_reader_out_of_memory_inline(samples: dict[str, Path],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader hitting MemoryError is named; the other reader still answers."""
    from capture import exif

    def hog(path: Path, media_type: str) -> exif.ExifView:
        raise MemoryError

    monkeypatch.setattr(exif, "read_pillow", hog)
    md = extract_inline(samples["jpeg"], "jpeg")
    assert "pillow ran out of memory" in md.errors and md.make == "Apple"


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("crash", "metadata unreadable: the parser crashed (SIGSEGV)"),
        ("garbage", "metadata unreadable: the parser returned an invalid result"),
        ("naive", "metadata unreadable: the parser returned an invalid result"),
        ("huge", "metadata unreadable: the parser returned an oversized result"),
        ("exit1", "metadata unreadable: the parser exited without a result (exit code 1): "
                  "Traceback: something broke"),
    ],
)
def test_misbehaving_worker(samples: dict[str, Path], mode: str, error: str) -> None:
    """Crashes, junk, naive times and floods from the child become one error entry."""
    md = extract(samples["jpeg"], "jpeg", command=_fake(mode))
    assert len(md.errors) == 1 and md.errors[0].startswith(error), md.errors
    assert md.media_type == "jpeg" and md.taken_at is None


def test_child_does_not_inherit_secrets(samples: dict[str, Path],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The parser child runs without the web process's secrets in its environment."""
    monkeypatch.setenv("TELEGRAM_TOKEN", "123:secret")
    assert extract(samples["jpeg"], "jpeg", command=_fake("env")).make == "absent"


def test_worker_command_line(samples: dict[str, Path]) -> None:
    """python -m capture.extract_worker prints the metadata as JSON (for scripts)."""
    out = subprocess.run([sys.executable, "-m", "capture.extract_worker",
                          str(samples["jpeg"]), "jpeg"], capture_output=True, text=True,
                         check=True, timeout=30)
    assert json.loads(out.stdout)["taken_at"] == "2024-03-05T10:11:12+08:00"


def test_missing_file_is_an_error_entry(tmp_path: Path) -> None:
    """A path that does not exist is reported, not raised, in both modes."""
    missing = tmp_path / "nope.jpg"
    for md in (extract_inline(missing, "jpeg"), extract(missing, "jpeg")):
        assert md.errors and "FileNotFoundError" in " ".join(md.errors)


def test_unknown_media_type_is_an_error_entry(samples: dict[str, Path]) -> None:
    """A media type without a reader is reported."""
    md = extract_inline(samples["jpeg"], "gif")
    assert md.errors == ["no metadata reader for media type 'gif'"]


def test_pdf_has_no_capture_metadata(samples: dict[str, Path]) -> None:
    """Documents are accepted with no capture metadata and no errors."""
    md = extract_inline(samples["pdf"], "pdf")
    assert not md.has_capture_metadata and md.errors == []


def test_json_round_trip(samples: dict[str, Path]) -> None:
    """to_dict/from_dict keep every field, the aware datetime included."""
    md = extract_inline(samples["jpeg"], "jpeg")
    d = md.to_dict()
    assert d["taken_at"] == "2024-03-05T10:11:12+08:00"
    assert Metadata.from_dict(d) == md


@pytest.mark.parametrize(
    "payload",
    [[], {"media_type": 3}, {"media_type": "jpeg", "taken_at": "2024-03-05T10:11:12"},
     {"media_type": "jpeg", "gps": {"lat": "x"}}, {"media_type": "jpeg", "gps": [1, 2]}],
)
def test_from_dict_rejects_bad_payloads(payload: object) -> None:
    """The parent validates what the sandboxed child sends (naive times, wrong types)."""
    with pytest.raises(ValueError):
        Metadata.from_dict(payload)  # type: ignore[arg-type]


def test_from_dict_drops_wrong_types_and_clips_text() -> None:
    """Fields of the wrong type are dropped; long or unprintable text is clipped."""
    md = Metadata.from_dict({
        "media_type": "jpeg", "make": "A" * 5000, "model": "X\x00\x1bY", "width": "64",
        "duration_s": float("nan"), "errors": ["e", 5, None], "readers": {"p": 1, "q": "ok"},
        "gps": {"lat": 1.0, "lon": 2.0, "altitude": True},
    })
    assert md.make == "A" * 256 and md.model == "XY" and md.width is None
    assert md.duration_s is None and md.errors == ["e"] and md.readers == {"q": "ok"}
    assert md.gps == Gps(1.0, 2.0, None, None, "")
