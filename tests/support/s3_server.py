"""A real S3-protocol server for the tests: moto's ``moto_server`` (from PyPI, moto[server])
started as a subprocess on a free 127.0.0.1 port; each test gets a bucket of its own with
object lock enabled, as a production evidence bucket has."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
from botocore.config import Config

ACCESS_KEY = "qc-test-access"
SECRET_KEY = "qc-test-secret-0123456789"
REGION = "us-east-1"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3Server:
    """moto_server in a subprocess, and a client to make buckets on it."""

    def __init__(self, log_path: Path):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        script = Path(sys.executable).parent / "moto_server"
        command = [str(script)] if script.exists() else [sys.executable, "-m", "moto.server"]
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen([*command, "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=self._log, stderr=subprocess.STDOUT)
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name=REGION,
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
        self._wait()

    def _wait(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.process.returncode}; "
                                   f"see {self._log.name}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    self.client.list_buckets()
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"moto_server did not answer on port {self.port} in {timeout} s")

    def bucket(self, *, lock: bool = True) -> str:
        """A new, empty bucket (with object lock unless told otherwise)."""
        name = f"qc-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=lock)
        return name

    def settings_for(self, bucket: str, spool: Path, prefix: str = "evidence") -> dict:
        """The Settings fields that point the system at a bucket of this server."""
        return {"storage_url": f"s3://{bucket}/{prefix}", "s3_endpoint_url": self.endpoint,
                "s3_region": REGION, "s3_access_key_id": ACCESS_KEY,
                "s3_secret_access_key": SECRET_KEY, "s3_addressing_style": "path",
                "spool_path": str(spool)}

    def env_for(self, bucket: str, spool: Path, prefix: str = "evidence") -> dict:
        """The same as environment variables, for a web process of the tests."""
        return {k.upper(): v for k, v in self.settings_for(bucket, spool, prefix).items()}

    def stop(self) -> None:
        """Stop the server."""
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self._log.close()
