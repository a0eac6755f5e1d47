"""A warm parser worker: limits itself, loads every parser once, then reads files it is handed.

Started by capture.pool inside the sandbox of capture.isolation:

    python -m capture.pool_worker --sock FD --memory-mb N [--nproc N] [--diagnostics]

It caps its address space, file writes and core dumps, lowers its priority, imports the
metadata readers and image decoders, installs the seccomp filter (no network sockets) and says
"ready". Each request carries one file as a descriptor; the CPU limit is re-armed per file.
It answers in JSON (plus the JPEG of a thumbnail, or the PNG of a signature image) and asks to
be recycled after a MemoryError.
It exits when the pool closes its socket, and dies with its parent.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import resource
import signal
import socket
import sys
import time

from capture import wire

OUTPUT_LIMIT = 4 << 20  # RLIMIT_FSIZE: the worker writes no files


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def _cpu_used() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _arm_cpu(seconds: float) -> None:
    """Let this file use ``seconds`` more CPU time; then SIGXCPU ends the worker."""
    soft = int(math.ceil(_cpu_used() + seconds)) + 1
    _hard_soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def limit(memory_mb: int, nproc: int | None = None) -> None:
    """Address space, file size, core dumps and (under a uid of its own) processes, for the
    worker's whole life."""
    mem = memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    if nproc:
        # Counted per uid: only set when the worker has a uid the web process does not share.
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_LIMIT, OUTPUT_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash must not dump hostile data
    with contextlib.suppress(OSError):
        os.nice(5)  # parsing yields to the web process serving officers


def preload() -> None:
    """Import every reader and decoder now, so each file costs only its parsing."""
    from PIL import Image

    import capture.audio
    import capture.exif
    import capture.isobmff
    import capture.metadata
    import capture.preview
    import capture.signature_image  # noqa: F401 - imported for its side effect: loaded once

    Image.init()  # Pillow loads its format plugins lazily otherwise


def _metadata(req: dict, fd: int) -> tuple[dict, bytes]:
    from capture.metadata import extract_inline

    md = extract_inline(fd, str(req.get("media_type")))
    recycle = any("ran out of memory" in e for e in md.errors)
    if recycle:
        md.errors.append(f"metadata incomplete: a reader exceeded the {req.get('memory_mb')} MB "
                         f"memory limit")
    return {"ok": True, "metadata": md.to_dict(), "recycle": recycle}, b""


def _thumbnail(req: dict, fd: int) -> tuple[dict, bytes]:
    from capture.preview import PreviewError, render_any

    try:
        thumb = render_any(fd, str(req.get("media_type")), int(req.get("max_px", 512)),
                           timeout_s=float(req.get("timeout_s", 20.0)))
    except PreviewError as exc:
        return {"ok": False, "error": str(exc)}, b""
    return {"ok": True, "width": thumb.width, "height": thumb.height}, thumb.data


def _signature_image(req: dict, fd: int) -> tuple[dict, bytes]:
    from capture.signature_image import SignatureImageError, normalise

    try:
        img = normalise(fd, max_side=int(req.get("max_side", 0)),
                        max_pixels=int(req.get("max_pixels", 0)))
    except SignatureImageError as exc:
        return {"ok": False, "error": str(exc)}, b""
    return {"ok": True, "width": img.width, "height": img.height}, img.png


