"""Frames between the parser pool and its workers over a Unix stream socket.

A frame is a 4-byte header length, a 4-byte body length, a JSON header and a binary body.
A request carries the file to parse as a descriptor (SCM_RIGHTS) on its first byte, so the
sandboxed worker reads the upload without any view of the folder it lies in. JSON, never
pickle: the worker parses hostile bytes and its answers are not trusted.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import time
from typing import Any

MAX_HEADER = 1 << 20
MAX_BODY = 16 << 20
_LEN = struct.Struct(">II")


class WireError(OSError):
    """The peer closed the socket, sent a malformed frame, or did not answer in time."""


class PeerClosed(WireError):
    """The peer closed its end (a worker that exited or crashed)."""


class Timeout(WireError):
    """No whole frame arrived before the deadline."""


def send(sock: socket.socket, header: dict[str, Any], body: bytes = b"",
         fds: tuple[int, ...] = ()) -> None:
    """Send one frame, the descriptors attached to its first byte."""
    head = json.dumps(header, ensure_ascii=False).encode()
    data = _LEN.pack(len(head), len(body)) + head + body
    if fds:
        sent = socket.send_fds(sock, [data], list(fds))
        data = data[sent:]
    sock.sendall(data)


def _read_exact(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("no answer in time")
            sock.settimeout(left)
        try:
            chunk = sock.recv(min(n - got, 1 << 20))
        except TimeoutError:
            raise Timeout("no answer in time") from None
        if not chunk:
            raise PeerClosed("the peer closed the connection")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def receive(sock: socket.socket, *, deadline: float | None = None, max_body: int = MAX_BODY,
            max_fds: int = 0) -> tuple[dict[str, Any], bytes, list[int]]:
    """Read one frame: (header, body, received descriptors); WireError on any problem."""
    fds: list[int] = []
    if max_fds:
        sock.settimeout(None if deadline is None else max(0.0, deadline - time.monotonic()))
        try:
            first, fds, _flags, _addr = socket.recv_fds(sock, _LEN.size, max_fds,
                                                        socket.MSG_CMSG_CLOEXEC)
        except TimeoutError:
            raise Timeout("no answer in time") from None
        if not first:
            raise PeerClosed("the peer closed the connection")
        first += _read_exact(sock, _LEN.size - len(first), deadline)
    else:
        first = _read_exact(sock, _LEN.size, deadline)
    head_len, body_len = _LEN.unpack(first)
    if head_len > MAX_HEADER or body_len > max_body:
        _close_all(fds)
        raise WireError(f"oversized frame ({head_len} + {body_len} bytes)")
    try:
        header = json.loads(_read_exact(sock, head_len, deadline))
        body = _read_exact(sock, body_len, deadline) if body_len else b""
    except (ValueError, WireError):
        _close_all(fds)
        raise
    if not isinstance(header, dict):
        _close_all(fds)
        raise WireError("the frame header is not a JSON object")
    return header, body, fds


def _close_all(fds: list[int]) -> None:
    import os

    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)
