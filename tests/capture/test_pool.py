"""The warm sandboxed parser pool: answers, recycling, containment, threads, shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from capture import pool as pool_mod
from capture.metadata import extract_inline
from capture.pool import ParserPool, PoolError
from capture.preview import PreviewError
from tests.capture import media

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def diag():
    """A two-worker pool whose workers also answer the diagnostic requests."""
    with ParserPool(2, 50, diagnostics=True) as p:
        assert p.warm_up(), p.stats
        yield p


def _alive(pid: int) -> bool:
    """True while a process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _zombie_children(seconds: float = 5.0) -> list[int]:
    """This process's children that exited but were not waited for (after a grace period
    for the pool's supervisor to reap them)."""
    deadline = time.monotonic() + seconds
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if fields[0] == "Z" and int(fields[1]) == os.getpid():
                    found.append(int(entry.name))
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc), zombies included."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    out, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        out |= frontier
    return out


def _wait_gone(pids, seconds: float = 10.0, *, reaped: bool = True) -> list[int]:
    """The pids still there after ``seconds``: for our own children a zombie counts (it must
    have been waited for); for another process's orphans only a running process does."""
    def there(pid: int) -> bool:
        return Path(f"/proc/{pid}").exists() if reaped else _alive(pid)

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [p for p in pids if there(p)]
        if not left:
            return []
        time.sleep(0.05)
    return [p for p in pids if there(p)]


@pytest.mark.parametrize("kind", ["jpeg", "heic", "png", "webp", "tiff", "amr", "wav",
                                  "mp4-hand", "mp4", "mov", "3gp", "ff-m4a", "ff-mp3",
                                  "ff-opus", "ff-ogg", "ff-aac"])
def test_pool_gives_the_inline_result(diag: ParserPool, samples: dict[str, Path],
                                      kind: str) -> None:
    """A warm worker, handed the file as a descriptor, answers exactly what extract_inline
    answers in this process, for every accepted type."""
    if kind not in samples:
        pytest.skip("ffmpeg is not installed (CI installs it)")
    media_type = kind.removeprefix("ff-").removesuffix("-hand")
    assert diag.extract(samples[kind], media_type) == extract_inline(samples[kind], media_type)


