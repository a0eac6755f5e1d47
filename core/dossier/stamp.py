"""The volume from pre-rendered sheets (A32.1): cached sheet files concatenated in time order
into parts, each page stamped with its place in the volume (第 N 页, bottom centre, as the
sheets were numbered before) and a footer naming the case and the document's serial.

The stamps are drawn with the same embedded CJK font as the pages: one small PDF/A page is laid
out by WeasyPrint per case holding every character the stamps need, and its embedded font
subset is reused by every stamp (text written by glyph id, from the subset's ToUnicode map, so
the stamped text is extractable). Each part keeps the first sheet's PDF/A-2b identification
(XMP metadata and sRGB output intent) and document information, so every font stays embedded
and the file still says what it is.

The sheets' pages are copied with pikepdf (qpdf): their objects are copied in C++ and written
with their stream data as it was (nothing decoded or recompressed).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pikepdf

from core.dossier.pages import Sheet
from core.dossier.pdf import PdfRenderer
from core.dossier.sheet_cache import CachedSheet, SheetCache

FONT = "/QcStamp"
MM = 72 / 25.4
# Where WeasyPrint put the numbers (templates/sheet.html: A4, margins 22 20 20 25 mm): the
# middle of the bottom margin, centred between the side margins; the footer flush right.
PAGE_CENTRE_X = (25 + (210 - 45) / 2) * MM
RIGHT_X = (210 - 20) * MM
BASELINE_Y = 10 * MM - 3
NUMBER_SIZE, FOOTER_SIZE = 9, 7
# Every character a stamp can use but the case number's (spaces inside a line, not trimmed).
FIXED_TEXT = "第 0123456789 页 卷内序号 "


def page_label(page: int) -> str:
    """The page number as stamped."""
    return f"第 {page} 页"


def footer(case_number: str, serial: int) -> str:
    """The footer as stamped: the case and the document's serial in the catalogue."""
    return f"{case_number}  卷内序号 {serial}"


@dataclass(frozen=True)
class Placed:
    """A cached sheet at its place in the volume."""

    sheet: CachedSheet
    first_page: int
    serial: int


def glyph_sheet(case_number: str) -> Sheet:
    """The one line whose embedded font subset every stamp of the case is drawn with."""
    return Sheet(FIXED_TEXT + case_number, [])


class SheetError(ValueError):
    """A cached sheet that is not a plain, undamaged PDF as the cache writes it."""


def open_sheet(data: bytes, what: str) -> pikepdf.Pdf:
    """A sheet file opened as it is: refused (not repaired) when damaged or encrypted; qpdf
    would otherwise rebuild a broken cross-reference table and carry on."""
    try:
        pdf = pikepdf.open(io.BytesIO(data), attempt_recovery=False)
    except pikepdf.PdfError as exc:
        raise SheetError(f"{what} is not a readable PDF: {exc}") from None
    if pdf.is_encrypted or pdf.get_warnings():
        pdf.close()
        raise SheetError(f"{what} is damaged or encrypted")
    return pdf


class Stamper:
    """Writes volume parts from cached sheets with their page numbers stamped on."""

    def __init__(self, renderer: PdfRenderer, case_number: str,
                 cache: SheetCache | None = None):
        self.case_number = case_number
        chars = FIXED_TEXT + case_number
        # One line holding each character the stamps use, laid out with the pages' font; it
        # depends on the case number only, so it is a cached sheet too (pre-rendered).
        if cache is not None:
            glyphs = cache.sheet(glyph_sheet(case_number), renderer).read()
        else:
            glyphs = renderer.render(glyph_sheet(case_number)).data
        self._glyphs = open_sheet(glyphs, "the stamps' glyph sheet")
        fonts = self._glyphs.pages[0].obj.Resources.Font
        self._font = next(iter(fonts.values()))
        self._cid, self._width = _glyph_map(self._font)
        missing = set(chars) - set(self._cid)
        if missing:
            raise ValueError(f"the stamp font lacks {''.join(sorted(missing))!r}")

    def _text(self, text: str, size: float, x: float, *, align: str, grey: float) -> bytes:
        codes = "".join(f"{self._cid[c]:04x}" for c in text)
        width = sum(self._width.get(self._cid[c], 1000) for c in text) * size / 1000
        left = x - width / 2 if align == "centre" else x - width
        return (f"{grey:.3f} {grey:.3f} {grey:.3f} rg BT {FONT} {size} Tf "
                f"{left:.2f} {BASELINE_Y:.2f} Td <{codes}> Tj ET\n").encode()

    def stamp(self, page: int, serial: int) -> bytes:
        """The content drawn over one page: its number and the footer."""
        return (b"q\n" + self._text(page_label(page), NUMBER_SIZE, PAGE_CENTRE_X,
                                    align="centre", grey=0)
                + self._text(footer(self.case_number, serial), FOOTER_SIZE, RIGHT_X,
                             align="right", grey=0.333) + b"Q\n")

    def write(self, placed: Iterable[Placed]) -> tuple[bytes, list[int]]:
        """One part: the sheets in order, stamped; returns the file and each sheet's pages.

        Each sheet's pages are copied (with what they reach, not their page tree, inherited
        attributes pushed onto the page); each gets the stamp font in its resources and its
        content wrapped in q/Q (WeasyPrint leaves its flipped matrix set) followed by the
        stamp, drawn in the page's plain coordinates. The part keeps the first sheet's
        PDF/A-2b identification (XMP metadata, sRGB output intent, language) and document
        information, and gets an identifier of its own."""
        items = list(placed)
        if not items:
            raise ValueError("a part needs at least one sheet")
        ident = hashlib.sha256(self.case_number.encode())
        for item in items:
            ident.update(f"{item.sheet.key}:{item.first_page}:{item.serial};".encode())
        counts: list[int] = []
        sources: list[pikepdf.Pdf] = []
        part = pikepdf.new()
        try:
            font = part.copy_foreign(self._font)
            head = part.make_stream(b"q\n")
            for item in items:
                src = open_sheet(item.sheet.read(), f"cached sheet {item.sheet.key[:16]}…")
                sources.append(src)
                if len(sources) == 1:
                    version = _identify(part, src)
                if len(src.pages) != item.sheet.pages:
                    raise ValueError(f"cached sheet {item.sheet.key[:16]}… changed its page "
                                     "count")
                counts.append(len(src.pages))
                before = len(part.pages)
                part.pages.extend(src.pages)
                for k, page in enumerate(part.pages[before:]):
                    tail = part.make_stream(b"Q\n" + self.stamp(item.first_page + k,
                                                                item.serial))
                    _stamp_page(page.obj, font, head, tail)
            # The same sheets at the same places give the same identifier (PDF/A 6.1.3 wants
            # one); its second half is the digest of the bytes, so a build is reproducible.
            first = pikepdf.String(ident.digest()[:16])
            part.trailer.ID = pikepdf.Array([first, first])
            out = io.BytesIO()
            try:
                # Stream data as it is (fonts, images, ICC profile, XMP: nothing decoded or
                # recompressed), a classic cross-reference table (no object streams).
                part.save(out, min_version=version, fix_metadata_version=False,
                          compress_streams=False,
                          stream_decode_level=pikepdf.StreamDecodeLevel.none,
                          object_stream_mode=pikepdf.ObjectStreamMode.disable,
                          deterministic_id=True)
            except pikepdf.PdfError as exc:
                raise SheetError(f"a cached sheet could not be copied: {exc}") from None
            if part.get_warnings() or any(src.get_warnings() for src in sources):
                raise SheetError("a cached sheet is damaged (qpdf warned while copying it)")
        finally:
            part.close()
            for src in sources:
                src.close()
        return out.getvalue(), counts


