"""Content-addressed blob store: originals are written once and never rewritten."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlparse

CHUNK = 1024 * 1024


class BlobTooLarge(Exception):
    """The stream went past the size limit; nothing was stored."""


@dataclass(frozen=True)
class StoredBlob:
    """What the store knows of one blob."""

    sha256: str
    size: int
    existed: bool = False


class BlobStore(Protocol):
    """One interface, several backends chosen by STORAGE_URL."""

    def put_stream(self, stream: BinaryIO, limit: int | None = None) -> StoredBlob: ...
    def open(self, sha256: str) -> BinaryIO: ...
    def exists(self, sha256: str) -> bool: ...
    def local_path(self, sha256: str) -> Path: ...
    def iter_hashes(self) -> Iterator[str]: ...


class IncomingFile:
    """A temporary file filled chunk by chunk while hashing; committed by rename."""

    def __init__(self, store: LocalBlobStore, limit: int | None = None):
        self._store = store
        self._limit = limit
        self._hash = hashlib.sha256()
        self.size = 0
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="in-")
        self.path = Path(name)
        self._fh = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        """Append a chunk, refusing to grow past the limit."""
        self.size += len(chunk)
        if self._limit is not None and self.size > self._limit:
            self.discard()
            raise BlobTooLarge(f"over the limit of {self._limit} bytes")
        self._hash.update(chunk)
        self._fh.write(chunk)

    def finish(self) -> tuple[str, Path]:
        """Flush and fsync; return the hash and the temp path (not yet committed)."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        return self._hash.hexdigest(), self.path

    def commit(self) -> StoredBlob:
        """Move the finished file into its content address."""
        sha, path = self.finish() if not self._fh.closed else (self._hash.hexdigest(), self.path)
        return self._store.adopt(path, sha, self.size)

    def discard(self) -> None:
        """Throw the partial file away."""
        if not self._fh.closed:
            self._fh.close()
        self.path.unlink(missing_ok=True)


class LocalBlobStore:
    """Blobs as files named by SHA-256 under a root folder (a mounted volume in production)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def local_path(self, sha256: str) -> Path:
        """Where a blob lives: two levels of fan-out keep folders small."""
        _check_hash(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def incoming(self, limit: int | None = None) -> IncomingFile:
        """Start receiving a blob in pieces."""
        return IncomingFile(self, limit)

    def put_stream(self, stream: BinaryIO, limit: int | None = None) -> StoredBlob:
        """Store a stream; memory stays flat whatever its size."""
        incoming = self.incoming(limit)
        try:
            while chunk := stream.read(CHUNK):
                incoming.write(chunk)
        except BaseException:
            incoming.discard()
            raise
        return incoming.commit()

    def put_bytes(self, data: bytes) -> StoredBlob:
        """Store a small blob held in memory (signature images, generated receipts)."""
        incoming = self.incoming()
        incoming.write(data)
        return incoming.commit()

    def adopt(self, tmp: Path, sha256: str, size: int) -> StoredBlob:
        """Move a finished temp file (under tmp_dir, already hashed) to its content address."""
        target = self.local_path(sha256)
        if target.exists():
            tmp.unlink(missing_ok=True)  # same content already stored: never rewrite it
            return StoredBlob(sha256, size, existed=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)
        os.chmod(target, 0o444)
        _fsync_dir(target.parent)
        return StoredBlob(sha256, size)

    def open(self, sha256: str) -> BinaryIO:
        """Open a blob for reading."""
        return open(self.local_path(sha256), "rb")  # noqa: SIM115 - caller closes

    def exists(self, sha256: str) -> bool:
        """True when the blob is stored."""
        return self.local_path(sha256).is_file()

    def iter_hashes(self) -> Iterator[str]:
        """Every stored blob's name."""
        for path in sorted(self.root.glob("??/??/*")):
            if path.is_file() and len(path.name) == 64:
                yield path.name

    def rehash(self, sha256: str) -> str:
        """SHA-256 of what is stored under a name now."""
        return hash_file(self.local_path(sha256))


def hash_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def hash_chunks(chunks: Iterable[bytes]) -> str:
    """SHA-256 of a sequence of chunks."""
    h = hashlib.sha256()
    for c in chunks:
        h.update(c)
    return h.hexdigest()


def _check_hash(sha256: str) -> None:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256[:80]!r}")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_blob_store(url: str) -> LocalBlobStore:
    """Choose the backend from STORAGE_URL (file:// now; s3:// can follow behind the interface)."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        path = parsed.netloc + parsed.path if parsed.netloc else parsed.path
        return LocalBlobStore(Path(path))
    raise ValueError(f"STORAGE_URL scheme {parsed.scheme!r} is not supported yet (use file://)")
