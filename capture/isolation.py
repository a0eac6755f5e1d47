"""How parser workers are isolated from the web process: bubblewrap, another uid, no secrets.

``detect()`` picks, once per process, the strongest sandbox that works here:

- ``bwrap``: bubblewrap (Debian package ``bubblewrap``) with new network, PID, IPC and UTS
  namespaces and a new root that holds only read-only binds of /usr, the interpreter, its
  site-packages and the ``capture`` package: no instance folder (database, blobs, ledger key),
  no network, nothing writable but a small private /tmp. Run as root, the worker also drops to
  ``nobody`` (setpriv: uid, gid, groups, no capabilities, no_new_privs); run as another user,
  bwrap's user namespace keeps that user's uid.
- ``none``: resource limits and a clean environment only, as ``nobody`` when root and the
  interpreter is readable by nobody. A warning is logged, naming what is missing.

``PARSER_SANDBOX`` chooses: ``auto`` (default, the strongest available, warning when it is not
bwrap), ``bwrap`` (refuse to parse when bubblewrap cannot run: parsers then answer
"sandbox unavailable") or ``none``. Every worker also installs the seccomp filter of
capture.seccomp (no network sockets, no new namespaces, no ptrace) on itself.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import site
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("quancheng.capture.sandbox")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CAPTURE_DIR = PROJECT_ROOT / "capture"
TMP_BYTES = 8 << 20  # the worker's private /tmp: neither the parsers nor ffmpeg write there
_KEEP_ENV = ("LANG", "LC_ALL", "LC_CTYPE", "TZ")
_PATH = "/usr/local/bin:/usr/bin:/bin"


class SandboxUnavailable(RuntimeError):
    """PARSER_SANDBOX=bwrap but bubblewrap cannot run here."""


@dataclass(frozen=True)
class Sandbox:
    """A way to start a worker: the command prefix and the uid it runs as."""

    kind: str  # "bwrap" or "none"
    uid: int | None = None  # the uid the worker runs as, when it is not ours
    gid: int | None = None
    warning: str | None = None
    prefix: tuple[str, ...] = field(default=(), repr=False)

    def command(self, argv: list[str]) -> tuple[list[str], dict]:
        """The full command line and the extra subprocess.Popen arguments for ``argv``."""
        env = _clean_env()
        if self.kind == "bwrap":
            full = [*self.prefix]
            for k, v in env.items():
                full += ["--setenv", k, v]
            if self.uid is not None:
                full += ["--", _setpriv(), f"--reuid={self.uid}", f"--regid={self.gid}",
                         "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
                         "--no-new-privs", "--", *argv]
            else:
                full += ["--", *argv]
            return full, {"env": env, "cwd": "/"}
        kwargs: dict = {"env": env, "cwd": str(PROJECT_ROOT)}
        if self.uid is not None:
            kwargs.update(user=self.uid, group=self.gid, extra_groups=[])
        return argv, kwargs


def _clean_env() -> dict[str, str]:
    # The worker sees hostile bytes: none of the web process's secrets (tokens, database URLs).
    env = {k: v for k, v in os.environ.items() if k in _KEEP_ENV}
    env["PATH"] = _PATH
    return env


def _setpriv() -> str:
    return shutil.which("setpriv", path=_PATH) or "/usr/bin/setpriv"


def _nobody() -> tuple[int, int]:
    try:
        pw = pwd.getpwnam("nobody")
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        return 65534, 65534


def python_dirs() -> list[Path]:
    """Directories the interpreter needs: its prefix, the venv and site-packages."""
    found: list[Path] = []
    for p in (sys.base_prefix, sys.prefix, *site.getsitepackages(),
              *(p for p in sys.path if p and p.endswith("-packages"))):
        path = Path(p).resolve()
        if path.is_dir() and path not in found:
            found.append(path)
    return found


def _binds(root: Path) -> list[Path]:
    """Read-only binds: the interpreter's directories and the capture package, never the
    project folder itself (the default instance folder lives there) nor any parent of it."""
    out: list[Path] = []
    for p in python_dirs():
        if p == root or p in root.parents or p == Path("/usr") or Path("/usr") in p.parents:
            continue
        if not any(q == p or q in p.parents for q in out):
            out.append(p)
    return [*out, root / "capture"]


def bwrap_prefix(bwrap: str, *, as_root: bool) -> tuple[str, ...]:
    """bubblewrap's arguments up to (not including) the command."""
    args = [bwrap, "--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid",
            "--unshare-net", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "parser",
            "--clearenv"]
    if as_root:
        # No user namespace: setpriv then becomes nobody for real (kernel uid 65534).
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user", "--disable-userns"]
    args += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            args += ["--ro-bind", str(host), str(host)]
    # ld.so.cache finds multiarch libraries; alternatives holds links such as libblas.so.3.
    for etc in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
                "/etc/localtime"):
        if Path(etc).exists():
            if "--dir" not in args:
                args += ["--perms", "0755", "--dir", "/etc"]  # not 0700: nobody must enter
            args += ["--ro-bind", etc, etc]
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(TMP_BYTES), "--tmpfs",
             "/tmp"]  # noqa: S108 - the sandbox's own empty tmpfs, not the host's /tmp
    made: set[Path] = set()
    for p in _binds(PROJECT_ROOT):
        for parent in reversed(p.parents):
            # bwrap would make missing parents 0700, which nobody cannot enter. Inside the
            # sandbox's own /tmp (a project cloned under /tmp) the parents must be made too.
            if parent not in (Path("/"), Path("/tmp")) and parent not in made and (  # noqa: S108
                    parent.parts[1] not in ("usr", "bin", "lib", "lib64", "proc", "dev", "etc")):
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        args += ["--ro-bind", str(p), str(p)]
    args += ["--chdir", str(PROJECT_ROOT)]
    return tuple(args)


