"""The volume from pre-rendered sheets (A32.1): cached sheet files concatenated in time order
into parts, each page stamped with its place in the volume (第 N 页, bottom centre, as the
sheets were numbered before) and a footer naming the case and the document's serial.

The stamps are drawn with the same embedded CJK font as the pages: one small PDF/A page is laid
out by WeasyPrint per build holding every character the stamps need, and its embedded font
subset is reused by every stamp (text written by glyph id, from the subset's ToUnicode map, so
the stamped text is extractable). Each part keeps the first sheet's PDF/A-2b identification
(XMP metadata and sRGB output intent) and document information, so every font stays embedded
and the file still says what it is.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
)

from core.dossier.pages import Sheet
from core.dossier.pdf import PdfRenderer
from core.dossier.sheet_cache import CachedSheet

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


class Stamper:
    """Writes volume parts from cached sheets with their page numbers stamped on."""

    def __init__(self, renderer: PdfRenderer, case_number: str):
        self.case_number = case_number
        chars = FIXED_TEXT + case_number
        # One line holding each character the stamps use, laid out with the pages' font.
        glyphs = renderer.render(Sheet(chars, []))
        self._glyphs = PdfReader(io.BytesIO(glyphs.data))
        page = self._glyphs.pages[0]
        fonts = page["/Resources"]["/Font"]
        self._font = next(iter(fonts.values())).get_object()
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
        """One part: the sheets in order, stamped; returns the file and each sheet's pages."""
        writer = PdfWriter()
        font_ref = None
        counts = []
        first_reader = None
        ident = hashlib.sha256(self.case_number.encode())
        for item in placed:
            ident.update(f"{item.sheet.key}:{item.first_page}:{item.serial};".encode())
            reader = PdfReader(io.BytesIO(item.sheet.read()))
            if first_reader is None:
                first_reader = reader
                font_ref = writer._add_object(self._font.clone(writer))
            pages = reader.pages
            if len(pages) != item.sheet.pages:
                raise ValueError(f"cached sheet {item.sheet.key[:16]}… changed its page count")
            counts.append(len(pages))
            for k, src in enumerate(pages):
                page = writer.add_page(src)
                self._stamp_page(writer, page, font_ref, item.first_page + k, item.serial)
        if first_reader is None:
            raise ValueError("a part needs at least one sheet")
        _keep_pdfa_identity(writer, first_reader, ident.digest()[:16])
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue(), counts

    def _stamp_page(self, writer: PdfWriter, page, font_ref, number: int, serial: int) -> None:
        resources = page["/Resources"].get_object()
        fonts = resources.get("/Font")
        if fonts is None:
            fonts = DictionaryObject()
            resources[NameObject("/Font")] = fonts
        fonts.get_object()[NameObject(FONT)] = font_ref
        contents = page.get("/Contents")
        existing = list(contents.get_object()) if isinstance(contents.get_object(),
                                                              ArrayObject) else [contents]
        # The page's own content is wrapped in q/Q (WeasyPrint leaves its flipped matrix
        # set), so the stamp is drawn in the page's plain coordinates.
        head, tail = DecodedStreamObject(), DecodedStreamObject()
        head.set_data(b"q\n")
        tail.set_data(b"Q\n" + self.stamp(number, serial))
        page[NameObject("/Contents")] = ArrayObject(
            [writer._add_object(head), *existing, writer._add_object(tail)])


def _glyph_map(font) -> tuple[dict[str, int], dict[int, int]]:
    """A Type0 font's character → glyph id (from its ToUnicode map; the lowest id when a
    character has several, the plain form) and glyph id → width."""
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
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
    w = font["/DescendantFonts"][0].get_object().get("/W") or []
    i = 0
    while i < len(w):
        first = int(w[i])
        if isinstance(w[i + 1], ArrayObject | list):
            for n, value in enumerate(w[i + 1]):
                widths[first + n] = int(value)
            i += 2
        else:
            for code in range(first, int(w[i + 1]) + 1):
                widths[code] = int(w[i + 2])
            i += 3
    return cid, widths


def _keep_pdfa_identity(writer: PdfWriter, first: PdfReader, ident: bytes) -> None:
    """The part says what its sheets are: PDF/A-2b XMP metadata, the sRGB output intent and
    document information matching the XMP (PDF/A 6.6.3), and a file identifier."""
    root = first.trailer["/Root"].get_object()
    for key in ("/Metadata", "/OutputIntents", "/Lang", "/MarkInfo"):
        if key in root:
            # An indirect object clones to an indirect object of the part (the XMP stream
            # must stay indirect).
            writer._root_object[NameObject(key)] = root.raw_get(key).clone(writer)
    info = first.metadata or {}
    writer.add_metadata({k: v for k, v in info.items()})
    if "/Producer" in info:
        writer.add_metadata({"/Producer": info["/Producer"]})
    # The same sheets at the same places give the same identifier (PDF/A 6.1.3 wants one).
    writer._ID = ArrayObject([ByteStringObject(ident), ByteStringObject(ident)])
