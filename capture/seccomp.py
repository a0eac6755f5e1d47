"""A seccomp filter for the parser workers: no network sockets, no io_uring.

The worker installs it on itself after loading the parsers; it is inherited by everything the
worker starts (ffmpeg). ``socket()`` of any family but AF_UNIX and ``io_uring_setup()`` fail
with EACCES, and syscalls of another ABI (x32, i386 on x86-64) fail too, so a parser exploit
cannot reach the network even where bubblewrap's network namespace is unavailable.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import socket
import struct

# Architecture: (AUDIT_ARCH_*, socket syscall number, io_uring_setup number, x32 bit check).
_ARCH = {
    "x86_64": (0xC000003E, 41, 425, True),
    "aarch64": (0xC00000B7, 198, 425, False),
}
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2
_RET_ALLOW, _RET_ERRNO = 0x7FFF0000, 0x00050000
_LD_ABS, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, JMP|JEQ|K, JMP|JGE|K, RET|K


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


def program(machine: str | None = None) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions for this machine; ValueError if unknown."""
    arch = _ARCH.get(machine or platform.machine())
    if arch is None:
        raise ValueError(f"no seccomp filter for the {machine or platform.machine()} architecture")
    audit, nr_socket, nr_uring, x32 = arch
    deny = _RET_ERRNO | errno.EACCES
    # Jump offsets count from the next instruction; the last two are ALLOW and DENY.
    prog = [
        (_LD_ABS, 0, 0, 4),                      # 0: A = arch
        (_JEQ, 1, 0, audit),                     # 1: our ABI? skip the deny
        (_RET, 0, 0, deny),                      # 2
        (_LD_ABS, 0, 0, 0),                      # 3: A = syscall number
    ]
    if x32:
        prog.append((_JGE, 0, 1, 0x40000000))    # x32 syscalls carry this bit
        prog.append((_RET, 0, 0, deny))
    prog += [
        (_JEQ, 0, 1, nr_uring),                  # io_uring_setup: deny
        (_RET, 0, 0, deny),
        (_JEQ, 0, 3, nr_socket),                 # not socket(): allow
        (_LD_ABS, 0, 0, 16),                     # A = low 32 bits of the first argument
        (_JEQ, 1, 0, socket.AF_UNIX),            # AF_UNIX: allow
        (_RET, 0, 0, deny),
        (_RET, 0, 0, _RET_ALLOW),
    ]
    return prog


def install() -> None:
    """Install the filter on this process (and its future children); OSError on failure."""
    if struct.pack("=H", 1) != b"\x01\x00":
        raise OSError("the seccomp filter assumes a little-endian machine")
    try:
        code = program()
    except ValueError as exc:
        raise OSError(str(exc)) from None
    libc = ctypes.CDLL(None, use_errno=True)
    arr = (_Filter * len(code))(*(_Filter(*ins) for ins in code))
    prog = _Prog(len(code), arr)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
