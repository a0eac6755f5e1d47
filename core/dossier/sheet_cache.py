"""Pre-rendered sheets of the case file (A32.1): each record's and evidence item's sheet laid
out once, without the volume's page numbers, and kept as a PDF/A file named by the SHA-256 of
exactly what it shows; the build concatenates them and stamps the page numbers
(core.dossier.stamp).

The key covers the sheet's whole content (the record's fields as shown, its approvals,
signatures with their image hashes, refusals, officers' names, the case number) and everything
that shapes its layout: the template, the style sheets, the renderer's version, WeasyPrint's
version and the font file itself. Any change makes a new key, so a stale file is never used;
files are written once (a new name or nothing) and never changed.

The cache lives under the instance folder (``<instance>/dossier-sheets/``), not in the
evidence blob store: a cached sheet is not evidence and not ledgered — it can always be made
again from the logged rows, the bag's pages are proven by the bag's own manifest, and keeping
it out of the write-once, retention-locked evidence store lets an operator clear it (say after
a font upgrade) without a migration or a retention exception.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core.dossier.pages import Images, Pairs, Sheet, Table
from core.dossier.pdf import CJK_FAMILY, PDF_VARIANT, TEMPLATES, PdfRenderer

log = logging.getLogger("quancheng.dossier")
# Raise when what a cached sheet looks like changes in code (pdf.py, pages.py's layout).
SHEET_FORMAT = "quancheng-sheet/1"
FOLDER = "dossier-sheets"


@dataclass(frozen=True)
class CachedSheet:
    """A sheet's file in the cache, how many pages it takes and the SHA-256 of its bytes."""

    key: str
    path: Path
    pages: int
    sha256: str

    def read(self) -> bytes:
        """The file's bytes, refused unless they are the bytes that were cached: a sheet
        changed on disk must never reach a volume (the bag's manifest would prove it)."""
        data = self.path.read_bytes()
        if hashlib.sha256(data).hexdigest() != self.sha256:
            raise AlteredSheet(f"cached sheet {self.path.name} was changed on disk")
        return data


class AlteredSheet(RuntimeError):
    """A cached sheet's bytes no longer match the hash in its name."""


def unnumbered(sheet: Sheet) -> Sheet:
    """The sheet as cached: no volume page numbers and no footer (both stamped at build)."""
    return Sheet(sheet.title, sheet.blocks, subtitle=sheet.subtitle, style=sheet.style)


def sheet_key(sheet: Sheet, renderer: PdfRenderer) -> str:
    """SHA-256 of what the sheet shows and of everything that lays it out."""
    content = {"title": sheet.title, "subtitle": sheet.subtitle, "style": sheet.style,
               "blocks": [_block(b) for b in sheet.blocks]}
    doc = {"format": SHEET_FORMAT, "renderer": renderer_fingerprint(),
           "author": renderer.author, "sheet": content}
    return hashlib.sha256(json.dumps(doc, ensure_ascii=False, sort_keys=True)
                          .encode()).hexdigest()


def _block(block) -> dict:
    if isinstance(block, Pairs):
        return {"pairs": [list(r) for r in block.rows], "heading": block.heading}
    if isinstance(block, Table):
        return {"table": list(block.columns), "rows": [list(r) for r in block.rows],
                "heading": block.heading, "css": block.css}
    if isinstance(block, Images):
        # An image is shown by its bytes: their hash stands for them.
        return {"images": [[c, m, hashlib.sha256(d).hexdigest()] for c, m, d in block.items],
                "heading": block.heading}
    raise TypeError(f"unknown sheet block {type(block).__name__}")


@functools.cache
def renderer_fingerprint() -> dict:
    """Template, style sheets, WeasyPrint's version and the CJK font file's hash."""
    import weasyprint

    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(TEMPLATES.iterdir()) if p.is_file()}
    return {"templates": files, "weasyprint": weasyprint.__version__,
            "variant": PDF_VARIANT, "font": _font_hash()}


def _font_hash() -> str:
    """The hash of the font file fontconfig gives for the CJK family ("" when none)."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return ""
    # A fixed pattern, found on PATH: no untrusted input reaches it.
    out = subprocess.run([fc_match, "-f", "%{file}", CJK_FAMILY],  # noqa: S603
                         capture_output=True, text=True, timeout=30, check=False)
    path = Path(out.stdout.strip())
    if not path.is_file():
        return ""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return f"{path.name}:{h.hexdigest()}"


class SheetCache:
    """Cached sheet PDFs in one folder, ``<key[:2]>/<key>.<pages>.<sha256>.pdf``, each written
    once (the page count in the name: the build numbers pages before it opens a file; the
    file's own hash: a file changed on disk is never used, it is laid out again)."""

    def __init__(self, root: Path | str | None = None):
        self._tmp = None
        if root is None:  # a build with no cache of its own: one for this build only
            self._tmp = tempfile.TemporaryDirectory(prefix="qc-sheets-")
            root = self._tmp.name
        self.root = Path(root)
        self.rendered = 0  # sheets this object laid out (misses)
        self.reused = 0  # sheets found already made

    def get(self, key: str) -> CachedSheet | None:
        """The cached sheet of this key whose bytes still match their hash, or None."""
        folder = self.root / key[:2]
        for path in sorted(folder.glob(f"{key}.*.pdf")) if folder.is_dir() else ():
            found = _named(key, path)
            if found is None:
                continue
            try:
                found.read()
            except (AlteredSheet, OSError):
                log.warning("cached sheet %s does not match its hash: laid out again", path.name)
                continue
            return found
        return None

    def sheet(self, sheet: Sheet, renderer: PdfRenderer) -> CachedSheet:
        """The cached file of this sheet, laid out now if it was not made before."""
        plain = unnumbered(sheet)
        key = sheet_key(plain, renderer)
        found = self.get(key)
        if found is not None:
            self.reused += 1
            return found
        pdf = renderer.render(plain)
        self.rendered += 1
        path = self.put(key, pdf.data, pdf.pages)
        return CachedSheet(key, path, pdf.pages, path.name.split(".")[2])

    def put(self, key: str, data: bytes, pages: int) -> Path:
        """Keep a sheet's bytes under its key and their hash: written aside, then linked into
        place, so a reader never sees half a file and an existing file is never replaced."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.root / key[:2] / f"{key}.{pages}.{digest}.pdf"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o444)
            try:
                os.link(tmp, path)
            except FileExistsError:
                # Another worker made the same bytes (same name): keep theirs, unless the
                # file under that name was changed on disk — then it is set aside, not used.
                if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
                    os.replace(path, path.with_name(f".altered-{os.getpid()}-{path.name}"))
                    os.link(tmp, path)
        finally:
            os.unlink(tmp)
        return path

    def close(self) -> None:
        """Remove a build-only cache."""
        if self._tmp is not None:
            self._tmp.cleanup()


def _named(key: str, path: Path) -> CachedSheet | None:
    """The sheet a cache file's name describes (key, pages, hash), or None for another name."""
    parts = path.name.split(".")
    if len(parts) != 4 or parts[0] != key or not parts[1].isdigit() or int(parts[1]) < 1 \
            or len(parts[2]) != 64:
        return None
    return CachedSheet(key, path, int(parts[1]), parts[2])
