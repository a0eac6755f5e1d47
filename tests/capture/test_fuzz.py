"""Fuzz sniff + extract_inline with mutated seed files of every type.

About 2,000 mutations in the default run; set QC_FUZZ_N to raise it (QC_FUZZ_N=50000).
Only UnsupportedType may escape sniff, nothing may escape extract_inline, and no call may
take longer than 2 s.
"""

from __future__ import annotations

import os
import random
import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from capture.metadata import extract_inline
from capture.sniff import UnsupportedType, sniff
from tests.capture import media
from tests.capture.test_isobmff import APPLE_ITEMS

FUZZ_N = int(os.environ.get("QC_FUZZ_N", "2000"))
MAX_CALL_S = 2.0
# Seed name -> media type handed to the parsers (whatever sniff says about the mutant).
SEEDS = {
    "jpeg": "jpeg", "heic": "heic", "png": "png", "webp": "webp", "tiff": "tiff",
    "amr": "amr", "amr-wb": "amr", "wav": "wav", "pdf": "pdf", "mp4-hand": "mp4",
    "mov-hand": "mov", "mp4": "mp4", "mov": "mov", "3gp": "3gp", "ff-m4a": "m4a",
    "ff-mp3": "mp3", "ff-opus": "opus", "ff-ogg": "ogg", "ff-aac": "aac",
}
_INTERESTING = (0, 1, 7, 8, 9, 16, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000)


def _flip_bits(rng: random.Random, data: bytearray) -> None:
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)


def _truncate(rng: random.Random, data: bytearray) -> None:
    if len(data) > 1:  # a one-byte mutant has nothing left to cut
        del data[rng.randrange(1, len(data)):]


def _insert(rng: random.Random, data: bytearray) -> None:
    at = rng.randrange(len(data) + 1)
    data[at:at] = rng.randbytes(rng.choice((1, 2, 4, 8, 64, 512)))


def _delete_slice(rng: random.Random, data: bytearray) -> None:
    at = rng.randrange(len(data))
    del data[at:at + rng.randint(1, 256)]


def _interesting_word(rng: random.Random, data: bytearray) -> None:
    if len(data) < 4:
        return
    at = rng.randrange(len(data) - 3)
    width = rng.choice((2, 4))
    value = rng.choice(_INTERESTING) & (0xFFFF if width == 2 else 0xFFFFFFFF)
    data[at:at + width] = value.to_bytes(width, rng.choice(("big", "little")))


def _box_offsets(data: bytes) -> list[int]:
    """Offsets of plausible box headers: a 4-letter type after a 32-bit size."""
    out = []
    for i in range(0, len(data) - 8):
        kind = data[i + 4:i + 8]
        if kind.isalpha() or kind[:1] == b"\xa9":
            (n,) = struct.unpack(">I", data[i:i + 4])
            if 8 <= n <= len(data) - i:
                out.append(i)
    return out


def _corrupt_box_size(rng: random.Random, data: bytearray) -> None:
    offsets = _box_offsets(bytes(data)) or [0]
    at = rng.choice(offsets)
    (n,) = struct.unpack(">I", data[at:at + 4]) if at + 4 <= len(data) else (0,)
    value = rng.choice((0, 1, 2, 7, n - 1, n + 1, n * 2, 0xFFFFFFFF, rng.randrange(1 << 32)))
    data[at:at + 4] = (value & 0xFFFFFFFF).to_bytes(4, "big")
    if value == 1 and rng.random() < 0.5:  # also fake a 64-bit largesize
        big = rng.choice((0, 16, 1 << 62, rng.randrange(1 << 64)))
        data[at + 8:at + 8] = big.to_bytes(8, "big")


MUTATORS: tuple[Callable[[random.Random, bytearray], None], ...] = (
    _flip_bits, _truncate, _insert, _delete_slice, _interesting_word, _corrupt_box_size,
)


def _mutate(rng: random.Random, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if not data:
            break
        rng.choice(MUTATORS)(rng, data)
    return bytes(data)


@pytest.fixture(scope="module")
def seeds(samples: dict[str, Path], sample_dir: Path) -> dict[str, bytes]:
    """Seed bytes of every available type (the ffmpeg-made ones when ffmpeg is present)."""
    mov = sample_dir / "hand.mov"
    mov.write_bytes(media.movie_bytes(
        brand=b"qt  ", audio_rate=44100,
        udta=[media.xyz(media.ISO6709), media.loci(media.LAT, media.LON, 43.5)],
        moov_extra=[media.apple_meta(APPLE_ITEMS)]))
    paths = {**samples, "mov-hand": mov}
    return {name: paths[name].read_bytes() for name in SEEDS if name in paths}


def test_fuzz_sniff_and_extract(seeds: dict[str, bytes], tmp_path: Path) -> None:
    """Mutated files never raise anything but UnsupportedType and never take over 2 s."""
    per_seed = max(1, FUZZ_N // len(seeds))
    target = tmp_path / "mutant"
    slowest = (0.0, "")
    counts = {"unsupported": 0, "parsed": 0, "with_errors": 0}
    for index, (name, seed) in enumerate(sorted(seeds.items())):
        rng = random.Random(f"{index}:{name}")
        for i in range(per_seed):
            data = _mutate(rng, seed)
            target.write_bytes(data)
            where = f"seed {name!r} iteration {i}"
            start = time.perf_counter()
            try:
                sniffed = sniff(target, f"x.{name}").media_type
            except UnsupportedType:
                counts["unsupported"] += 1
                sniffed = None
            except Exception as exc:  # pragma: no cover - the failure being hunted
                keep = tmp_path / f"crash-sniff-{name}-{i}"
                keep.write_bytes(data)
                raise AssertionError(f"sniff raised {exc!r} on {where} (saved {keep})") from exc
            for media_type in {SEEDS[name], sniffed} - {None}:
                try:
                    md = extract_inline(target, media_type)  # type: ignore[arg-type]
                except Exception as exc:  # pragma: no cover - the failure being hunted
                    keep = tmp_path / f"crash-extract-{name}-{i}"
                    keep.write_bytes(data)
                    raise AssertionError(
                        f"extract_inline raised {exc!r} on {where} (saved {keep})") from exc
                counts["parsed"] += 1
                counts["with_errors"] += bool(md.errors)
            took = time.perf_counter() - start
            assert took < MAX_CALL_S, f"{where} took {took:.2f} s"
            slowest = max(slowest, (took, where))
    assert counts["parsed"] >= per_seed * len(seeds) // 2, counts
    print(f"fuzz: {per_seed * len(seeds)} mutants, {counts}, slowest {slowest[0]:.3f} s "
          f"({slowest[1]})")


def test_fuzz_through_the_child_process(seeds: dict[str, bytes], tmp_path: Path) -> None:
    """A few mutants through extract(): the sandboxed path never raises either."""
    from capture.metadata import extract

    rng = random.Random("child")
    for name, seed in sorted(seeds.items()):
        path = tmp_path / f"mutant-{name}"
        path.write_bytes(_mutate(rng, seed))
        md = extract(path, SEEDS[name], timeout_s=5.0)
        assert md.media_type == SEEDS[name]
