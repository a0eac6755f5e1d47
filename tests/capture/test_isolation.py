"""Parser workers are isolated (issue 12 item 11): no network, no instance folder, another
uid, no secrets in the environment; the file comes as a descriptor."""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path

import pytest

from capture import isolation
from capture.pool import ParserPool

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = isolation.detect()
# Under CI a weakened sandbox is a failure, not a skip: .ci/run installs bubblewrap.
needs_bwrap = pytest.mark.skipif(
    SANDBOX.kind != "bwrap" and not os.environ.get("CI"),
    reason=f"bubblewrap cannot run here ({SANDBOX.warning}); .ci/run installs it")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the uid change needs root")


@pytest.fixture(scope="module")
def probe_pool():
    """One diagnostics worker, started while secrets are in this process's environment."""
    secrets = {"TELEGRAM_TOKEN": "123:secret", "SECRET_KEY": "s" * 40,
               "DATABASE_URL": "postgresql://u:p@db/x", "PYTHONPATH": str(ROOT)}
    old = {k: os.environ.get(k) for k in secrets}
    os.environ.update(secrets)
    try:
        with ParserPool(1, 1000, diagnostics=True) as p:
            assert p.warm_up(), p.stats
            yield p
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def listener():
    """A TCP server on this machine's loopback that accepts whoever reaches it."""
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(0.2)
    stop = threading.Event()
    accepted: list[str] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, addr = srv.accept()
            except TimeoutError:
                continue
            accepted.append(addr[0])
            conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1], accepted
    stop.set()
    t.join(2)
    srv.close()


def test_the_listener_is_reachable_from_here(listener) -> None:
    """Control: this process itself can reach the loopback listener the worker cannot."""
    port, accepted = listener
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_worker_cannot_open_a_network_socket(probe_pool: ParserPool, listener) -> None:
    """The worker can neither open an Internet socket (seccomp) nor reach this machine's
    loopback listener; nothing connects."""
    port, accepted = listener
    before = len(accepted)
    r = probe_pool.call("probe", connect=[["127.0.0.1", port]])
    assert r["net"][f"127.0.0.1:{port}"].startswith("PermissionError"), r["net"]
    assert len(accepted) == before
    assert "Seccomp:\t2" in r["status"]


def test_worker_cannot_use_kernel_interfaces_parsers_never_need(probe_pool: ParserPool
                                                                ) -> None:
    """The seccomp filter refuses a new user namespace (a way to regain capabilities) and
    ptrace, and the worker still runs threads and ffmpeg (covered by the video tests)."""
    r = probe_pool.call("probe")
    assert r["kernel"] == {"unshare(CLONE_NEWUSER)": "Operation not permitted",
                           "ptrace(PTRACE_ATTACH, 1)": "Operation not permitted"}


def test_seccomp_program_for_each_architecture() -> None:
    """The filter assembles for x86-64 and arm64 with every jump in range, and refuses an
    architecture it has no syscall table for."""
    from capture import seccomp

    for machine in ("x86_64", "aarch64"):
        prog = seccomp.program(machine)
        assert prog[-4:] == [(0x06, 0, 0, v) for v in (0x7FFF0000, 0x50001, 0x5000D, 0x50026)]
    with pytest.raises(ValueError, match="riscv64"):
        seccomp.program("riscv64")


@needs_bwrap
def test_worker_sees_no_instance_folder(probe_pool: ParserPool, tmp_path: Path) -> None:
    """Files readable by everyone on this machine, but outside the interpreter and the
    capture package, do not exist for the worker: the project folder (where the default
    instance folder lives), a temporary instance folder, the host's /tmp."""
    inst = tmp_path / "instance"
    inst.mkdir()
    for name in ("quancheng.db", "ledger_ed25519.pem"):
        (inst / name).write_text("secret")
        (inst / name).chmod(0o644)
    paths = [str(inst / "quancheng.db"), str(inst / "ledger_ed25519.pem"),
             str(ROOT / "README.md"), str(ROOT / "core" / "__init__.py"),
             str(ROOT / "instance" / "quancheng.db"), "/etc/passwd", "/root/.bashrc"]
    r = probe_pool.call("probe", paths=[*paths, str(ROOT / "capture" / "__init__.py")])
    assert r["opened"][str(ROOT / "capture" / "__init__.py")] == "opened"  # control
    assert {p: r["opened"][p] for p in paths} == {p: "FileNotFoundError" for p in paths}


@needs_bwrap
@needs_root
def test_worker_runs_as_nobody(probe_pool: ParserPool) -> None:
    """Started by root, the worker runs as nobody: uid and gid 65534 (real kernel ids, no
    user namespace), no groups, no capabilities, no_new_privs."""
    r = probe_pool.call("probe")
    assert (r["uid"], r["euid"], r["gid"], r["groups"]) == (65534, 65534, 65534, [])
    status = dict(line.split(":\t", 1) for line in r["status"].splitlines() if ":\t" in line)
    assert status["Uid"].split() == ["65534"] * 4
    assert status["CapEff"].strip() == status["CapPrm"].strip() == "0000000000000000"
    assert status["CapBnd"].strip() == "0000000000000000"
    assert status["NoNewPrivs"].strip() == "1"


