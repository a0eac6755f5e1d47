"""Content-addressed blob store: originals are written once and never rewritten.

One interface (``BlobStore``), two backends chosen by STORAGE_URL: ``file://`` (a folder, a
mounted volume in production) and ``s3://bucket/prefix`` (an S3-compatible object store,
core.platform.s3blobs). Bytes always arrive in a local temporary file first, hashed while they
stream (the content address is known only at the end); the finished file is then committed:
renamed into the folder, or uploaded in parts to the object store, where it becomes visible
under its address only when complete. Neither backend ever overwrites or deletes a blob.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol
from urllib.parse import urlparse

from core.kernel.aside import Aside

if TYPE_CHECKING:
    from core.kernel.settings import Settings

CHUNK = 1024 * 1024


class BlobTooLarge(Exception):
    """The stream went past the size limit; nothing was stored."""


class BlobMissing(FileNotFoundError):
    """No blob is stored under that name."""


@dataclass(frozen=True)
class StoredBlob:
    """What the store knows of one blob."""

    sha256: str
    size: int
    existed: bool = False


class BlobStore(Protocol):
    """What every backend offers; callers never see where or how the bytes are kept."""

    # Where files being received are spooled while hashing (tus keeps partial uploads here;
    # with several processes it must be a folder they all share).
    tmp_dir: Path

    def incoming(self, limit: int | None = None) -> IncomingFile:
        """Start receiving a blob in pieces."""
        ...

    def put_stream(self, stream: BinaryIO, limit: int | None = None, *,
                   retain_years: int | None = None) -> StoredBlob:
        """Store a stream; memory stays flat whatever its size."""
        ...

    def put_bytes(self, data: bytes, *, retain_years: int | None = None) -> StoredBlob:
        """Store a small blob held in memory."""
        ...

    def adopt(self, tmp: Path, sha256: str, size: int, *,
              retain_years: int | None = None) -> StoredBlob:
        """Commit a finished, hashed file of tmp_dir under its content address (consumed)."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """A stream of the whole blob (BlobMissing when absent)."""
        ...

    def open_range(self, sha256: str, start: int, stop: int) -> BinaryIO:
        """A stream of bytes [start, stop) of the blob."""
        ...

    def size(self, sha256: str) -> int:
        """The stored size (BlobMissing when absent)."""
        ...

    def exists(self, sha256: str) -> bool:
        """True when the blob is stored."""
        ...

    def iter_hashes(self) -> Iterator[str]:
        """Every stored blob's name."""
        ...

    def rehash(self, sha256: str) -> str:
        """SHA-256 of what is stored under a name now, streamed from the store."""
        ...

    def local_copy(self, sha256: str) -> contextlib.AbstractContextManager[Path]:
        """A local file with the blob's bytes for as long as the block runs (parsers)."""
        ...

    def problem(self) -> str | None:
        """None when the store answers, else what is wrong (health check)."""
        ...


class IncomingFile:
    """A temporary file filled chunk by chunk while hashing; committed by the store."""

    def __init__(self, store: BlobStore, limit: int | None = None):
        self._store = store
        self._limit = limit
        self._hash = hashlib.sha256()
        self.size = 0
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="in-")
        self.path = Path(name)
        self._fd = fd
        self._closed = False
        self._syncing: Aside[None] | None = None

    def write(self, chunk: bytes) -> None:
        """Append a chunk, refusing to grow past the limit."""
        self.size += len(chunk)
        if self._limit is not None and self.size > self._limit:
            self.discard()
            raise BlobTooLarge(f"over the limit of {self._limit} bytes")
        self._hash.update(chunk)
        view = memoryview(chunk)
        while view:  # unbuffered: the bytes go straight to the file, no second copy
            view = view[os.write(self._fd, view):]

    def _sync_and_close(self) -> None:
        try:
            os.fsync(self._fd)
        finally:
            os.close(self._fd)

    def finish(self, *, wait: bool = True) -> tuple[str, Path]:
        """Fsync and close; return the hash and the temp path (not yet committed). With
        ``wait=False`` the fsync runs in a thread while the caller reads the file (type check,
        metadata), and any later ``finish``, ``commit`` or ``discard`` waits for it: nothing is
        committed before its bytes are on disk."""
        if not self._closed:
            self._closed = True
            self._syncing = Aside(self._sync_and_close, "blob-fsync")
        if wait and self._syncing is not None:
            self._syncing.value()  # an fsync error is raised here, every time it is asked
        return self._hash.hexdigest(), self.path

    def commit(self, *, retain_years: int | None = None) -> StoredBlob:
        """Put the finished (fsynced) file under its content address."""
        sha, path = self.finish()
        return self._store.adopt(path, sha, self.size, retain_years=retain_years)

    def discard(self) -> None:
        """Throw the partial file away."""
        if not self._closed:
            self._closed = True
            os.close(self._fd)
        if self._syncing is not None:
            self._syncing.join()
        self.path.unlink(missing_ok=True)