def _probe(req: dict) -> tuple[dict, bytes]:
    """What this worker can reach (diagnostics: the isolation tests ask it)."""
    opened = {}
    for path in req.get("paths", []):
        try:
            with open(path, "rb") as f:
                f.read(1)
            opened[path] = "opened"
        except OSError as exc:
            opened[path] = type(exc).__name__
    net = {}
    for host, port in req.get("connect", []):
        try:
            with socket.create_connection((host, port), timeout=2):
                net[f"{host}:{port}"] = "connected"
        except OSError as exc:
            net[f"{host}:{port}"] = f"{type(exc).__name__}: {exc.strerror or exc}"
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    kernel = {}
    for name, call in (("unshare(CLONE_NEWUSER)", lambda: libc.unshare(0x10000000)),
                       ("ptrace(PTRACE_ATTACH, 1)", lambda: libc.ptrace(16, 1, 0, 0))):
        ctypes.set_errno(0)
        kernel[name] = "allowed" if call() == 0 else os.strerror(ctypes.get_errno())
    return {"ok": True, "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(),
            "kernel": kernel,
            "groups": os.getgroups(), "env": sorted(os.environ), "opened": opened, "net": net,
            "status": open("/proc/self/status").read() if os.path.exists("/proc/self/status")
            else ""}, b""


def _misbehave(how: str) -> tuple[dict, bytes]:
    """Crash, hang or exhaust a limit on purpose (diagnostics: the containment tests)."""
    if how == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif how == "hang":
        time.sleep(3600)
    elif how == "spin":
        while True:
            pass
    elif how == "hog":
        hoard = []
        while True:
            hoard.append(bytearray(16 << 20))
    elif how == "exit":
        os._exit(7)
    elif how == "fork":
        children = 0
        try:
            while children < 100_000:
                if os.fork() == 0:
                    time.sleep(3600)
                    os._exit(0)
                children += 1
        except OSError as exc:
            return {"ok": True, "children": children, "error": exc.strerror}, b""
    return {"ok": False, "error": f"unknown misbehaviour {how!r}"}, b""


def serve(sock: socket.socket, memory_mb: int, diagnostics: bool) -> int:
    """Answer requests until the pool closes the socket."""
    while True:
        try:
            req, _body, fds = wire.receive(sock, max_body=0, max_fds=1)
        except wire.PeerClosed:
            return 0
        fd = fds[0] if fds else None
        try:
            _arm_cpu(float(req.get("cpu_s", 10.0)))
            op = req.get("op")
            req["memory_mb"] = memory_mb
            if op == "metadata" and fd is not None:
                header, body = _metadata(req, fd)
            elif op == "thumbnail" and fd is not None:
                header, body = _thumbnail(req, fd)
            elif op == "signature_image" and fd is not None:
                header, body = _signature_image(req, fd)
            elif op == "probe" and diagnostics:
                header, body = _probe(req)
            elif op == "misbehave" and diagnostics:
                header, body = _misbehave(str(req.get("how")))
            else:
                header, body = {"ok": False, "error": f"unknown request {op!r}"}, b""
        except MemoryError:
            header, body = {"ok": False, "memory": True, "recycle": True,
                            "error": f"the parser exceeded the {memory_mb} MB memory limit"}, b""
        finally:
            if fd is not None:
                os.close(fd)
        wire.send(sock, header, body)


def main(argv: list[str] | None = None) -> int:
    """Limit, preload, filter, greet, serve."""
    ap = argparse.ArgumentParser(prog="python -m capture.pool_worker")
    ap.add_argument("--sock", type=int, required=True)
    ap.add_argument("--memory-mb", type=int, default=512)
    ap.add_argument("--nproc", type=int, default=None)
    ap.add_argument("--diagnostics", action="store_true")
    args = ap.parse_args(argv)
    _die_with_parent()
    sock = socket.socket(fileno=args.sock)
    try:
        limit(args.memory_mb, args.nproc)
        try:
            preload()
        except (ImportError, OSError) as exc:  # a shared library that cannot be mapped
            print(f"cannot load parsers: {exc}", file=sys.stderr)
            return 4
        from capture import seccomp

        filtered = True
        try:
            seccomp.install()
        except OSError as exc:
            filtered = False
            print(f"seccomp filter not installed: {exc}", file=sys.stderr)
        wire.send(sock, {"ready": True, "pid": os.getpid(), "uid": os.getuid(),
                         "seccomp": filtered})
        return serve(sock, args.memory_mb, args.diagnostics)
    except MemoryError:
        return 3


if __name__ == "__main__":
    sys.exit(main())
