"""A warm pool of sandboxed parser workers (metadata and thumbnails), safe for threads.

Starting an interpreter and importing Pillow, pillow-heif, exifread and mutagen costs about
a quarter of a second; a warm worker reads a photo's metadata in a few milliseconds. Each
worker (capture.pool_worker) runs in the sandbox of capture.isolation with the limits the
one-shot child had: address space (``PARSER_MEMORY_MB``), CPU time per file, a wall-clock
timeout per file, no file writes, a clean environment; plus no network and no view of the
instance folder. Files are handed over as descriptors on a Unix socket.

A worker serves one request at a time. It is retired, and a new one started at once, after
``PARSER_RECYCLE_AFTER`` files, and after any crash, timeout or limit hit; the request that
hit it gets an error answer, every other request goes on in its own worker. ``close()`` (run
at exit for the shared pool) ends every worker and reaps it: no orphans, no zombies.

Settings (environment, read when the shared pool is first used): ``PARSER_POOL_SIZE``
(workers, default 2), ``PARSER_RECYCLE_AFTER`` (files per worker, default 200),
``PARSER_MEMORY_MB`` (default 512), ``PARSER_SANDBOX`` (see capture.isolation).
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from capture import isolation, wire
from capture.model import Metadata
from capture.source import Source

log = logging.getLogger("quancheng.capture.pool")

DEFAULT_SIZE = 2
DEFAULT_RECYCLE_AFTER = 200
DEFAULT_MEMORY_MB = 512
START_TIMEOUT_S = 60.0  # a cold start on a loaded 2-core machine, bwrap included
WAIT_TIMEOUT_S = 300.0  # the longest a request waits for a free worker
NPROC = 256  # processes and threads of the parser uid: enough for ffmpeg, not a fork bomb
_THUMB_LIMIT = 8 << 20
T = TypeVar("T")


class PoolError(RuntimeError):
    """A request could not be answered (timeout, crash, limit, no worker); the message says
    which, for the "metadata unreadable: ..." entry or the PreviewError."""

    def __init__(self, reason: str, *, limit_hit: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.limit_hit = limit_hit


def _env_int(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, not {value}")
    return value


@dataclass
class PoolStats:
    """Counters for tests and benchmarks."""

    started: int = 0
    served: int = 0
    recycled: int = 0
    crashed: int = 0
    timed_out: int = 0
    limit_hits: int = 0
    start_failures: int = 0


class _Worker:
    def __init__(self, proc: subprocess.Popen, sock: socket.socket, hello: dict):
        self.proc, self.sock, self.hello = proc, sock, hello
        self.served = 0

    @property
    def pid(self) -> int:
        return self.proc.pid


def _exit_reason(code: int | None, memory_mb: int, tail: str) -> str:
    if code is None:
        return "the parser stopped answering"
    if code < 0 or code >= 128:
        sig = -code if code < 0 else code - 128
        if sig == signal.SIGXCPU:
            return "the parser used too much CPU time"
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"the parser crashed ({name})"
    if code == 3:
        return f"the parser exceeded the {memory_mb} MB memory limit"
    if code == 4 or "MemoryError" in tail or "Cannot allocate memory" in tail:
        return f"the parsers could not be loaded within the {memory_mb} MB memory limit"
    return f"the parser exited without a result (exit code {code})" + (f": {tail}" if tail
                                                                        else "")


class ParserPool:
    """Warm sandboxed parser workers; see the module docstring."""

    def __init__(self, size: int = DEFAULT_SIZE, recycle_after: int = DEFAULT_RECYCLE_AFTER, *,
                 memory_mb: int = DEFAULT_MEMORY_MB, sandbox: str | None = None,
                 diagnostics: bool = False, start_timeout_s: float = START_TIMEOUT_S):
        if size < 1 or recycle_after < 1 or memory_mb < 1:
            raise ValueError("size, recycle_after and memory_mb must be positive")
        self.size, self.recycle_after, self.memory_mb = size, recycle_after, memory_mb
        self.diagnostics, self.start_timeout_s = diagnostics, start_timeout_s
        self._sandbox_setting = sandbox
        self.sandbox: isolation.Sandbox | None = None
        self.stats = PoolStats()
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._idle: collections.deque[_Worker] = collections.deque()
        self._busy: set[_Worker] = set()
        self._starting = 0
        self._retired: list[_Worker] = []
        self._closed = False
        self._start_error: str | None = None
        self._supervisor = threading.Thread(target=self._supervise, daemon=True,
                                            name="parser-pool")
        self._supervisor.start()

    # --- the supervisor thread: starts and reaps every worker ------------------------------
    # One long-lived thread starts them all: bwrap's --die-with-parent and the worker's
    # PR_SET_PDEATHSIG fire when the *thread* that started them ends, not only the process.

    def _wanted(self) -> int:
        return self.size - len(self._idle) - len(self._busy) - self._starting

    def _supervise(self) -> None:
        while True:
            try:
                self._supervise_loop()
                return
            except Exception:  # never leave the pool without its supervisor
                log.exception("parser pool supervisor failed; restarting it")
                with self._cond:
                    self._starting = 0
                time.sleep(1.0)

    def _supervise_loop(self) -> None:
        failures, next_try = 0, 0.0
        while True:
            with self._cond:
                while not self._closed and not self._retired:
                    wanted = self._wanted() > 0
                    if wanted and time.monotonic() >= next_try:
                        break
                    self._cond.wait(max(0.05, next_try - time.monotonic()) if wanted else None)
                retired, self._retired = self._retired, []
                closed = self._closed
                start = not closed and self._wanted() > 0 and time.monotonic() >= next_try
                if start:
                    self._starting += 1
            for w in retired:
                self._reap(w)
            if closed:
                return
            if not start:
                continue
            worker, error = self._start()
            with self._cond:
                self._starting -= 1
                if worker is not None and self._closed:
                    self._retired.append(worker)
                elif worker is not None:
                    self._idle.append(worker)
                    self._start_error, failures = None, 0
                else:
                    # Back off after a failed start (0.5 s, doubling, at most 30 s).
                    self._start_error, failures = error, failures + 1
                    next_try = time.monotonic() + min(30.0, 0.5 * 2 ** (failures - 1))
                    self.stats.start_failures += 1
                self._cond.notify_all()

    def _start(self) -> tuple[_Worker | None, str | None]:
        try:
            if self.sandbox is None:
                self.sandbox = isolation.detect(self._sandbox_setting)
        except (isolation.SandboxUnavailable, ValueError) as exc:
            return None, f"the parser sandbox is unavailable ({exc})"
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        argv = [sys.executable, "-s", "-B", "-E", "-m", "capture.pool_worker",
                "--sock", str(theirs.fileno()), "--memory-mb", str(self.memory_mb)]
        if self.sandbox.uid is not None:
            argv += ["--nproc", str(NPROC)]
        if self.diagnostics:
            argv.append("--diagnostics")
        argv, kwargs = self.sandbox.command(argv)
        try:
            proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, pass_fds=(theirs.fileno(),), start_new_session=True,
                **kwargs)
        except OSError as exc:
            ours.close()
            theirs.close()
            return None, f"could not start the parser process ({exc})"
        theirs.close()
        try:
            hello, _body, _fds = wire.receive(ours, deadline=time.monotonic() +
                                              self.start_timeout_s, max_body=0)
            if hello.get("ready") is not True:
                raise wire.WireError("the worker did not say ready")
        except (wire.WireError, ValueError) as exc:
            ours.close()
            # A worker that closed the socket is exiting: read its own exit code first.
            code = self._wait(proc, 5.0) if isinstance(exc, wire.PeerClosed) else None
            if code is None:
                self._kill(proc)
                self._wait(proc)
            tail = self._stderr_tail(proc)
            with contextlib.suppress(OSError):
                proc.stderr.close()
            reason = _exit_reason(code, self.memory_mb, tail) if code not in (None, 0) \
                else f"the parser process did not start ({exc})"
            log.warning("parser worker did not start: %s", reason)
            return None, reason
        # stderr stays a pipe the worker rarely writes to; drain it so it can never block.
        threading.Thread(target=self._drain, args=(proc,), daemon=True,
                         name="parser-stderr").start()
        self.stats.started += 1
        return _Worker(proc, ours, hello), None

    @staticmethod
    def _drain(proc: subprocess.Popen) -> None:
        tail = collections.deque(maxlen=20)
        with contextlib.suppress(OSError, ValueError):
            for line in proc.stderr:
                tail.append(line)
        proc._qc_tail = b"".join(tail)  # type: ignore[attr-defined]
        with contextlib.suppress(OSError):
            proc.stderr.close()

    @staticmethod
    def _stderr_tail(proc: subprocess.Popen) -> str:
        raw = getattr(proc, "_qc_tail", None)
        if raw is None and proc.stderr is not None:
            with contextlib.suppress(OSError, ValueError):
                raw = proc.stderr.read(65536)
        lines = (raw or b"").decode("utf-8", "replace").strip().splitlines()
        return lines[-1][:200] if lines else ""

    @staticmethod
    def _kill(proc: subprocess.Popen) -> None:
        # The worker leads its own session: the group takes ffmpeg (without bwrap) with it;
        # with bwrap, killing bwrap ends the sandbox's PID namespace and all in it.
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            proc.kill()

    @staticmethod
    def _wait(proc: subprocess.Popen, timeout: float = 10.0) -> int | None:
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def _reap(self, w: _Worker) -> None:
        """End a retired worker: EOF first (it exits by itself), then SIGKILL; always wait."""
        with contextlib.suppress(OSError):
            w.sock.close()
        if self._wait(w.proc, 2.0) is None:
            self._kill(w.proc)
            self._wait(w.proc, 10.0)

    # --- requests ------------------------------------------------------------------------

    def _acquire(self, deadline: float) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise PoolError("the parser pool is closed")
                if self._idle:
                    w = self._idle.popleft()
                    self._busy.add(w)
                    return w
                if self._start_error and not self._starting and self._wanted() >= self.size:
                    raise PoolError(self._start_error)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise PoolError("no parser worker became free in time")
                self._cond.notify_all()
                self._cond.wait(min(left, 1.0))

    def _release(self, w: _Worker, *, retire: bool) -> None:
        with self._cond:
            self._busy.discard(w)
            if retire or self._closed:
                self._retired.append(w)
                if not self._closed:
                    self.stats.recycled += 1
            else:
                self._idle.append(w)
            self._cond.notify_all()

    def request(self, op: str, source: Source | None, *, timeout_s: float, max_body: int,
                cpu_s: float | None = None, **fields: Any) -> tuple[dict, bytes]:
        """One request on a free worker, the file passed as a descriptor; PoolError when it
        cannot be answered. A worker that crashed, hung or hit a limit is replaced. The CPU
        time the file may use is ``cpu_s``, by default the timeout."""
        if os.getpid() != self._pid:
            raise PoolError("the parser pool belongs to another process (forked)")
        fd, own = self._open(source)
        try:
            for attempt in range(2):
                w = self._acquire(time.monotonic() + WAIT_TIMEOUT_S)
                try:
                    wire.send(w.sock, {"op": op, "cpu_s": cpu_s or timeout_s,
                                       "timeout_s": timeout_s, **fields},
                              fds=(fd,) if fd is not None else ())
                except OSError:
                    # It died while idle (before this file reached it): not this file's fault.
                    self._release(w, retire=True)
                    self.stats.crashed += 1
                    if attempt == 0:
                        continue
                    raise PoolError("the parser process failed") from None
                return self._answer(w, timeout_s, max_body)
            raise PoolError("the parser process failed")  # pragma: no cover - loop returns
        finally:
            if own and fd is not None:
                os.close(fd)

    def _answer(self, w: _Worker, timeout_s: float, max_body: int) -> tuple[dict, bytes]:
        try:
            header, body, _ = wire.receive(w.sock, deadline=time.monotonic() + timeout_s,
                                           max_body=max_body)
        except wire.Timeout:
            self._kill(w.proc)
            self._release(w, retire=True)
            self.stats.timed_out += 1
            raise PoolError(f"timed out after {timeout_s:g} s", limit_hit=True) from None
        except (wire.WireError, ValueError) as exc:
            # Crashed (EOF) or sent junk: either way this worker is done.
            if not isinstance(exc, wire.PeerClosed):
                self._kill(w.proc)
            code = self._wait(w.proc, 5.0)
            if code is None:
                self._kill(w.proc)
            self._release(w, retire=True)
            self.stats.crashed += 1
            if isinstance(exc, wire.PeerClosed):
                raise PoolError(_exit_reason(code, self.memory_mb, ""), limit_hit=True
                                ) from None
            raise PoolError(f"the parser returned an invalid result ({exc})") from None
        w.served += 1
        self.stats.served += 1
        recycle = header.get("recycle") is True or w.served >= self.recycle_after
        if header.get("memory") is True:
            self.stats.limit_hits += 1
        self._release(w, retire=recycle)
        return header, body

    @staticmethod
    def _open(source: Source | None) -> tuple[int | None, bool]:
        if source is None:
            return None, False
        if isinstance(source, int):
            return source, False
        # O_NONBLOCK so that opening a FIFO cannot hang this thread; cleared at once, so the
        # worker's reads block (and the timeout deals with a FIFO nobody writes).
        fd = os.open(os.fspath(source), os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        os.set_blocking(fd, True)
        return fd, True

    # --- the operations --------------------------------------------------------------------

    def extract(self, source: Source, media_type: str, *, timeout_s: float = 10.0) -> Metadata:
        """Capture metadata of one file; never raises (problems go to ``errors``)."""
        try:
            header, _ = self.request("metadata", source, timeout_s=timeout_s, max_body=0,
                                     media_type=media_type)
        except PoolError as exc:
            return _failed(media_type, exc.reason)
        except OSError as exc:
            return _failed(media_type, f"the file cannot be opened ({type(exc).__name__}: "
                                       f"{exc.strerror or exc})")
        if header.get("ok") is not True:
            return _failed(media_type, str(header.get("error"))[:200])
        try:
            md = Metadata.from_dict(header.get("metadata"))  # type: ignore[arg-type]
        except (ValueError, TypeError) as exc:
            return _failed(media_type, f"the parser returned an invalid result ({exc})")
        if md.media_type != media_type:
            return _failed(media_type, "the parser returned an invalid result (wrong media type)")
        return md

    def thumbnail(self, source: Source, media_type: str, *, max_px: int = 512,
                  timeout_s: float = 20.0):
        """A Thumbnail of an image or video; PreviewError on any failure."""
        from capture.preview import PreviewError, Thumbnail

        try:
            header, body = self.request("thumbnail", source, timeout_s=timeout_s,
                                        max_body=_THUMB_LIMIT, media_type=media_type,
                                        max_px=max_px)
        except PoolError as exc:
            raise PreviewError(exc.reason) from None
        except OSError as exc:
            raise PreviewError(f"the file cannot be opened ({type(exc).__name__})") from None
        if header.get("ok") is not True:
            raise PreviewError(str(header.get("error"))[:300])
        width, height = header.get("width"), header.get("height")
        if not (isinstance(width, int) and isinstance(height, int)
                and 0 < width <= max_px and 0 < height <= max_px) or body[:3] != b"\xff\xd8\xff":
            raise PreviewError("the renderer returned an invalid result")
        return Thumbnail(body, width, height)

    def signature_image(self, source: Source, *, max_side: int, max_pixels: int,
                        timeout_s: float = 10.0):
        """A drawable SignatureImage of a signature, seal or witness image; SignatureImageError
        on any failure. The answer is checked: a PNG within BOX and OUTPUT_LIMIT."""
        from capture.signature_image import (
            BOX,
            OUTPUT_LIMIT,
            SignatureImage,
            SignatureImageError,
        )

        try:
            header, body = self.request("signature_image", source, timeout_s=timeout_s,
                                        max_body=OUTPUT_LIMIT, max_side=max_side,
                                        max_pixels=max_pixels)
        except PoolError as exc:
            raise SignatureImageError(exc.reason) from None
        except OSError as exc:
            raise SignatureImageError(f"the file cannot be opened ({type(exc).__name__})"
                                      ) from None
        if header.get("ok") is not True:
            raise SignatureImageError(str(header.get("error"))[:300])
        width, height = header.get("width"), header.get("height")
        if not (isinstance(width, int) and isinstance(height, int) and 0 < width <= BOX[0]
                and 0 < height <= BOX[1]) or body[:8] != b"\x89PNG\r\n\x1a\n":
            raise SignatureImageError("the renderer returned an invalid result")
        return SignatureImage(body, width, height)

    def call(self, op: str, *, timeout_s: float = 10.0, cpu_s: float | None = None,
             **fields: Any) -> dict:
        """A request without a file (diagnostics pools only: probe, misbehave)."""
        header, _ = self.request(op, None, timeout_s=timeout_s, max_body=0, cpu_s=cpu_s,
                                 **fields)
        return header

    # --- life ------------------------------------------------------------------------------

    def warm_up(self, timeout_s: float = START_TIMEOUT_S) -> bool:
        """Wait until every worker has started; False on timeout or a failed start."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while len(self._idle) + len(self._busy) < self.size:
                left = deadline - time.monotonic()
                if left <= 0 or (self._start_error and not self._starting):
                    return False
                self._cond.wait(min(left, 0.5))
        return True

    def worker_pids(self) -> list[int]:
        """Pids of the started worker processes (bwrap's, when sandboxed)."""
        with self._cond:
            return [w.pid for w in (*self._idle, *self._busy)]

    def close(self, timeout_s: float = 10.0) -> None:
        """End and reap every worker; requests in flight get an error answer."""
        if os.getpid() != self._pid:
            return  # a forked child must not end its parent's workers
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._retired.extend(self._idle)
            self._idle.clear()
            busy = list(self._busy)
            self._cond.notify_all()
        for w in busy:
            self._kill(w.proc)
        self._supervisor.join(timeout_s)
        with self._cond:
            left, self._retired = [*self._retired, *busy], []
        for w in left:  # what the supervisor did not reap (busy ones, a late start)
            with contextlib.suppress(OSError):
                w.sock.close()
            if self._wait(w.proc, 0.5) is None:
                self._kill(w.proc)
                self._wait(w.proc, timeout_s)

    def __enter__(self) -> ParserPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _failed(media_type: str, reason: str) -> Metadata:
    return Metadata(media_type=media_type, errors=[f"metadata unreadable: {reason}"])


