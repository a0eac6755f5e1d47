"""Static files of the pages: URLs that change when the file changes, and ``<script>`` tags with
a subresource-integrity hash (the vendored libraries' hashes come from their manifest, which a
test checks against the files; our own scripts are hashed when first used)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import url_for
from markupsafe import Markup, escape

from . import vendoring

STATIC = Path(__file__).resolve().parent.parent / "static"


@cache
def _digest(path: str) -> tuple[str, str]:
    """(short version tag, SRI value) of a file under api/static/ (read once per process)."""
    file = (STATIC / path).resolve()
    if STATIC not in file.parents or not file.is_file():
        raise FileNotFoundError(f"no static file {path}")
    data = file.read_bytes()
    return hashlib.sha256(data).hexdigest()[:12], vendoring.sri(data)


def asset_url(path: str) -> str:
    """The URL of a static file, with its content hash so that a cached old copy is not used."""
    return url_for("static", filename=path, v=_digest(path)[0])


def _tag(src: str, integrity: str) -> Markup:
    return Markup('<script src="{}" integrity="{}" defer></script>').format(  # noqa: S704
        escape(src), escape(integrity))


def script(path: str) -> Markup:
    """A deferred ``<script>`` for one of our files under api/static/, with its SRI hash."""
    return _tag(asset_url(path), _digest(path)[1])


def vendor_script(key: str) -> Markup:
    """A deferred ``<script>`` for a vendored library, with the manifest's SRI hash."""
    entry = vendoring.manifest()[key]
    path = f"vendor/{entry['file']}"
    return _tag(url_for("static", filename=path, v=entry["version"]), entry["integrity"])


# htmx's defaults would inject an inline <style> and evaluate attribute code; the pages' CSP
# refuses both, so they are turned off before htmx starts.
HTMX_CONFIG = '{"includeIndicatorStyles": false, "allowEval": false, "allowScriptTags": false}'


def htmx_head() -> Markup:
    """What a page that uses htmx puts in its head: htmx's CSP-safe settings and the library."""
    meta = Markup('<meta name="htmx-config" content="{}">\n').format(HTMX_CONFIG)  # noqa: S704
    return meta + vendor_script("htmx")
