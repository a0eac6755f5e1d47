"""The content-addressed blob store writes once, never rewrites, and bounds what it takes."""

from __future__ import annotations

import hashlib
import io

import pytest

from core.platform.blobs import BlobTooLarge, LocalBlobStore, open_blob_store


def test_put_stream_is_content_addressed_and_read_only(tmp_path):
    """The name is the SHA-256 of the bytes; the file is read-only; a second put is a no-op."""
    store = LocalBlobStore(tmp_path)
    data = b"evidence" * 100_000
    first = store.put_stream(io.BytesIO(data))
    assert first.sha256 == hashlib.sha256(data).hexdigest() and first.size == len(data)
    assert not first.existed
    path = store.local_path(first.sha256)
    assert path.read_bytes() == data and (path.stat().st_mode & 0o222) == 0
    again = store.put_stream(io.BytesIO(data))
    assert again.existed and again.sha256 == first.sha256
    assert list(store.iter_hashes()) == [first.sha256]
    assert store.rehash(first.sha256) == first.sha256
    assert list(store.tmp_dir.iterdir()) == []


def test_limit_discards_partial_upload(tmp_path):
    """A stream past the limit raises and leaves nothing behind."""
    store = LocalBlobStore(tmp_path)
    with pytest.raises(BlobTooLarge):
        store.put_stream(io.BytesIO(b"x" * 5000), limit=4096)
    assert list(store.iter_hashes()) == [] and list(store.tmp_dir.iterdir()) == []


def test_bad_names_and_urls_are_refused(tmp_path):
    """Path tricks in a hash and unknown storage schemes are refused."""
    store = LocalBlobStore(tmp_path)
    with pytest.raises(ValueError):
        store.local_path("../../etc/passwd")
    with pytest.raises(ValueError):
        open_blob_store("ftp://somewhere/x")
    assert open_blob_store(f"file://{tmp_path}").root == tmp_path
