"""The parsers that read uploads cannot reach the instance (issue 12 item 11): an upload is
parsed by a pool worker that sees neither the database, the blobs nor the ledger signing key
of the running instance, and reads the upload only through the descriptor it is handed."""

from __future__ import annotations

import os

import pytest

from capture import isolation
from capture.pool import ParserPool
from tests.evidence.support import photo, upload

# Under CI a weakened sandbox is a failure, not a skip: .ci/run installs bubblewrap.
needs_bwrap = pytest.mark.skipif(
    isolation.detect().kind != "bwrap" and not os.environ.get("CI"),
    reason="bubblewrap cannot run here; .ci/run installs it (apt-get install bubblewrap)")


@needs_bwrap
def test_instance_files_are_out_of_the_parsers_reach(container, client, people, case,
                                                     tmp_path) -> None:
    """After a real upload (so the database, the stored blob and the ledger key exist), a
    worker started exactly as the upload's parsers are cannot open any of them, nor a file in
    the folder where uploads arrive, while the upload itself was parsed (its capture time and
    GPS were read through the descriptor)."""
    r = upload(client, people["officer"], case["id"], photo(tmp_path).read_bytes(), "p.jpg",
               "image/jpeg")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["metadata"]["taken_at"] and body["metadata"]["gps"], body["metadata"]
    settings = container.settings
    arriving = container.blobs.tmp_dir / "in-probe"  # where an upload lands while parsed
    arriving.write_bytes(b"upload")
    secrets = [str(settings.effective_ledger_key_path),
               str(container.blobs.local_path(body["sha256"])), str(arriving)]
    if settings.effective_database_url.startswith("sqlite:///"):  # PostgreSQL has no file
        secrets.append(settings.effective_database_url.removeprefix("sqlite:///"))
    for path in secrets:
        assert os.path.exists(path), path
    with ParserPool(1, 10, diagnostics=True) as p:
        opened = p.call("probe", paths=secrets)["opened"]
    assert opened == dict.fromkeys(secrets, "FileNotFoundError")


@pytest.mark.parametrize(("name", "value", "message"), [
    ("PARSER_POOL_SIZE", "many", "PARSER_POOL_SIZE must be a whole number"),
    ("PARSER_RECYCLE_AFTER", "0", "PARSER_RECYCLE_AFTER must be between 1"),
    ("PARSER_MEMORY_MB", "16", "PARSER_MEMORY_MB must be between 64"),
    ("PARSER_SANDBOX", "chroot", "PARSER_SANDBOX must be auto, bwrap or none"),
])
def test_malformed_parser_setting_stops_the_start(settings, monkeypatch, name, value,
                                                  message) -> None:
    """A malformed PARSER_* setting stops the start with the setting named (as a malformed
    DEADLINE_OVERRIDES does), instead of failing the first upload."""
    from core.bootstrap import bootstrap

    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        bootstrap(settings)