def _identify(part: pikepdf.Pdf, first: pikepdf.Pdf) -> str:
    """Give the part the first sheet's PDF/A-2b identification and document information;
    returns its PDF version."""
    root = first.Root
    for key in ("/Metadata", "/OutputIntents", "/Lang", "/MarkInfo"):
        if key in root:
            part.Root[key] = _copied(part, root[key])
    if "/Info" in first.trailer:
        part.trailer.Info = _copied(part, first.trailer.Info)
    return first.pdf_version


def _copied(part: pikepdf.Pdf, value):
    """A value of another file in ``part``: what it refers to copied, direct values kept
    direct (qpdf copies indirect objects only)."""
    if isinstance(value, pikepdf.Object) and value.is_indirect:
        return part.copy_foreign(value)
    if isinstance(value, pikepdf.Array):
        return pikepdf.Array([_copied(part, v) for v in value])
    if isinstance(value, pikepdf.Dictionary):
        return pikepdf.Dictionary({k: _copied(part, v) for k, v in value.items()})
    return value


def _stamp_page(page: pikepdf.Dictionary, font: pikepdf.Object, head: pikepdf.Stream,
                tail: pikepdf.Stream) -> None:
    """The stamp font in a copied page's fonts, its content wrapped and followed by ``tail``;
    no /StructParents (the sheet's structure tree is not copied)."""
    if "/StructParents" in page:
        del page.StructParents
    if "/Resources" not in page:
        page.Resources = pikepdf.Dictionary()
    resources = page.Resources
    if "/Font" not in resources:
        resources.Font = pikepdf.Dictionary()
    fonts = resources.Font
    if FONT in fonts:
        # Pages of one sheet may share their fonts: already stamped, not a font of the sheet's.
        if fonts[FONT].objgen != font.objgen:
            raise SheetError("a sheet already has a stamp font")
    else:
        fonts[FONT] = font
    contents = page.get("/Contents")
    if contents is None:
        own = []
    elif isinstance(contents, pikepdf.Array):
        own = list(contents)
    else:
        own = [contents]
    page.Contents = pikepdf.Array([head, *own, tail])


def _glyph_map(font) -> tuple[dict[str, int], dict[int, int]]:
    """A Type0 font's character → glyph id (from its ToUnicode map; the lowest id when a
    character has several, the plain form) and glyph id → width."""
    cmap = font.ToUnicode.read_bytes().decode("latin-1")
    cid: dict[str, int] = {}

    def add(code: int, text: str) -> None:
        if len(text) == 1 and (text not in cid or code < cid[text]):
            cid[text] = code

    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, uni in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            add(int(code, 16), bytes.fromhex(uni).decode("utf-16-be"))
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, uni in re.findall(
                r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            start = int(uni, 16)
            for n, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                add(code, chr(start + n))
    widths: dict[int, int] = {}
    w = font.DescendantFonts[0].get("/W") or []
    i = 0
    while i < len(w):
        first = int(w[i])
        if isinstance(w[i + 1], pikepdf.Array):
            for n, value in enumerate(w[i + 1]):
                widths[first + n] = int(value)
            i += 2
        else:
            for code in range(first, int(w[i + 1]) + 1):
                widths[code] = int(w[i + 2])
            i += 3
    return cid, widths