def test_warm_worker_is_fast(samples: dict[str, Path]) -> None:
    """Once warm, reading a photo's metadata takes milliseconds, not an interpreter start;
    the worker is reused (same pid) until its recycle count."""
    with ParserPool(1, 1000) as p:
        assert p.warm_up()
        pid = p.worker_pids()
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            assert not p.extract(samples["jpeg"], "jpeg").errors
            times.append(time.perf_counter() - t0)
        assert p.worker_pids() == pid and p.stats.started == 1
    times.sort()
    assert times[len(times) // 2] < 0.1, times  # ~5 ms here; 250 ms was the one-shot child


def test_worker_recycled_after_n_files(samples: dict[str, Path]) -> None:
    """After PARSER_RECYCLE_AFTER files a worker is retired and a fresh one takes over."""
    with ParserPool(1, 3) as p:
        assert p.warm_up()
        first = p.worker_pids()
        for _ in range(3):
            assert p.extract(samples["jpeg"], "jpeg").taken_at is not None
        assert p.warm_up()
        second = p.worker_pids()
        assert second != first and p.stats.recycled == 1 and p.stats.started == 2
        assert _wait_gone(first) == []
        assert p.extract(samples["jpeg"], "jpeg").taken_at is not None


@pytest.mark.parametrize(("how", "timeout", "cpu", "reason"), [
    ("crash", 10, None, "the parser crashed (SIGSEGV)"),
    ("hang", 1, None, "timed out after 1 s"),
    ("spin", 30, 1, "the parser used too much CPU time"),
    ("exit", 10, None, "the parser exited without a result (exit code 7)"),
])
def test_misbehaving_worker_is_replaced(diag: ParserPool, samples: dict[str, Path], how: str,
                                        timeout: float, cpu: float | None, reason: str) -> None:
    """A worker that crashes, hangs, burns CPU past its per-file limit or exits is ended,
    the request gets the reason, and a new worker is started at once."""
    assert diag.warm_up()
    before = set(diag.worker_pids())
    with pytest.raises(PoolError) as err:
        diag.call("misbehave", how=how, timeout_s=timeout, cpu_s=cpu)
    assert err.value.reason == reason
    assert diag.warm_up(), diag.stats
    after = set(diag.worker_pids())
    assert len(after) == 2 and len(before - after) == 1
    assert _wait_gone(before - after) == []
    assert diag.extract(samples["jpeg"], "jpeg").taken_at is not None


def test_memory_hog_is_contained(diag: ParserPool, samples: dict[str, Path]) -> None:
    """Allocating without end stops at the address-space cap: the worker answers with the
    limit, asks to be replaced, and is."""
    assert diag.warm_up()
    before = set(diag.worker_pids())
    header = diag.call("misbehave", how="hog", timeout_s=30)
    assert header == {"ok": False, "memory": True, "recycle": True,
                      "error": "the parser exceeded the 512 MB memory limit"}
    assert diag.warm_up()
    assert len(before - set(diag.worker_pids())) == 1


def test_a_crash_never_fails_another_upload(diag: ParserPool, samples: dict[str, Path]) -> None:
    """While one worker crashes, hangs or runs out of memory, every other request still gets
    its right answer (they queue for the other worker and the replacement)."""
    expected = extract_inline(samples["jpeg"], "jpeg")
    assert diag.warm_up()
    bad = [("crash", 10), ("hang", 2), ("hog", 30), ("crash", 10)]

    def misbehave(item):
        try:
            return diag.call("misbehave", how=item[0], timeout_s=item[1])
        except PoolError as exc:
            return exc.reason

    with ThreadPoolExecutor(6) as ex:
        bad_f = [ex.submit(misbehave, b) for b in bad]
        good_f = [ex.submit(diag.extract, samples["jpeg"], "jpeg") for _ in range(40)]
        good = [f.result(120) for f in good_f]
        bad_r = [f.result(120) for f in bad_f]
    assert all(md == expected for md in good), [md.errors for md in good if md != expected]
    assert bad_r[0] == "the parser crashed (SIGSEGV)" and bad_r[1] == "timed out after 2 s"
    assert diag.warm_up() and _zombie_children() == []  # every ended worker was reaped


def test_many_threads_share_the_pool(samples: dict[str, Path]) -> None:
    """Eight threads, 80 files of three types, two workers recycled every 20 files: every
    answer is the right one for its own file."""
    kinds = ["jpeg", "png", "wav"]
    expected = {k: extract_inline(samples[k], k) for k in kinds}
    with ParserPool(2, 20) as p:
        with ThreadPoolExecutor(8) as ex:
            got = list(ex.map(lambda i: (kinds[i % 3], p.extract(samples[kinds[i % 3]],
                                                                 kinds[i % 3])), range(80)))
        assert all(md == expected[k] for k, md in got)
        assert p.stats.served == 80 and p.stats.recycled >= 3
        assert p.warm_up() and _zombie_children() == []


def test_missing_file_and_fifo(diag: ParserPool, tmp_path: Path) -> None:
    """A missing path is an error entry; a FIFO is neither waited for in this process nor
    left hanging in the worker (it cannot be read as a file)."""
    md = diag.extract(tmp_path / "nope.jpg", "jpeg")
    assert md.errors[0].startswith("metadata unreadable: the file cannot be opened "
                                   "(FileNotFoundError")
    fifo = tmp_path / "hang.jpg"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    md = diag.extract(fifo, "jpeg", timeout_s=2)
    assert time.monotonic() - t0 < 5 and md.taken_at is None and md.errors


def test_thumbnail_of_every_image_type(diag: ParserPool, samples: dict[str, Path]) -> None:
    """Images render in the pool to a JPEG within max_px, keeping the aspect ratio."""
    from PIL import Image

    for kind in ("jpeg", "heic", "png", "webp", "tiff"):
        thumb = diag.thumbnail(samples[kind], kind, max_px=32)
        with Image.open(__import__("io").BytesIO(thumb.data)) as im:
            assert im.format == "JPEG" and im.size == (thumb.width, thumb.height)
        assert (thumb.width, thumb.height) == (32, 24), kind  # 64x48 samples


def test_thumbnail_memory_bomb_is_contained(tmp_path: Path) -> None:
    """A real file that needs more memory than allowed (a 10,000 x 10,000 PNG, 300 MB of
    pixels, in a 256 MB worker) fails with the limit named, and the worker is replaced."""
    from PIL import Image

    path = tmp_path / "big.png"
    Image.new("RGB", (10_000, 10_000)).save(path, optimize=False, compress_level=1)
    with ParserPool(1, 100, memory_mb=256) as p:
        assert p.warm_up()
        first = p.worker_pids()
        with pytest.raises(PreviewError, match="exceeded the 256 MB memory limit"):
            p.thumbnail(path, "png")
        assert p.warm_up() and p.worker_pids() != first and p.stats.limit_hits == 1
        assert p.extract(path, "png").width == 10_000  # metadata needs no pixels


@media.needs_ffmpeg
@pytest.mark.parametrize("faststart", [False, True])
def test_video_thumbnail(diag: ParserPool, tmp_path: Path, faststart: bool) -> None:
    """A video's first frame renders through ffmpeg inside the worker, from a descriptor,
    whether the index comes after the media data (ffmpeg's and most phones' default) or
    before it; it matches what ffmpeg makes of the file itself."""
    from PIL import Image, ImageChops, ImageStat

    path = tmp_path / f"v{int(faststart)}.mp4"
    args = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=2", "-f", "lavfi",
            "-i", "sine=frequency=440:sample_rate=8000:duration=2", "-c:a", "aac",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast"]
    if faststart:
        args += ["-movflags", "+faststart"]
    media.ffmpeg(*args, str(path))
    data = path.read_bytes()
    assert (data.index(b"moov") < data.index(b"mdat")) == faststart
    thumb = diag.thumbnail(path, "mp4", max_px=160)
    assert (thumb.width, thumb.height) == (160, 120) and thumb.data[:3] == b"\xff\xd8\xff"
    ref = tmp_path / "ref.png"
    media.ffmpeg("-i", str(path), "-frames:v", "1", "-vf", "scale=160:120", str(ref))
    import io

    with Image.open(io.BytesIO(thumb.data)) as a, Image.open(ref) as b:
        diff = ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB")))
    assert max(diff.mean) < 8, diff.mean  # JPEG noise only


@media.needs_ffmpeg
def test_video_thumbnail_of_a_broken_video(diag: ParserPool, tmp_path: Path) -> None:
    """A video cut before its index, or one with junk in place of frames, is a clear
    PreviewError, and the worker stays usable."""
    from capture.preview import PreviewError

    path = media.ffmpeg_movie(tmp_path, "mp4", duration=1.0)
    data = path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[:data.index(b"moov") - 4])
    with pytest.raises(PreviewError, match="no 'moov' index"):
        diag.thumbnail(cut, "mp4")
    junk = tmp_path / "junk.mp4"
    at = data.index(b"mdat") + 4
    junk.write_bytes(data[:at] + os.urandom(len(data) - at - (len(data) - data.index(b"moov") + 4))
                     + data[data.index(b"moov") - 4:])
    with pytest.raises(PreviewError):
        diag.thumbnail(junk, "mp4", timeout_s=10)
    assert diag.thumbnail(path, "mp4", max_px=32).width == 32


