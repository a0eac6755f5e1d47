"""The content-addressed blob store writes once, never rewrites, bounds what it takes and
streams what it gives back: every test here runs on the folder store and on a real
S3-protocol server (moto_server on 127.0.0.1, bucket with object lock) (A34.1, A37.1)."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.kernel.settings import Settings
from core.platform.blobs import (
    BlobMissing,
    BlobStore,
    BlobTooLarge,
    LocalBlobStore,
    open_blob_store,
)
from core.platform.s3blobs import PART_SIZE, S3BlobStore


def _s3(server, tmp_path: Path, *, lock: bool = True, **over) -> S3BlobStore:
    fields = server.settings_for(server.bucket(lock=lock), tmp_path / "spool")
    settings = Settings(instance_path=tmp_path / "instance", **{**fields, **over})
    store = open_blob_store(settings.storage_url, settings)
    assert isinstance(store, S3BlobStore)
    return store


@pytest.fixture(params=["file", "s3"])
def store(request, tmp_path) -> BlobStore:
    """An empty store of each backend."""
    if request.param == "file":
        return open_blob_store(f"file://{tmp_path / 'blobs'}")
    return _s3(request.getfixturevalue("s3_server"), tmp_path)


def _tamper(store: BlobStore, sha: str, data: bytes) -> None:
    """What a custodian with write access could do behind the program's back."""
    if isinstance(store, LocalBlobStore):
        path = store.local_path(sha)
        os.chmod(path, 0o644)
        path.write_bytes(data)
    else:  # a new version on top: object lock keeps the old one, but GET now answers this
        store.client.put_object(Bucket=store.bucket, Key=store.key(sha), Body=data)


def test_put_stream_is_content_addressed_and_written_once(store):
    """A37.1: the name is the SHA-256 of the bytes; a second put of the same bytes is a no-op;
    the spool folder is empty afterwards; reading streams back the same bytes."""
    data = b"evidence" * 100_000
    first = store.put_stream(io.BytesIO(data))
    assert first.sha256 == hashlib.sha256(data).hexdigest() and first.size == len(data)
    assert not first.existed and store.exists(first.sha256)
    again = store.put_stream(io.BytesIO(data))
    assert again.existed and again.sha256 == first.sha256
    assert list(store.iter_hashes()) == [first.sha256]
    assert store.rehash(first.sha256) == first.sha256
    assert store.size(first.sha256) == len(data)
    with store.open(first.sha256) as fh:
        assert fh.read() == data
    assert list(store.tmp_dir.iterdir()) == []
    if isinstance(store, LocalBlobStore):
        assert (store.local_path(first.sha256).stat().st_mode & 0o222) == 0


def test_ranges_and_missing_blobs(store):
    """A37.1: a byte range reads only those bytes; a missing blob is BlobMissing (a
    FileNotFoundError) everywhere, never an empty answer."""
    data = bytes(range(256)) * 40
    sha = store.put_bytes(data).sha256
    for start, stop in ((0, 10), (1000, 1001), (5000, len(data)), (7, 7)):
        with store.open_range(sha, start, stop) as body:
            assert body.read() == data[start:stop]
    with store.open_range(sha, 100, 4200) as body:  # read in pieces, as a response does
        pieces = []
        while piece := body.read(1000):
            pieces.append(piece)
    assert b"".join(pieces) == data[100:4200]
    absent = hashlib.sha256(b"absent").hexdigest()
    assert not store.exists(absent)
    for call in (store.open, store.size, store.rehash):
        with pytest.raises(BlobMissing):
            call(absent)
    with pytest.raises(FileNotFoundError), store.local_copy(absent):
        pass
    with store.local_copy(sha) as path:
        assert path.read_bytes() == data
    assert list(store.tmp_dir.iterdir()) == []


def test_limit_discards_partial_upload(store):
    """A stream past the limit raises and leaves nothing behind."""
    with pytest.raises(BlobTooLarge):
        store.put_stream(io.BytesIO(b"x" * 5000), limit=4096)
    assert list(store.iter_hashes()) == [] and list(store.tmp_dir.iterdir()) == []


