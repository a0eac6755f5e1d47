"""The S3-compatible backend of the blob store (MinIO, Ceph RGW, Alibaba OSS, Tencent COS, AWS).

A blob is the object ``<prefix>/<aa>/<bb>/<sha256>``. The bytes arrive in a local spool file
while hashing (core.platform.blobs.IncomingFile); the finished file then goes up in parts
(a multipart upload, one part in memory at a time), each part with its SHA-256 checksum for the
store to check, the whole file's hex digest as the object's ``sha256`` metadata, and, where the
bucket has object lock, a COMPLIANCE retention of the case's retention years (A34.1). A
multipart upload becomes visible under its key only when CompleteMultipartUpload succeeds, so
no reader ever sees half a blob under a content address.

Write-once: the store is asked whether the key exists first, and the write itself carries
``If-None-Match: *`` so that of two processes committing the same content one wins and the
other is refused by the store (412) rather than overwriting. Nothing here deletes an object.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from core.platform.blobs import CHUNK, BlobMissing, StoreBase, StoredBlob, check_hash

if TYPE_CHECKING:
    from core.kernel.settings import Settings

log = logging.getLogger("quancheng.blobs.s3")

PART_SIZE = 8 * 1024 * 1024  # S3 parts are 5 MiB at least (but the last); 8 MiB bounds memory
SINGLE_PUT_MAX = PART_SIZE  # below this one PutObject carries the whole file's SHA-256
DEFAULT_RETENTION_YEARS = 25  # A34.1
LOCK_MODES = ("COMPLIANCE", "GOVERNANCE")


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _missing(exc: ClientError) -> bool:
    return _status(exc) == 404 or _code(exc) in ("404", "NoSuchKey", "NotFound")


def _digest(path: Path, offset: int, length: int, also: Any = None) -> bytes:
    """SHA-256 of bytes [offset, offset+length) of a file, read in chunks (``also`` is fed the
    same bytes: the whole file's running hash)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        fh.seek(offset)
        left = length
        while left > 0:
            chunk = fh.read(min(CHUNK, left))
            if not chunk:
                raise OSError(f"spool file {path.name} is shorter than expected")
            h.update(chunk)
            if also is not None:
                also.update(chunk)
            left -= len(chunk)
    return h.digest()


class _FilePart(io.RawIOBase):
    """Bytes [offset, offset+length) of a file as a seekable stream: the SDK sends a part
    from disk in small reads (and can rewind it to retry) instead of from memory."""

    def __init__(self, path: Path, offset: int, length: int):
        super().__init__()
        self._fh = open(path, "rb")  # noqa: SIM115 - closed with the part
        self._offset, self._length, self._pos = offset, length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        self._pos = max(0, min(self._length, base + pos))
        return self._pos

    def readinto(self, buf) -> int:
        n = min(len(buf), self._length - self._pos)
        if n <= 0:
            return 0
        self._fh.seek(self._offset + self._pos)
        got = self._fh.readinto(memoryview(buf)[:n])
        self._pos += got or 0
        return got or 0

    def close(self) -> None:
        self._fh.close()
        super().close()


class _Body:
    """A GetObject body as a file-like object (read, close, with-block)."""

    def __init__(self, body: Any):
        self._body = body

    def read(self, n: int = -1) -> bytes:
        """Up to n bytes (everything left when n < 0)."""
        return self._body.read(None if n is None or n < 0 else n)

    def close(self) -> None:
        """Release the connection."""
        self._body.close()

    def __enter__(self) -> _Body:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class S3BlobStore(StoreBase):
    """Blobs as write-once objects of one bucket, under a prefix."""

    def __init__(self, client: Any, bucket: str, prefix: str, tmp_dir: Path, *,
                 retention_years: int = DEFAULT_RETENTION_YEARS, lock_mode: str = "COMPLIANCE",
                 conditional_writes: bool = True):
        if lock_mode not in LOCK_MODES:
            raise ValueError(f"S3_LOCK_MODE must be one of {', '.join(LOCK_MODES)}")
        self.client, self.bucket = client, bucket
        self.prefix = prefix.strip("/")
        self.tmp_dir = Path(tmp_dir)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.retention_years, self.lock_mode = retention_years, lock_mode
        self.conditional_writes = conditional_writes
        self._lock_enabled: bool | None = None
        self._probe = threading.Lock()

    @classmethod
    def from_settings(cls, bucket: str, prefix: str, settings: Settings) -> S3BlobStore:
        """The store of STORAGE_URL=s3://bucket/prefix with the S3_* settings."""
        client = boto3.session.Session().client(
            "s3", endpoint_url=settings.s3_endpoint_url or None,
            region_name=settings.s3_region or None,
            aws_access_key_id=settings.s3_access_key_id or None,
            aws_secret_access_key=settings.s3_secret_access_key or None,
            config=Config(s3={"addressing_style": settings.s3_addressing_style},
                          retries={"max_attempts": 5, "mode": "standard"},
                          connect_timeout=10, read_timeout=60,
                          # Checksums are ours to choose (SHA-256 below), not the SDK's CRC.
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"))
        spool = settings.spool_path or settings.instance_path / "spool"
        return cls(client, bucket, prefix, Path(spool), retention_years=settings.retention_years,
                   lock_mode=settings.s3_lock_mode,
                   conditional_writes=settings.s3_conditional_writes)

    # --- names ----------------------------------------------------------------------------

    def key(self, sha256: str) -> str:
        """The object key of a blob (the same fan-out as the folder store)."""
        check_hash(sha256)
        name = f"{sha256[:2]}/{sha256[2:4]}/{sha256}"
        return f"{self.prefix}/{name}" if self.prefix else name

    # --- object lock ----------------------------------------------------------------------

    def lock_enabled(self) -> bool:
        """Whether the bucket has object lock (asked once; a bucket cannot lose it)."""
        if self._lock_enabled is None:
            with self._probe:
                if self._lock_enabled is None:
                    try:
                        conf = self.client.get_object_lock_configuration(Bucket=self.bucket)
                        state = (conf.get("ObjectLockConfiguration") or {}).get(
                            "ObjectLockEnabled")
                        self._lock_enabled = state == "Enabled"
                    except ClientError as exc:
                        if _status(exc) >= 500 or _status(exc) == 0:
                            raise
                        self._lock_enabled = False
                    if not self._lock_enabled:
                        log.warning("bucket %s has no object lock: blobs are kept write-once "
                                    "by this program only (A34.1 asks for a locked bucket)",
                                    self.bucket)
        return self._lock_enabled

    def _until(self, retain_years: int | None) -> datetime:
        years = retain_years or self.retention_years
        # Whole days, so that repeated writes of the same content agree to the day.
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return today + timedelta(days=366 * years)

    def _lock_args(self, retain_years: int | None) -> dict:
        if not self.lock_enabled():
            return {}
        return {"ObjectLockMode": self.lock_mode,
                "ObjectLockRetainUntilDate": self._until(retain_years)}

    def retention(self, sha256: str) -> tuple[str | None, datetime | None]:
        """The object's lock mode and retain-until date, as the store reports them."""
        head = self._head(sha256)
        return head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate")

    def _ensure_retention(self, sha256: str, retain_years: int | None) -> None:
        """Lock the object at least until the wanted date (extending is always allowed;
        shortening never is, and is never asked)."""
        if not self.lock_enabled():
            return
        wanted = self._until(retain_years)
        mode, until = self.retention(sha256)
        if until is not None and until >= wanted - timedelta(days=1):
            return
        self.client.put_object_retention(
            Bucket=self.bucket, Key=self.key(sha256),
            Retention={"Mode": mode or self.lock_mode, "RetainUntilDate": wanted})

    # --- writing --------------------------------------------------------------------------

    def adopt(self, tmp: Path, sha256: str, size: int, *,
              retain_years: int | None = None) -> StoredBlob:
        """Upload a finished spool file under its content address, then drop the spool file.
        An object already there is kept as it is (its retention extended if this case keeps
        it longer)."""
        try:
            if self.exists(sha256):
                self._ensure_retention(sha256, retain_years)
                return StoredBlob(sha256, size, existed=True)
            written = self._upload(tmp, sha256, size, retain_years)
            # Checked after every write: some stores ignore the lock headers of a multipart
            # upload (moto does), so the retention is read back and set where it is missing.
            self._ensure_retention(sha256, retain_years)
            return StoredBlob(sha256, size, existed=not written)
        finally:
            tmp.unlink(missing_ok=True)

    def _conditional(self) -> dict:
        return {"IfNoneMatch": "*"} if self.conditional_writes else {}

    def _upload(self, path: Path, sha256: str, size: int, retain_years: int | None) -> bool:
        """Write the object once; False when another writer stored it first (412)."""
        key = self.key(sha256)
        common = {"Bucket": self.bucket, "Key": key, "Metadata": {"sha256": sha256},
                  "ContentType": "application/octet-stream", **self._lock_args(retain_years)}
        try:
            if size <= SINGLE_PUT_MAX:
                if _digest(path, 0, size).hex() != sha256:
                    raise OSError(f"spool file {path.name} changed before its upload")
                with _FilePart(path, 0, size) as body:
                    self.client.put_object(Body=body, ContentLength=size,
                                           ChecksumAlgorithm="SHA256",
                                           ChecksumSHA256=_b64(bytes.fromhex(sha256)),
                                           **common, **self._conditional())
                return True
            return self._multipart(path, sha256, size, common)
        except ClientError as exc:
            if _code(exc) == "PreconditionFailed" or _status(exc) == 412:
                return False  # the same content was stored meanwhile: never overwrite it
            raise

    def _multipart(self, path: Path, sha256: str, size: int, common: dict) -> bool:
        """Parts of PART_SIZE, each with its SHA-256, streamed from the spool file (a part is
        read twice, to hash it and to send it, and never held whole in memory); the object is
        visible only once completed."""
        upload = self.client.create_multipart_upload(ChecksumAlgorithm="SHA256", **common)
        upload_id, parts = upload["UploadId"], []
        whole = hashlib.sha256()
        try:
            for number, offset in enumerate(range(0, size, PART_SIZE), start=1):
                length = min(PART_SIZE, size - offset)
                checksum = _b64(_digest(path, offset, length, whole))
                with _FilePart(path, offset, length) as body:
                    answer = self.client.upload_part(
                        Bucket=self.bucket, Key=common["Key"], UploadId=upload_id,
                        PartNumber=number, Body=body, ContentLength=length,
                        ChecksumAlgorithm="SHA256", ChecksumSHA256=checksum)
                parts.append({"ETag": answer["ETag"], "PartNumber": number,
                              "ChecksumSHA256": checksum})
            if whole.hexdigest() != sha256:
                raise OSError(f"spool file {path.name} changed before its upload")
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=common["Key"], UploadId=upload_id,
                MultipartUpload={"Parts": parts}, **self._conditional())
            return True
        except BaseException:
            # Aborting frees the parts; it removes no object (none was created).
            with contextlib.suppress(ClientError, BotoCoreError):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=common["Key"],
                                                   UploadId=upload_id)
            raise

    # --- reading --------------------------------------------------------------------------

    def _head(self, sha256: str) -> dict:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as exc:
            if _missing(exc):
                raise BlobMissing(f"blob {sha256} is not stored") from None
            raise

    def _get(self, sha256: str, **extra) -> BinaryIO:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256), **extra)
        except ClientError as exc:
            if _missing(exc):
                raise BlobMissing(f"blob {sha256} is not stored") from None
            raise
        return _Body(answer["Body"])  # type: ignore[return-value]

    def open(self, sha256: str) -> BinaryIO:
        """The object's bytes, streamed."""
        return self._get(sha256)

    def open_range(self, sha256: str, start: int, stop: int) -> BinaryIO:
        """Bytes [start, stop) of the object: one ranged GET."""
        if stop <= start:
            return _Body(_Empty())  # type: ignore[return-value]
        return self._get(sha256, Range=f"bytes={start}-{stop - 1}")

    def size(self, sha256: str) -> int:
        """The object's size."""
        return int(self._head(sha256)["ContentLength"])

    def exists(self, sha256: str) -> bool:
        """True when the object is stored."""
        try:
            self._head(sha256)
            return True
        except BlobMissing:
            return False

    def iter_hashes(self) -> Iterator[str]:
        """Every stored blob's name, listed page by page."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else "")
        for page in pages:
            for item in page.get("Contents") or []:
                name = item["Key"].rsplit("/", 1)[-1]
                if len(name) == 64 and all(c in "0123456789abcdef" for c in name):
                    yield name

    def stored_sha256(self, sha256: str) -> str | None:
        """The hex digest the object's metadata carries (written with it)."""
        return (self._head(sha256).get("Metadata") or {}).get("sha256")

    @contextlib.contextmanager
    def local_copy(self, sha256: str) -> Iterator[Path]:
        """Download the object into the spool folder for the block, then remove the copy."""
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix="copy-")
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out, self.open(sha256) as body:
                while chunk := body.read(CHUNK):
                    out.write(chunk)
            yield path
        finally:
            path.unlink(missing_ok=True)

    def problem(self) -> str | None:
        """None when the bucket answers and the spool folder is writable."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            return f"object store unreachable ({type(exc).__name__})"
        if not os.access(self.tmp_dir, os.W_OK):
            return "spool folder not writable"
        return None


class _Empty:
    def read(self, n: int | None = None) -> bytes:
        return b""

    def close(self) -> None:
        return None
