"""Reading stored bytes back (A33.1, A37.1): the original of an item and its preview, checked
against what was recorded, streamed from whichever store holds them (a folder or an
S3-compatible bucket), whole or by byte range; no local path is needed."""

from __future__ import annotations

from collections.abc import Iterator

from core.cases.models import Evidence
from core.kernel.errors import NotFound
from core.platform.blobs import BlobMissing, BlobStore

CHUNK = 256 * 1024


def original_size(blobs: BlobStore, ev: Evidence) -> int:
    """The stored original's size, after checking that it is there with the recorded size."""
    try:
        size = blobs.size(ev.sha256)
    except BlobMissing:
        raise NotFound(f"the stored original of evidence {ev.id} is missing; the custodian "
                       f"must run `flask integrity check` (A37.1)") from None
    if size != ev.size:
        raise NotFound(f"the stored original of evidence {ev.id} has {size} bytes, not the "
                       f"{ev.size} recorded; the custodian must run `flask integrity check`")
    return size


def blob_size(blobs: BlobStore, sha256: str) -> int:
    """A stored blob's size (404 when it is gone)."""
    try:
        return blobs.size(sha256)
    except BlobMissing:
        raise NotFound("the stored file is missing; the custodian must run "
                       "`flask integrity check` (A37.1)") from None


def stream(blobs: BlobStore, sha256: str, start: int, stop: int,
           chunk: int = CHUNK) -> Iterator[bytes]:
    """Bytes [start, stop) of a blob in chunks; the store is opened at the first chunk, so a
    response that is never sent never reads."""
    if stop <= start:
        return
    with blobs.open_range(sha256, start, stop) as body:
        left = stop - start
        while left > 0:
            data = body.read(min(chunk, left))
            if not data:
                raise OSError(f"blob {sha256[:16]} ended {left} bytes early")
            left -= len(data)
            yield data