def test_bad_names_and_urls_are_refused(store, tmp_path):
    """Path tricks in a hash and unknown storage schemes are refused."""
    for bad in ("../../etc/passwd", "A" * 64, "0" * 63):
        with pytest.raises(ValueError):
            store.exists(bad)
    with pytest.raises(ValueError):
        open_blob_store("ftp://somewhere/x")
    with pytest.raises(ValueError):
        open_blob_store("s3:///no-bucket")
    assert open_blob_store(f"file://{tmp_path}").root == tmp_path


def test_tampering_is_found_by_streamed_rehash(store):
    """A37.1: bytes changed behind the store's back are found by re-hashing from the store."""
    data = b"original evidence bytes"
    sha = store.put_bytes(data).sha256
    _tamper(store, sha, b"forged bytes")
    assert store.rehash(sha) == hashlib.sha256(b"forged bytes").hexdigest() != sha


def test_large_blob_streams_in_bounded_memory(store):
    """A large file goes in (multipart on S3) and out with memory bounded by a part, not by
    the file: 3 parts' worth of bytes, at most 2 parts' worth held at once."""
    size = 3 * PART_SIZE + 12345
    block = os.urandom(1 << 16)

    class Source(io.RawIOBase):
        """Bytes made as they are read: the test holds no copy of the file."""

        def __init__(self):
            self.left, self.hash = size, hashlib.sha256()

        def readable(self):
            return True

        def readinto(self, buf):
            n = min(len(buf), self.left, len(block))
            buf[:n] = block[:n]
            self.hash.update(block[:n])
            self.left -= n
            return n

    source = Source()
    tracemalloc.start()
    try:
        stored = store.put_stream(io.BufferedReader(source, 1 << 20))
        h = hashlib.sha256()
        with store.open(stored.sha256) as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert stored.sha256 == source.hash.hexdigest() == h.hexdigest()
    assert store.size(stored.sha256) == size
    assert peak < 2 * PART_SIZE + (4 << 20), f"peak {peak} bytes"


# --- what only the S3 backend does ---------------------------------------------------------


