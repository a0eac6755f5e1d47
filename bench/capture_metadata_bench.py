"""Benchmark capture metadata extraction: extract_inline, extract (child process), exiftool.

Builds about 50 sample files per type in a temporary directory, then measures the mean
time per file of each reader on the same files. Prints a table and, last, one JSON line.

    .venv/bin/python bench/capture_metadata_bench.py [--n 50] [--no-exiftool]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from capture.metadata import extract, extract_inline  # noqa: E402
from tests.capture import media  # noqa: E402

LARGE_MDAT = 256 << 20  # a sparse 256 MB mdat: the walker must seek past it, not read it


def _photo(i: int) -> media.Photo:
    return media.Photo(lat=29.3 + i * 1e-4, lon=113.1 + i * 1e-4, width=640, height=480,
                       taken=f"2024:03:05 10:{i % 60:02d}:12")


def _copies(first: Path, n: int) -> list[Path]:
    out = [first]
    for i in range(1, n):
        p = first.with_name(f"{first.stem}-{i}{first.suffix}")
        shutil.copyfile(first, p)
        out.append(p)
    return out


def _large_movie(directory: Path) -> Path:
    """ftyp, a sparse 256 MB mdat, then moov with a location: like a long phone video."""
    path = directory / "large.mp4"
    small = media.movie_bytes(created=None, udta=[media.xyz(media.ISO6709)])
    moov_at = small.index(b"moov") - 4
    with open(path, "wb") as f:
        f.write(small[:moov_at - 24])  # ftyp
        f.write((LARGE_MDAT + 8).to_bytes(4, "big") + b"mdat")
        f.seek(LARGE_MDAT, 1)
        f.write(small[moov_at:])
    return path


def build(directory: Path, n: int) -> dict[str, tuple[str, list[Path]]]:
    """Sample files by label: (media type, paths)."""
    sets: dict[str, tuple[str, list[Path]]] = {}
    for kind in ("jpeg", "heic", "png", "webp", "tiff"):
        d = directory / kind
        d.mkdir()
        sets[kind] = (kind, [media.write_image(d, kind, _photo(i), f"p{i}.{media.SUFFIX[kind]}")
                             for i in range(n)])
    d = directory / "amr"
    d.mkdir()
    sets["amr"] = ("amr", _copies(media.write_amr(d, frames=3000), n))  # 60 s voice note
    d = directory / "mp4-large"
    d.mkdir()
    sets["mp4 (256 MB sparse)"] = ("mp4", _copies(_large_movie(d), n))
    if media.FFMPEG:
        meta = {"creation_time": "2024-03-05T02:11:12Z", "location": media.ISO6709}
        for kind in ("mp4", "mov", "3gp"):
            d = directory / kind
            d.mkdir()
            first = media.ffmpeg_movie(d, kind, metadata=meta, duration=3.0)
            sets[kind] = (kind, _copies(first, n))
        for kind in ("m4a", "mp3", "opus", "wav"):
            d = directory / kind
            d.mkdir()
            sets[kind] = (kind, _copies(media.ffmpeg_audio(d, kind, duration=10.0), n))
    return sets


def _mean_ms(fn: Callable[[Path], object], paths: list[Path]) -> float:
    times = []
    for p in paths:
        start = time.perf_counter()
        fn(p)
        times.append(time.perf_counter() - start)
    return statistics.fmean(times) * 1000


def _exiftool_each(exiftool: str) -> Callable[[Path], object]:
    def run(p: Path) -> object:
        return subprocess.run([exiftool, "-j", "-n", str(p)], capture_output=True, check=False,
                              timeout=60)
    return run


def _exiftool_batch_ms(exiftool: str, paths: list[Path]) -> float:
    start = time.perf_counter()
    subprocess.run([exiftool, "-j", "-n", *map(str, paths)], capture_output=True, check=False,
                   timeout=600)
    return (time.perf_counter() - start) * 1000 / len(paths)


def main() -> int:
    """Build the samples, time every reader, print the table and a JSON line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50, help="files per type (default 50)")
    ap.add_argument("--no-exiftool", action="store_true", help="skip exiftool")
    args = ap.parse_args()
    exiftool = None if args.no_exiftool else shutil.which("exiftool")
    results: dict[str, dict[str, float | int | None]] = {}
    with tempfile.TemporaryDirectory(prefix="capture-bench-") as tmp:
        sets = build(Path(tmp), args.n)
        for label, (media_type, paths) in sets.items():
            row: dict[str, float | int | None] = {"files": len(paths)}
            row["inline_ms"] = _mean_ms(lambda p, t=media_type: extract_inline(p, t), paths)
            row["child_ms"] = _mean_ms(lambda p, t=media_type: extract(p, t), paths)
            row["exiftool_ms"] = _mean_ms(_exiftool_each(exiftool), paths) if exiftool else None
            row["exiftool_batch_ms"] = _exiftool_batch_ms(exiftool, paths) if exiftool else None
            bad = sum(bool(extract_inline(p, media_type).errors) for p in paths[:3])
            row["errors_in_first_3"] = bad
            results[label] = row
    header = (f"{'type':<22}{'files':>6}{'inline ms':>11}{'child ms':>10}"
              f"{'exiftool ms':>13}{'exiftool batch':>16}")
    print(header)
    print("-" * len(header))

    def fmt(v: float | int | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    for label, r in results.items():
        print(f"{label:<22}{r['files']:>6}{fmt(r['inline_ms']):>11}{fmt(r['child_ms']):>10}"
              f"{fmt(r['exiftool_ms']):>13}{fmt(r['exiftool_batch_ms']):>16}")
    print("(exiftool: one process per file, like extract(); batch: all files in one process)")
    print(json.dumps({"bench": "capture_metadata", "n": args.n,
                      "exiftool": exiftool is not None, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
