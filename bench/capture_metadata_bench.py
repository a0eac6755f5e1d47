"""Benchmark capture metadata extraction: in-process, the warm sandboxed parser pool
(capture.pool, what extract() uses), a one-shot child process per file (the former way), and
exiftool.

Builds about 50 sample files per type in a temporary directory, then measures the time per
file of each reader on the same files: the mean in-process, the median and 95th percentile
through the pool (target for a photo: median under 10 ms), the mean of a one-shot child on
the first 5 files. Prints a table and, last, one JSON line.

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

from capture.metadata import extract_inline  # noqa: E402
from capture.pool import ParserPool  # noqa: E402
from capture.sandbox import run_in_child  # noqa: E402
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


def _times_ms(fn: Callable[[Path], object], paths: list[Path]) -> list[float]:
    times = []
    for p in paths:
        start = time.perf_counter()
        fn(p)
        times.append((time.perf_counter() - start) * 1000)
    return times


def _mean_ms(fn: Callable[[Path], object], paths: list[Path]) -> float:
    return statistics.fmean(_times_ms(fn, paths))


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
    with tempfile.TemporaryDirectory(prefix="capture-bench-") as tmp, \
            ParserPool(1, 100_000) as pool:
        assert pool.warm_up(), pool.stats
        sets = build(Path(tmp), args.n)
        for label, (media_type, paths) in sets.items():
            row: dict[str, float | int | None] = {"files": len(paths)}
            row["inline_ms"] = _mean_ms(lambda p, t=media_type: extract_inline(p, t), paths)
            pool.extract(paths[0], media_type)  # this type's code paths warm
            times = sorted(_times_ms(lambda p, t=media_type: pool.extract(p, t), paths))
            row["pool_median_ms"] = statistics.median(times)
            row["pool_p95_ms"] = times[min(len(times) - 1, int(0.95 * len(times)))]
            row["child_ms"] = _mean_ms(
                lambda p, t=media_type: run_in_child(p, t, timeout_s=30, memory_mb=512),
                paths[:5])
            row["exiftool_ms"] = _mean_ms(_exiftool_each(exiftool), paths) if exiftool else None
            row["exiftool_batch_ms"] = _exiftool_batch_ms(exiftool, paths) if exiftool else None
            bad = sum(bool(extract_inline(p, media_type).errors) for p in paths[:3])
            row["errors_in_first_3"] = bad
            results[label] = row
    header = (f"{'type':<22}{'files':>6}{'inline ms':>11}{'pool p50':>10}{'pool p95':>10}"
              f"{'child ms':>10}{'exiftool ms':>13}{'exiftool batch':>16}")
    print(header)
    print("-" * len(header))

    def fmt(v: float | int | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    for label, r in results.items():
        print(f"{label:<22}{r['files']:>6}{fmt(r['inline_ms']):>11}"
              f"{fmt(r['pool_median_ms']):>10}{fmt(r['pool_p95_ms']):>10}"
              f"{fmt(r['child_ms']):>10}{fmt(r['exiftool_ms']):>13}"
              f"{fmt(r['exiftool_batch_ms']):>16}")
    print("(pool: the warm sandboxed workers extract() uses, median and 95th percentile; child: "
          "a one-shot limited interpreter per file, the former way, first 5 files; exiftool: "
          "one process per file; batch: all files in one process)")
    jpeg = results["jpeg"]["pool_median_ms"]
    print(f"photo (jpeg) median through the pool: {jpeg:.2f} ms (target < 10 ms)")
    print(json.dumps({"bench": "capture_metadata", "n": args.n, "sandbox": pool.sandbox.kind,
                      "exiftool": exiftool is not None, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