@needs_bwrap
@needs_root
def test_file_is_handed_over_as_a_descriptor(probe_pool: ParserPool, samples: dict[str, Path],
                                             tmp_path: Path) -> None:
    """A photo that only root may read, in a folder only root may enter, is parsed by the
    nobody worker through the descriptor it is handed, while its path is closed to it."""
    from capture.metadata import extract_inline

    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    photo = private / "p.jpg"
    photo.write_bytes(samples["jpeg"].read_bytes())
    photo.chmod(0o600)
    assert probe_pool.call("probe", paths=[str(photo)])["opened"][str(photo)] in (
        "FileNotFoundError", "PermissionError")
    assert probe_pool.extract(photo, "jpeg") == extract_inline(photo, "jpeg")


def test_worker_environment_has_no_secrets(probe_pool: ParserPool) -> None:
    """The worker's environment holds only what the interpreter needs, never the web
    process's tokens, keys or database URL (they were set when it started)."""
    env = set(probe_pool.call("probe")["env"])
    assert not env & {"TELEGRAM_TOKEN", "SECRET_KEY", "DATABASE_URL", "PYTHONPATH"}
    assert env <= {"PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PWD"}


def test_missing_bubblewrap_is_a_clear_warning(monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture) -> None:
    """Without bwrap, auto falls back to limits only and logs why and what is lost;
    PARSER_SANDBOX=bwrap refuses instead, and every parse says the sandbox is unavailable."""
    monkeypatch.setattr(isolation.shutil, "which",
                        lambda name, path=None: None if name == "bwrap" else "/usr/bin/" + name)
    with caplog.at_level(logging.WARNING, logger="quancheng.capture.sandbox"):
        box = isolation._detect("auto")
    assert box.kind == "none" and "bubblewrap (bwrap) is not installed" in box.warning
    assert any("parser sandbox weakened" in r.getMessage() for r in caplog.records)
    with pytest.raises(isolation.SandboxUnavailable, match="bwrap"):
        isolation._detect("bwrap")
    monkeypatch.setattr(isolation, "_cache", {})
    with ParserPool(1, 1, sandbox="bwrap") as p:
        md = p.extract(ROOT / "README.md", "jpeg")
    assert md.errors == ["metadata unreadable: the parser sandbox is unavailable "
                         "(PARSER_SANDBOX=bwrap but bubblewrap (bwrap) is not installed)"]


def test_bad_sandbox_setting_is_refused() -> None:
    """PARSER_SANDBOX accepts auto, bwrap or none only."""
    with pytest.raises(ValueError, match="PARSER_SANDBOX must be auto, bwrap or none"):
        isolation.detect("chroot")


def test_binds_never_include_the_project_folder() -> None:
    """The sandbox binds the interpreter's folders and capture/ only: never the project
    folder or a parent of it, where the default instance folder lies."""
    binds = isolation._binds(ROOT)
    assert ROOT / "capture" in binds
    assert all(b != ROOT and b not in ROOT.parents for b in binds)
    assert all(b == ROOT / "capture" or ROOT not in b.parents or b.name.startswith(".venv")
               for b in binds), binds


@needs_bwrap
@needs_root
def test_fork_bomb_is_bounded_and_cleared() -> None:
    """A worker that forks without end stops at its process limit (its uid is its own), and
    when it ends every process it made ends with its PID namespace."""
    def nobody_processes() -> set[int]:
        """This test's own processes running as nobody (descendants of this process), so
        another test run's parser pools on the same machine do not count."""
        parents: dict[int, int] = {}
        nobody = set()
        for entry in Path("/proc").iterdir():
            try:
                status = (entry / "status").read_text() if entry.name.isdigit() else ""
            except OSError:
                continue
            if not status:
                continue
            pid = int(entry.name)
            parents[pid] = int(status.split("\nPPid:\t", 1)[1].split("\n", 1)[0])
            if "\nUid:\t65534\t" in status:
                nobody.add(pid)

        def ours(pid: int) -> bool:
            while pid > 1:
                pid = parents.get(pid, 0)
                if pid == os.getpid():
                    return True
            return False

        return {pid for pid in nobody if ours(pid)}

    from capture.pool import NPROC, PoolError

    with ParserPool(1, 100, diagnostics=True) as p:
        assert p.warm_up()
        before = nobody_processes()
        r = p.call("misbehave", how="fork", timeout_s=30)
        # RLIMIT_NPROC counts every process of the uid, so other pools' workers (another
        # test run on this machine) may leave this one a few children fewer before the limit.
        assert r["ok"] and NPROC // 2 <= r["children"] < NPROC, r
        assert len(nobody_processes() - before) >= r["children"]
        with pytest.raises(PoolError, match="crashed"):
            p.call("misbehave", how="crash")
        assert p.warm_up()
    import time

    deadline = time.monotonic() + 10
    while (left := nobody_processes() - before) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left
