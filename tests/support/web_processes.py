"""Real web processes for the several-process tests: the Procfile's `web` command (gunicorn,
one worker, a few threads) on a free 127.0.0.1 port each, over the same database, blob store
and ledger key as the test's container."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from core.kernel.settings import Settings
from tests.support.s3_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a web process needs to share the test container's services."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QC_", "PYTEST"))}
    env.update({
        "DATABASE_URL": settings.effective_database_url,
        "STORAGE_URL": settings.effective_storage_url,
        "INSTANCE_PATH": str(settings.instance_path),
        "LEDGER_KEY_PATH": str(settings.effective_ledger_key_path),
        "SECRET_KEY": "several-processes-test-secret-0123456789",
        "PYTHONPATH": str(ROOT),
    })
    for name in ("s3_endpoint_url", "s3_region", "s3_access_key_id", "s3_secret_access_key",
                 "s3_addressing_style", "spool_path", "redis_url", "telegram_token",
                 "telegram_webhook_secret", "telegram_api_base_url"):
        value = getattr(settings, name)
        if value:
            env[name.upper()] = str(value)
    env.update(extra)
    return env


class WebProcess:
    """`gunicorn api.wsgi:app` on its own port."""

    def __init__(self, env: dict[str, str], log_path: Path, threads: int = 4):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", str(threads),
             "--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "5",
             "--no-control-socket", "api.wsgi:app"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60.0) -> WebProcess:
        """Wait until /healthz answers (the app and its services are up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"web process exited with {self.process.returncode}: "
                                   f"{self.log()[-2000:]}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:  # not listening yet, or still importing
                pass
            time.sleep(0.1)
        raise RuntimeError(f"web process on {self.url} not ready in {timeout} s: "
                           f"{self.log()[-2000:]}")

    def log(self) -> str:
        """What the process printed."""
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")

    def stop(self) -> None:
        """SIGINT (gunicorn's quick shutdown), then wait (SIGKILL if it hangs)."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self._log.close()


def start_web_processes(settings: Settings, log_dir: Path, count: int = 2,
                        **extra: str) -> list[WebProcess]:
    """Start ``count`` web processes side by side and wait for all of them."""
    env = environment(settings, **extra)
    processes = [WebProcess(env, log_dir / f"web{i}.log") for i in range(count)]
    try:
        for p in processes:
            p.wait_ready()
    except BaseException:
        for p in processes:
            p.stop()
        raise
    return processes
