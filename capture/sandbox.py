"""Run metadata extraction in a one-shot, resource-limited child process and vet its answer.

The parsers normally run in the warm sandboxed workers of capture.pool; this one-shot path is
what ``capture.metadata.extract(command=...)`` uses (tests replace the worker with one that
crashes, hangs or lies) and what the capture benchmark compares the pool with. It has the
resource limits and the clean environment, not the namespaces of capture.isolation.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence

from capture.model import Metadata, clip

_MAX_RESULT = 1 << 20  # a metadata record is a few KB; refuse anything huge from the child
_PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = ("-m", "capture.extract_worker")


def _failed(media_type: str, reason: str) -> Metadata:
    return Metadata(media_type=media_type, errors=[f"metadata unreadable: {reason}"])


def _exit_reason(code: int, memory_mb: int, stderr_tail: str) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code == signal.SIGXCPU:
            return "the parser used too much CPU time"
        return f"the parser crashed ({name})"
    if code == 3:
        return f"the parser exceeded the {memory_mb} MB memory limit"
    if code == 4 or "Cannot allocate memory" in stderr_tail or "MemoryError" in stderr_tail:
        # The cap can bite while the interpreter is still importing, before the worker's own
        # handler (exit 4) is in place: the traceback then names ENOMEM or MemoryError.
        return f"the parsers could not be loaded within the {memory_mb} MB memory limit"
    tail = f": {stderr_tail}" if stderr_tail else ""
    return f"the parser exited without a result (exit code {code}){tail}"


def run_in_child(
    path: str | os.PathLike[str],
    media_type: str,
    *,
    timeout_s: float,
    memory_mb: int,
    command: Sequence[str] | None = None,
) -> Metadata:
    """Run the extraction worker on one file and return its Metadata; never raises."""
    argv = [*(command or (sys.executable, "-s", *WORKER)), os.path.abspath(path), media_type,
            str(memory_mb), f"{timeout_s:g}"]
    # A plain subprocess, not multiprocessing: spawn/forkserver children re-import the
    # caller's __main__ (a web server, a bot), and fork is unsafe in a threaded server.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.run(  # noqa: S603 - our own interpreter and module, no shell
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=_PROJECT_ROOT,
                env=_child_env(), timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:  # run() has already killed and reaped the child
            return _failed(media_type, f"timed out after {timeout_s:g} s")
        except OSError as exc:
            return _failed(media_type, f"could not start the parser process ({exc})")
        out.seek(0)
        payload = out.read(_MAX_RESULT + 1)
        err.seek(max(0, err.seek(0, os.SEEK_END) - 300))
        stderr_tail = err.read().decode("utf-8", "replace").strip().splitlines()[-1:]
    if proc.returncode != 0:
        return _failed(media_type, _exit_reason(proc.returncode, memory_mb,
                                                clip("".join(stderr_tail)) or ""))
    if len(payload) > _MAX_RESULT:
        return _failed(media_type, "the parser returned an oversized result")
    try:
        # JSON, never pickle: the child parsed hostile bytes and is not trusted.
        md = Metadata.from_dict(json.loads(payload))
    except (ValueError, TypeError) as exc:
        return _failed(media_type, f"the parser returned an invalid result ({exc})")
    if md.media_type != media_type:
        return _failed(media_type, "the parser returned an invalid result (wrong media type)")
    return md


def _child_env() -> dict[str, str]:
    # The parser child sees hostile bytes: keep the web process's secrets (tokens, database
    # URLs) out of its environment. Only what Python needs to start is passed on.
    keep = ("PATH", "PYTHONPATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ")
    return {k: v for k, v in os.environ.items() if k in keep}
