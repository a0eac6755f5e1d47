"""The vendored browser libraries (api/static/vendor/): each file is the one its manifest names,
with the pinned version, its licence text and the subresource-integrity hash the pages use."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from importlib.metadata import version

from api.pages import vendoring

VENDOR = vendoring.VENDOR_DIR
# Where a library states its own version inside its browser build.
EMBEDDED_VERSION = {"socketio": "Socket.IO v{version}", "htmx": 'version:"{version}"'}
LICENCE_WORDS = {"MIT": "Permission is hereby granted, free of charge",
                 "0BSD": "Permission to use, copy, modify, and/or distribute"}


def test_manifest_matches_the_pins_and_the_files():
    """Every pinned package is in manifest.json with its version; every file's SHA-384 is the
    integrity the manifest (and so every <script integrity=...>) gives; nothing else is kept."""
    entries = json.loads((VENDOR / "manifest.json").read_text(encoding="utf-8"))["packages"]
    assert [(e["key"], e["package"], e["version"], e["file"], e["from"]) for e in entries] == [
        (p.key, p.name, p.version, p.file, p.source) for p in vendoring.PACKAGES]
    for entry in entries:
        data = (VENDOR / entry["file"]).read_bytes()
        digest = base64.b64encode(hashlib.sha384(data).digest()).decode()
        assert entry["integrity"] == f"sha384-{digest}", entry["file"]
        assert vendoring.sri(data) == entry["integrity"]
        assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", entry["npm_tarball_integrity"])
        marker = EMBEDDED_VERSION.get(entry["key"])
        if marker:
            assert marker.format(version=entry["version"]).encode() in data, entry["file"]
    kept = {p.name for p in VENDOR.iterdir() if p.is_file()}
    assert kept == {"manifest.json", "VENDORED.md", *(e["file"] for e in entries)}


def test_every_library_has_its_licence_text():
    """Each library's licence file is kept next to it and is the licence the manifest names."""
    for entry in vendoring.manifest().values():
        text = (VENDOR / entry["license_file"]).read_text(encoding="utf-8")
        assert LICENCE_WORDS[entry["license"]] in text, entry["package"]
    listed = (VENDOR / "VENDORED.md").read_text(encoding="utf-8")
    for entry in vendoring.manifest().values():
        assert f"`{entry['package']}` {entry['version']}" in listed


def test_socketio_client_speaks_the_servers_protocol():
    """python-socketio 5.x serves Socket.IO protocol 5 (Engine.IO 4), which socket.io-client
    3.x and 4.x speak; a server upgrade past 5.x must come with a client check."""
    server_major = int(version("python-socketio").split(".")[0])
    client_major = int(vendoring.manifest()["socketio"]["version"].split(".")[0])
    assert server_major == 5 and client_major in (3, 4)


def test_page_script_tags_carry_the_manifest_hashes(client):
    """The upload page loads tus-js-client from this origin with the manifest's integrity."""
    html = client.get("/u").get_data(as_text=True)
    tus = vendoring.manifest()["tus"]
    assert (f'src="/static/vendor/{tus["file"]}?v={tus["version"]}" '
            f'integrity="{tus["integrity"]}"') in html
