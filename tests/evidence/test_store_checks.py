"""The stored originals, on the folder store and on the S3 server alike: downloads and ranges
stream from the store, and `flask integrity check` and `flask ledger verify` re-hash by
streaming from it, so a changed or missing object is found wherever it lives (A33.1, A37.1)."""

from __future__ import annotations

import hashlib
import os

import pytest

from core.platform.blobs import LocalBlobStore
from tests.evidence.support import upload
from tests.helpers import auth

pytestmark = pytest.mark.both_stores


@pytest.fixture
def item(client, people, case) -> tuple[dict, bytes]:
    """One uploaded PDF scan of 400 kB (several response chunks) and its bytes."""
    data = b"%PDF-1.4\n" + os.urandom(400_000)
    r = upload(client, people["officer"], case["id"], data, "扫描件.pdf", "application/pdf",
               proves="询问笔录扫描件", method="scan")
    assert r.status_code == 201, r.get_json()
    return r.get_json(), data


def _tamper(container, sha: str, data: bytes) -> None:
    """Change the stored bytes behind the program's back (a custodian with write access)."""
    blobs = container.blobs
    if isinstance(blobs, LocalBlobStore):
        path = blobs.local_path(sha)
        path.chmod(0o644)
        path.write_bytes(data)
    else:  # object lock keeps the first version; a new one on top is what GET now answers
        blobs.client.put_object(Bucket=blobs.bucket, Key=blobs.key(sha), Body=data)


def test_download_ranges_and_conditions_stream_from_the_store(client, people, item):
    """A37.1: the whole original, a middle range, a suffix range, HEAD, If-None-Match (304)
    and an unsatisfiable range (416) are answered from the store, byte for byte."""
    body, data = item
    url, who = f"/api/v1/evidence/{body['id']}/content", auth(people["officer"])
    whole = client.get(url, headers=who, buffered=True)
    assert whole.status_code == 200 and whole.data == data
    assert whole.headers["Content-Length"] == str(len(data))
    assert whole.headers["Accept-Ranges"] == "bytes"
    middle = client.get(url, headers={**who, "Range": "bytes=300000-300099"}, buffered=True)
    assert middle.status_code == 206 and middle.data == data[300000:300100]
    assert middle.headers["Content-Range"] == f"bytes 300000-300099/{len(data)}"
    tail = client.get(url, headers={**who, "Range": "bytes=-10"}, buffered=True)
    assert tail.status_code == 206 and tail.data == data[-10:]
    head = client.head(url, headers=who)
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == str(len(data))
    same = client.get(url, headers={**who, "If-None-Match": f'"{body["sha256"]}"'})
    assert same.status_code == 304 and same.data == b""
    beyond = client.get(url, headers={**who, "Range": f"bytes={len(data) + 5}-"})
    assert beyond.status_code == 416 and beyond.get_json()["error"]["code"]


def test_integrity_check_and_ledger_verify_rehash_from_the_store(app, container, item):
    """A37.1: both commands re-hash the stored original from the store: intact first, then
    the changed object is named (exit 1) and the ledger entry of the item reports it."""
    body, _ = item
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["integrity", "check"])
    assert ok.exit_code == 0 and "1 blobs checked, 0 mismatches" in ok.output, ok.output
    verified = runner.invoke(args=["ledger", "verify"])
    assert verified.exit_code == 0 and "ledger intact" in verified.output
    _tamper(container, body["sha256"], b"changed")
    bad = runner.invoke(args=["integrity", "check"])
    assert bad.exit_code == 1
    assert f"MISMATCH {body['sha256']}: {hashlib.sha256(b'changed').hexdigest()}" in bad.output
    damaged = runner.invoke(args=["ledger", "verify"])
    assert damaged.exit_code == 1 and "was changed" in damaged.output


def test_a_missing_original_is_a_clear_404(client, container, people, item):
    """A37.1: a stored size that differs from the recorded one is refused with 404 and the
    instruction to run the integrity check, never streamed as if it were the original."""
    body, _ = item
    _tamper(container, body["sha256"], b"short")
    r = client.get(f"/api/v1/evidence/{body['id']}/content", headers=auth(people["officer"]))
    assert r.status_code == 404 and "integrity check" in r.get_json()["error"]["message_en"]