def _works(sandbox: Sandbox) -> str | None:
    """None when the interpreter starts inside ``sandbox``, else what went wrong."""
    argv, kwargs = sandbox.command([sys.executable, "-s", "-B", "-E", "-c",
                                    "import capture.source"])
    try:
        proc = subprocess.run(  # noqa: S603 - our own interpreter, a fixed argv, no shell
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False,
            **kwargs)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{type(exc).__name__}: {exc}"
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        return f"exit code {proc.returncode}: {''.join(tail)[:200]}"
    return None


_cache: dict[str, Sandbox] = {}
_lock = threading.Lock()


def detect(setting: str | None = None) -> Sandbox:
    """The sandbox to use (cached per process and setting); see the module docstring."""
    setting = (setting or os.environ.get("PARSER_SANDBOX") or "auto").strip().lower()
    if setting not in ("auto", "bwrap", "none"):
        raise ValueError(f"PARSER_SANDBOX must be auto, bwrap or none, not {setting!r}")
    with _lock:
        if setting not in _cache:
            _cache[setting] = _detect(setting)
        return _cache[setting]


def _detect(setting: str) -> Sandbox:
    as_root = os.geteuid() == 0
    uid, gid = _nobody() if as_root else (None, None)
    problems: list[str] = []
    if setting != "none":
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            problems.append("bubblewrap (bwrap) is not installed")
        else:
            box = Sandbox("bwrap", uid, gid, prefix=bwrap_prefix(bwrap, as_root=as_root))
            why = _works(box)
            if why is None:
                return box
            problems.append(f"bubblewrap cannot run here ({why})")
        if setting == "bwrap":
            raise SandboxUnavailable("PARSER_SANDBOX=bwrap but " + "; ".join(problems))
    if as_root:
        box = Sandbox("none", uid, gid)
        why = _works(box)
        if why is None:
            return _warned(box, problems, "the parsers run as nobody but see this machine's "
                                          "files and network")
        problems.append(f"the interpreter cannot run as nobody ({why})")
    return _warned(Sandbox("none"), problems, "the parsers run with this process's uid, files "
                                              "and network (resource limits only)")


def _warned(box: Sandbox, problems: list[str], effect: str) -> Sandbox:
    why = "; ".join(problems) or "PARSER_SANDBOX=none"
    message = (f"parser sandbox weakened: {why}; {effect}. Install bubblewrap (Debian: apt-get "
               f"install bubblewrap) for namespace isolation.")
    log.warning(message)
    return Sandbox(box.kind, box.uid, box.gid, warning=message, prefix=box.prefix)