def test_close_reaps_every_worker(samples: dict[str, Path]) -> None:
    """close() ends every worker, idle or busy, and waits for each: nothing of the pool is
    left among this process's descendants, not even a zombie."""
    p = ParserPool(3, 100, diagnostics=True)
    assert p.warm_up()
    pids = p.worker_pids()
    assert set(pids) <= _descendants(os.getpid())
    busy = threading.Thread(target=lambda: pytest.raises(PoolError, p.call, "misbehave",
                                                         how="hang", timeout_s=60))
    busy.start()
    time.sleep(0.5)
    p.close()
    busy.join(10)
    assert not busy.is_alive()
    assert _wait_gone(pids) == []
    assert not set(pids) & _descendants(os.getpid())
    with pytest.raises(PoolError, match="closed"):
        p.request("metadata", samples["jpeg"], timeout_s=5, max_body=0, media_type="jpeg")


_CHILD = textwrap.dedent("""
    import os, sys, time
    from capture.metadata import extract
    from capture.pool import shared_pool
    md = extract(sys.argv[1], "jpeg")
    assert md.taken_at is not None, md.errors
    pool = shared_pool()
    assert pool.warm_up()
    print(" ".join(map(str, pool.worker_pids())), flush=True)
    if sys.argv[2] == "kill":
        os.kill(os.getpid(), 9)
""")