class _Slice:
    """Bytes [start, stop) of an open file, read in order (a range download)."""

    def __init__(self, fh: BinaryIO, start: int, stop: int):
        fh.seek(start)
        self._fh, self._left = fh, max(0, stop - start)

    def read(self, n: int = -1) -> bytes:
        """Up to n bytes (all that is left of the slice when n < 0)."""
        n = self._left if n is None or n < 0 else min(n, self._left)
        data = self._fh.read(n) if n else b""
        self._left -= len(data)
        return data

    def close(self) -> None:
        """Close the file."""
        self._fh.close()

    def __enter__(self) -> _Slice:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class StoreBase:
    """What both backends share: receiving into tmp_dir while hashing, and streamed re-hashing."""

    tmp_dir: Path

    def incoming(self, limit: int | None = None) -> IncomingFile:
        """Start receiving a blob in pieces."""
        return IncomingFile(self, limit)  # type: ignore[arg-type]

    def put_stream(self, stream: BinaryIO, limit: int | None = None, *,
                   retain_years: int | None = None) -> StoredBlob:
        """Store a stream; memory stays flat whatever its size."""
        incoming = self.incoming(limit)
        try:
            while chunk := stream.read(CHUNK):
                incoming.write(chunk)
            return incoming.commit(retain_years=retain_years)
        except BaseException:
            incoming.discard()
            raise

    def put_bytes(self, data: bytes, *, retain_years: int | None = None) -> StoredBlob:
        """Store a small blob held in memory (signature images, generated receipts)."""
        incoming = self.incoming()
        try:
            incoming.write(data)
            return incoming.commit(retain_years=retain_years)
        except BaseException:
            incoming.discard()
            raise

    def open(self, sha256: str) -> BinaryIO:
        """A stream of the whole blob."""
        raise NotImplementedError

    def rehash(self, sha256: str) -> str:
        """SHA-256 of what is stored under a name now, streamed from the store."""
        h = hashlib.sha256()
        with self.open(sha256) as fh:
            while chunk := fh.read(CHUNK):
                h.update(chunk)
        return h.hexdigest()


class LocalBlobStore(StoreBase):
    """Blobs as read-only files named by SHA-256 under a root folder."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"  # on the same volume: a commit is a rename
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def local_path(self, sha256: str) -> Path:
        """Where a blob lives: two levels of fan-out keep folders small."""
        check_hash(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def adopt(self, tmp: Path, sha256: str, size: int, *,
              retain_years: int | None = None) -> StoredBlob:
        """Move a finished temp file (under tmp_dir, already hashed) to its content address.

        A folder has no retention of its own: the file is made read-only, and the volume's
        backup and permissions keep it (A34.1)."""
        target = self.local_path(sha256)
        if target.exists():
            tmp.unlink(missing_ok=True)  # same content already stored: never rewrite it
            return StoredBlob(sha256, size, existed=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, 0o444)
        try:
            # link() fails when the name exists: of two processes committing the same
            # content, one wins and the other keeps the first file as it is.
            os.link(tmp, target)
        except FileExistsError:
            return StoredBlob(sha256, size, existed=True)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(target.parent)
        return StoredBlob(sha256, size)

    def open(self, sha256: str) -> BinaryIO:
        """Open a blob for reading."""
        try:
            return open(self.local_path(sha256), "rb")  # noqa: SIM115 - caller closes
        except FileNotFoundError:
            raise BlobMissing(f"blob {sha256} is not stored") from None

    def open_range(self, sha256: str, start: int, stop: int) -> BinaryIO:
        """Bytes [start, stop) of a blob."""
        return _Slice(self.open(sha256), start, stop)  # type: ignore[return-value]

    def size(self, sha256: str) -> int:
        """The stored file's size."""
        try:
            return self.local_path(sha256).stat().st_size
        except FileNotFoundError:
            raise BlobMissing(f"blob {sha256} is not stored") from None

    def exists(self, sha256: str) -> bool:
        """True when the blob is stored."""
        return self.local_path(sha256).is_file()

    def iter_hashes(self) -> Iterator[str]:
        """Every stored blob's name."""
        for path in sorted(self.root.glob("??/??/*")):
            if path.is_file() and len(path.name) == 64:
                yield path.name

    @contextlib.contextmanager
    def local_copy(self, sha256: str) -> Iterator[Path]:
        """The stored (read-only) file itself: no copy is needed."""
        path = self.local_path(sha256)
        if not path.is_file():
            raise BlobMissing(f"blob {sha256} is not stored")
        yield path

    def problem(self) -> str | None:
        """None when the folder is there and writable."""
        if not self.tmp_dir.is_dir():
            return "blob folder missing"
        return None if os.access(self.tmp_dir, os.W_OK) else "blob folder not writable"


def check_hash(sha256: str) -> None:
    """Refuse anything but a lower-case SHA-256 hex digest (no path tricks in a name)."""
    if not isinstance(sha256, str) or len(sha256) != 64 \
            or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256 hex digest: {str(sha256)[:80]!r}")


def hash_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_blob_store(url: str, settings: Settings | None = None) -> BlobStore:
    """Choose the backend from STORAGE_URL: file:///folder or s3://bucket/prefix (endpoint,
    region, credentials and spool folder from the settings)."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        path = parsed.netloc + parsed.path if parsed.netloc else parsed.path
        return LocalBlobStore(Path(path))
    if parsed.scheme == "s3":
        from core.kernel.settings import Settings
        from core.platform.s3blobs import S3BlobStore

        if not parsed.netloc:
            raise ValueError("STORAGE_URL s3:// needs a bucket: s3://bucket/prefix")
        return S3BlobStore.from_settings(parsed.netloc, parsed.path.strip("/"),
                                         settings or Settings())
    raise ValueError(f"STORAGE_URL scheme {parsed.scheme!r} is not supported "
                     f"(use file:///folder or s3://bucket/prefix)")
