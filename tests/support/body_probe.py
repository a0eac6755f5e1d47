"""Send a request whose declared body and sent body differ, over a raw socket, and time the
answer; read a server process's peak memory (issue 12, finding 1: what an anonymous body
costs). Used by tests/security/test_request_bodies.py and bench/body_limits_bench.py."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Answer:
    """The status line's code (0 when the connection closed without one), the seconds from
    the end of the headers to the answer, and the body bytes the client got out."""

    status: int
    seconds: float
    sent: int


def probe(port: int, path: str, *, declared: int, send: int, method: str = "POST",
          headers: dict[str, str] | None = None, timeout: float = 60.0,
          content_type: str = "application/json") -> Answer:
    """Declare ``declared`` body bytes, send ``send`` of them (from a thread, as fast as the
    server takes them) and wait for the status line."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {content_type}",
             f"Content-Length: {declared}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    sent = [0]

    def pump():
        chunk = b"{" + b" " * (1024 * 1024 - 1)
        try:
            while sent[0] < send:
                n = min(len(chunk), send - sent[0])
                sock.sendall(chunk[:n])
                sent[0] += n
        except OSError:  # the server answered and closed: the rest is not wanted
            pass

    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    start = time.monotonic()
    sender = threading.Thread(target=pump, daemon=True)
    sender.start()
    data = b""
    try:
        while b"\r\n" not in data:
            got = sock.recv(4096)
            if not got:
                break
            data += got
    except OSError:
        pass
    seconds = time.monotonic() - start
    sock.close()
    sender.join(5)
    try:
        status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    except (IndexError, ValueError):
        status = 0
    return Answer(status, seconds, sent[0])


def served_by(master_pid: int) -> int:
    """The pid that serves requests: gunicorn's worker, a child of the master."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return int(children[0]) if children else master_pid


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in kB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (clear_refs 5); False where not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False