def test_s3_object_carries_its_checksum_metadata_and_lock(s3_server, tmp_path):
    """A34.1 A37.1: a small object carries its whole SHA-256 as the store-checked checksum,
    every object its hex digest as metadata, and a COMPLIANCE lock of 25 years (a case's
    longer retention extends it); the store itself refuses to delete a locked version."""
    store = _s3(s3_server, tmp_path)
    data = b"small photo bytes"
    sha = store.put_bytes(data).sha256
    head = store.client.head_object(Bucket=store.bucket, Key=store.key(sha),
                                    ChecksumMode="ENABLED")
    import base64

    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert head["Metadata"]["sha256"] == sha == store.stored_sha256(sha)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    years = (head["ObjectLockRetainUntilDate"] - datetime.now(UTC)) / timedelta(days=365.25)
    assert 24.9 < years < 25.1
    assert store.put_bytes(data, retain_years=30).existed
    _, until = store.retention(sha)
    assert 29.9 < (until - datetime.now(UTC)) / timedelta(days=365.25) < 30.1
    with pytest.raises(store.client.exceptions.ClientError) as refused:
        store.client.delete_object(Bucket=store.bucket, Key=store.key(sha),
                                   VersionId=head["VersionId"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert store.rehash(sha) == sha


def test_s3_multipart_is_invisible_until_complete(s3_server, tmp_path):
    """Nothing is visible under a content address until the whole file is in: while the parts
    of a multipart upload go up, another reader of the bucket finds no object there; each part
    carries its SHA-256; the object's metadata carries the whole file's digest."""
    store = _s3(s3_server, tmp_path)
    reader = _s3(s3_server, tmp_path / "other")
    reader.bucket = store.bucket
    data = os.urandom(PART_SIZE) + os.urandom(PART_SIZE // 2)
    sha = hashlib.sha256(data).hexdigest()
    seen, real = [], store.client.upload_part

    def watching_upload_part(**kwargs):
        seen.append((kwargs["PartNumber"], reader.exists(sha), "ChecksumSHA256" in kwargs))
        return real(**kwargs)

    store.client.upload_part = watching_upload_part  # a spy on the real client, not a mock
    stored = store.put_stream(io.BytesIO(data))
    assert seen == [(1, False, True), (2, False, True)]
    assert reader.exists(sha) and reader.rehash(sha) == sha == stored.sha256
    assert reader.stored_sha256(sha) == sha
    head = store.client.head_object(Bucket=store.bucket, Key=store.key(sha))
    assert head["ETag"].endswith('-2"')  # two parts, completed as one object
    assert head["ObjectLockMode"] == "COMPLIANCE"  # A34.1 for multipart objects too
    assert (head["ObjectLockRetainUntilDate"] - datetime.now(UTC)) > timedelta(days=365 * 24)


def test_s3_second_writer_is_refused_by_the_store(s3_server, tmp_path):
    """Write-once under a race: a writer that checked before the other stored the same content
    is refused by If-None-Match (412) and keeps the first object; a spool file whose bytes no
    longer match its hash is never uploaded."""
    store = _s3(s3_server, tmp_path)
    data = b"the same photo, from two processes"
    sha = store.put_bytes(data).sha256
    late = store.tmp_dir / "late"
    late.write_bytes(data)
    assert store._upload(late, sha, len(data), None) is False
    versions = store.client.list_object_versions(Bucket=store.bucket)["Versions"]
    assert len(versions) == 1
    bad = store.tmp_dir / "bad"
    bad.write_bytes(b"not what was hashed")
    other = hashlib.sha256(b"what was hashed").hexdigest()
    with pytest.raises(OSError, match="changed"):
        store.adopt(bad, other, bad.stat().st_size)
    assert not store.exists(other) and not bad.exists()


def test_s3_without_object_lock_still_writes_once(s3_server, tmp_path, caplog):
    """A bucket without object lock: the store says so in the log and still writes once."""
    store = _s3(s3_server, tmp_path, lock=False)
    with caplog.at_level(logging.WARNING, logger="quancheng.blobs.s3"):
        sha = store.put_bytes(b"x").sha256
    assert "no object lock" in caplog.text
    assert store.retention(sha) == (None, None)
    assert store.put_bytes(b"x").existed


def test_s3_concurrent_commits_of_one_content(s3_server, tmp_path):
    """Four threads commit the same content at once: exactly one object version results."""
    store = _s3(s3_server, tmp_path)
    data = os.urandom(50_000)
    results, errors = [], []

    def put():
        try:
            results.append(store.put_bytes(data))
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len({r.sha256 for r in results}) == 1
    assert sum(not r.existed for r in results) >= 1
    assert len(store.client.list_object_versions(Bucket=store.bucket)["Versions"]) == 1


def test_s3_health(s3_server, tmp_path):
    """The health check asks the bucket: a missing bucket is reported, not raised."""
    store = _s3(s3_server, tmp_path)
    assert store.problem() is None
    store.bucket = "qc-no-such-bucket"
    assert "unreachable" in store.problem()


def test_settings_refuse_bad_s3_options():
    """S3_* settings are checked at start, with the setting named."""
    from core.kernel.settings import SettingsError

    for env, word in (({"S3_ADDRESSING_STYLE": "sideways"}, "S3_ADDRESSING_STYLE"),
                      ({"S3_LOCK_MODE": "loose"}, "S3_LOCK_MODE"),
                      ({"S3_CONDITIONAL_WRITES": "maybe"}, "S3_CONDITIONAL_WRITES")):
        with pytest.raises(SettingsError, match=word):
            Settings.from_env(env)
    s = Settings.from_env({"STORAGE_URL": "s3://b/p", "S3_ENDPOINT_URL": "http://127.0.0.1:9",
                           "S3_SECRET_ACCESS_KEY": "top-secret", "S3_LOCK_MODE": "governance"})
    assert s.s3_lock_mode == "GOVERNANCE" and "top-secret" not in repr(s)
    with pytest.raises(SettingsError, match="SPOOL_PATH"):
        Settings.from_env({"APP_ENV": "production", "STORAGE_URL": "s3://b/p"})