# --- the shared pool ---------------------------------------------------------------------

_shared: ParserPool | None = None
_shared_lock = threading.Lock()


def settings_from_env() -> dict[str, Any]:
    """The PARSER_* settings, checked: ValueError naming the setting when one is malformed
    (core.bootstrap calls this at start, so a bad value stops the start, not an upload)."""
    sandbox = (os.environ.get("PARSER_SANDBOX") or "auto").strip().lower()
    if sandbox not in ("auto", "bwrap", "none"):
        raise ValueError(f"PARSER_SANDBOX must be auto, bwrap or none, not {sandbox!r}")
    return {"size": _env_int("PARSER_POOL_SIZE", DEFAULT_SIZE, 1, 64),
            "recycle_after": _env_int("PARSER_RECYCLE_AFTER", DEFAULT_RECYCLE_AFTER, 1,
                                      1_000_000),
            "memory_mb": _env_int("PARSER_MEMORY_MB", DEFAULT_MEMORY_MB, 64, 1 << 16),
            "sandbox": sandbox}


def shared_pool() -> ParserPool:
    """The process's pool, started on first use from the PARSER_* settings; closed at exit."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared._closed:
            _shared = ParserPool(**settings_from_env())
        return _shared


def shutdown() -> None:
    """Close the shared pool (at exit; tests)."""
    global _shared
    with _shared_lock:
        pool, _shared = _shared, None
    if pool is not None:
        pool.close()


def _after_fork_in_child() -> None:
    # The parent's workers are not ours: forget them without touching them.
    global _shared, _shared_lock
    _shared, _shared_lock = None, threading.Lock()


atexit.register(shutdown)
os.register_at_fork(after_in_child=_after_fork_in_child)


def run_with_pool(fn: Callable[[ParserPool], T], memory_mb: int | None = None) -> T:
    """``fn`` on the shared pool, or on a one-off worker when ``memory_mb`` differs from it."""
    pool = shared_pool()
    if memory_mb is None or memory_mb == pool.memory_mb:
        return fn(pool)
    with ParserPool(1, 1, memory_mb=memory_mb, sandbox=pool._sandbox_setting) as single:
        return fn(single)