@pytest.mark.parametrize("how", ["exit", "kill"])
def test_no_orphans_when_the_process_ends(samples: dict[str, Path], how: str) -> None:
    """The shared pool's workers end with the process: at a normal exit (atexit closes the
    pool) and when the process is killed outright (bwrap --die-with-parent, PDEATHSIG)."""
    env = {**os.environ, "PARSER_POOL_SIZE": "2", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(samples["jpeg"]), how],
                         capture_output=True, text=True, timeout=120, env=env, cwd=ROOT,
                         check=False)
    assert out.returncode == (-signal.SIGKILL if how == "kill" else 0), out.stderr
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 2
    assert _wait_gone(pids, 15, reaped=False) == []


def test_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """PARSER_POOL_SIZE and PARSER_RECYCLE_AFTER must be whole numbers in range."""
    monkeypatch.setattr(pool_mod, "_shared", None)
    monkeypatch.setenv("PARSER_POOL_SIZE", "zero")
    with pytest.raises(ValueError, match="PARSER_POOL_SIZE must be a whole number"):
        pool_mod.shared_pool()
    monkeypatch.setenv("PARSER_POOL_SIZE", "2")
    monkeypatch.setenv("PARSER_RECYCLE_AFTER", "0")
    with pytest.raises(ValueError, match="PARSER_RECYCLE_AFTER must be between 1"):
        pool_mod.shared_pool()


def test_one_off_worker_for_another_memory_cap(samples: dict[str, Path]) -> None:
    """extract(memory_mb=...) other than the pool's runs a one-off worker with that cap."""
    from capture.metadata import extract

    md = extract(samples["jpeg"], "jpeg", memory_mb=768)
    assert md == extract_inline(samples["jpeg"], "jpeg")


@media.needs_ffmpeg
def test_video_thumbnail_follows_the_rotation(diag: ParserPool, tmp_path: Path) -> None:
    """A phone video held upright (a 90-degree display matrix in tkhd) gives an upright,
    portrait thumbnail, as the officer saw it."""
    import struct

    path = tmp_path / "upright.mp4"
    media.ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=1", "-c:v",
                 "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast", str(path))
    data = bytearray(path.read_bytes())
    at = data.index(b"tkhd") + 4
    matrix = at + 4 + (36 if data[at] == 1 else 20) + 16  # past times, ids, layer, volume
    assert struct.unpack_from(">9i", data, matrix)[::4] == (0x10000, 0x10000, 0x40000000)
    struct.pack_into(">9i", data, matrix, 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    path.write_bytes(bytes(data))
    thumb = diag.thumbnail(path, "mp4", max_px=160)
    assert (thumb.width, thumb.height) == (120, 160)
