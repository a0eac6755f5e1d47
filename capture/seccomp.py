"""A seccomp filter for the parser workers: no network, no kernel interfaces a parser never
needs.

The worker installs it on itself after loading the parsers; it is inherited by everything the
worker starts (ffmpeg). With it:

- ``socket()`` of any family but AF_UNIX fails (EACCES): no network even where bubblewrap's
  network namespace is unavailable;
- new user namespaces cannot be made (``unshare``, ``setns``, ``clone`` with CLONE_NEWUSER;
  ``clone3``, whose flags a filter cannot read, answers ENOSYS so the C library uses
  ``clone``), nor mounts, module loading, ``ptrace``, other processes' memory, keyrings, BPF,
  ``userfaultfd``, ``perf_event_open`` or io_uring: each fails with EPERM;
- syscalls of another ABI (x32, i386 on x86-64) fail too.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import socket
import struct

# Per architecture: AUDIT_ARCH_*, whether x32 numbers must be refused, and syscall numbers.
_ARCH: dict[str, dict] = {
    "x86_64": {
        "audit": 0xC000003E, "x32": True, "socket": 41, "clone": 56, "clone3": 435,
        "deny": (101, 310, 311, 250, 248, 249, 321, 323, 298, 272, 308, 165, 166, 155, 161,
                 175, 313, 176, 246, 425, 426, 427),
    },
    "aarch64": {
        "audit": 0xC00000B7, "x32": False, "socket": 198, "clone": 220, "clone3": 435,
        "deny": (117, 270, 271, 219, 217, 218, 280, 282, 241, 97, 268, 40, 39, 41, 51, 105,
                 273, 106, 104, 425, 426, 427),
    },
}
# ptrace, process_vm_readv/writev, keyctl, add_key, request_key, bpf, userfaultfd,
# perf_event_open, unshare, setns, mount, umount2, pivot_root, chroot, init_module,
# finit_module, delete_module, kexec_load, io_uring_setup/enter/register (in that order).
CLONE_NEWUSER = 0x10000000
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2
_RET_ALLOW, _RET_ERRNO = 0x7FFF0000, 0x00050000
_LD_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06


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
    # The program ends with four returns; jumps count from the next instruction, so each
    # check computes its distance to them from its own position.
    body: list[tuple] = [("ld", 4), ("arch",), ("ld", 0)]
    if arch["x32"]:
        body.append(("x32",))
    body += [("deny", nr) for nr in arch["deny"]]
    body += [("nosys", arch["clone3"]), ("clone", arch["clone"]), ("socket", arch["socket"])]
    # Expand to instructions, then resolve the jumps.
    ins: list[tuple] = []
    for item in body:
        kind = item[0]
        if kind == "ld":
            ins.append((_LD_ABS, 0, 0, item[1]))
        elif kind == "arch":
            ins.append((_JEQ, "next", "EPERM", arch["audit"]))
        elif kind == "x32":
            ins.append((_JGE, "EPERM", "next", 0x40000000))
        elif kind == "deny":
            ins.append((_JEQ, "EPERM", "next", item[1]))
        elif kind == "nosys":
            ins.append((_JEQ, "ENOSYS", "next", item[1]))
        elif kind == "clone":
            ins += [(_JEQ, "next", "skip2", item[1]),  # not clone: skip its two checks
                    (_LD_ABS, 0, 0, 16),  # the flags (low 32 bits of the first argument)
                    (_JSET, "EPERM", "ALLOW", CLONE_NEWUSER)]
        elif kind == "socket":
            ins += [(_LD_ABS, 0, 0, 0), (_JEQ, "next", "ALLOW", item[1]),
                    (_LD_ABS, 0, 0, 16), (_JEQ, "ALLOW", "EACCES", socket.AF_UNIX)]
    ends = {"ALLOW": _RET_ALLOW, "EPERM": _RET_ERRNO | errno.EPERM,
            "EACCES": _RET_ERRNO | errno.EACCES, "ENOSYS": _RET_ERRNO | errno.ENOSYS}
    at = {name: len(ins) + i for i, name in enumerate(ends)}

    def jump(pos: int, target: int | str) -> int:
        if isinstance(target, int):
            return target
        dest = {"next": pos + 1, "skip2": pos + 3}.get(target, at.get(target))
        return dest - pos - 1

    out = [(code, jump(pos, jt), jump(pos, jf), k)
           for pos, (code, jt, jf, k) in enumerate(ins)]
    out += [(_RET, 0, 0, value) for value in ends.values()]
    if any(not 0 <= j <= 255 for _, jt, jf, _ in out for j in (jt, jf)):
        raise ValueError("seccomp jump out of range")
    return out


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
