"""The browser libraries the pages use, kept as files in api/static/vendor/ with their version,
licence and subresource-integrity hash (manifest.json), so that no page loads anything from
another origin and a changed file is refused by the browser.

Refresh (a developer's step, with npm on the PATH; nothing of node_modules is kept):

    .venv/bin/python -m api.pages.vendoring

It runs ``npm pack`` for each pinned package below in a temporary folder, copies the dist file
and the licence text, and rewrites manifest.json. tests/pages/test_vendor.py checks that the
files, versions and hashes agree.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor"
MANIFEST = VENDOR_DIR / "manifest.json"


@dataclass(frozen=True)
class Package:
    """One npm package and the one browser file taken from it."""

    key: str  # how templates name it: vendor_script("tus")
    name: str  # the npm package
    version: str
    source: str  # the file inside the package
    file: str  # its name under api/static/vendor/
    symbol: str  # the global the browser build defines
    why: str


PACKAGES = (
    Package("tus", "tus-js-client", "4.3.1", "dist/tus.min.js", "tus-js-client.min.js", "tus",
            "resumable uploads (tus 1.0) from the phone upload page"),
    # python-socketio 5.x speaks Socket.IO protocol 5 over Engine.IO 4: socket.io-client 4.x.
    Package("socketio", "socket.io-client", "4.8.4", "dist/socket.io.min.js",
            "socket.io.min.js", "io", "live updates from the /live namespace "
            "(Socket.IO protocol 5, as python-socketio 5.18.1 serves)"),
    Package("htmx", "htmx.org", "2.0.11", "dist/htmx.min.js", "htmx.min.js", "htmx",
            "partial page updates for forms and lists without a build step"),
)


def sri(data: bytes) -> str:
    """The subresource-integrity value of a file (SHA-384, as browsers expect)."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


@cache
def manifest() -> dict[str, dict]:
    """manifest.json by key (read once per process)."""
    entries = json.loads(MANIFEST.read_text(encoding="utf-8"))["packages"]
    return {entry["key"]: entry for entry in entries}


def _pack(pkg: Package, workdir: Path) -> tuple[Path, dict]:
    """``npm pack`` one pinned package; its unpacked folder and npm's account of the tarball."""
    out = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        ["npm", "pack", "--json", f"{pkg.name}@{pkg.version}"],  # noqa: S607 - npm from PATH
        cwd=workdir, check=True, capture_output=True, text=True)
    info = json.loads(out.stdout)[0]
    target = workdir / pkg.key
    with tarfile.open(workdir / info["filename"]) as tar:
        tar.extractall(target, filter="data")
    return target / "package", info


def _licence(folder: Path) -> Path:
    for name in ("LICENSE", "LICENSE.md", "LICENSE.txt", "license", "LICENCE"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"no licence file in {folder}")


def refresh() -> list[dict]:
    """Fetch every pinned package from the npm registry and rewrite the vendor folder."""
    (VENDOR_DIR / "licenses").mkdir(parents=True, exist_ok=True)
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        for pkg in PACKAGES:
            folder, info = _pack(pkg, Path(tmp))
            meta = json.loads((folder / "package.json").read_text(encoding="utf-8"))
            if meta["version"] != pkg.version:
                raise RuntimeError(f"{pkg.name}: npm gave {meta['version']}, not {pkg.version}")
            data = (folder / pkg.source).read_bytes()
            (VENDOR_DIR / pkg.file).write_bytes(data)
            licence = f"licenses/{pkg.name}.txt"
            shutil.copyfile(_licence(folder), VENDOR_DIR / licence)
            entries.append({
                "key": pkg.key, "package": pkg.name, "version": pkg.version,
                "file": pkg.file, "from": pkg.source, "license": meta.get("license"),
                "license_file": licence, "integrity": sri(data), "symbol": pkg.symbol,
                "npm_tarball_integrity": info["integrity"], "why": pkg.why})
    MANIFEST.write_text(json.dumps({"packages": entries}, indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    manifest.cache_clear()
    return entries


if __name__ == "__main__":
    for entry in refresh():
        sys.stdout.write(f"{entry['package']} {entry['version']} {entry['file']} "
                         f"{entry['integrity']}\n")
