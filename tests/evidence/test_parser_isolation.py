"""The parsers that read uploads cannot reach the instance (issue 12 item 11): an upload is
parsed by a pool worker that sees neither the database, the blobs nor the ledger signing key
of the running instance, and reads the upload only through the descriptor it is handed."""

from __future__ import annotations

import os

import pytest

from capture import isolation
from capture.pool import ParserPool
from tests.evidence.support import photo, upload

pytestmark = pytest.mark.skipif(
    isolation.detect().kind != "bwrap",
    reason="bubblewrap cannot run here; .ci/run installs it (apt-get install bubblewrap)")


def test_instance_files_are_out_of_the_parsers_reach(container, client, people, case,
                                                     tmp_path) -> None:
    """After a real upload (so the database, the stored blob and the ledger key exist), a
    worker started exactly as the upload's parsers are cannot open any of them, while the
    upload itself was parsed (its capture time and GPS were read through the descriptor)."""
    r = upload(client, people["officer"], case["id"], photo(tmp_path).read_bytes(), "p.jpg",
               "image/jpeg")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["metadata"]["taken_at"] and body["metadata"]["gps"], body["metadata"]
    settings = container.settings
    secrets = [settings.effective_database_url.removeprefix("sqlite:///"),
               str(settings.effective_ledger_key_path),
               str(container.blobs.local_path(body["sha256"]))]
    for path in secrets:
        assert os.path.exists(path), path
    with ParserPool(1, 10, diagnostics=True) as p:
        opened = p.call("probe", paths=secrets)["opened"]
    assert opened == dict.fromkeys(secrets, "FileNotFoundError")
