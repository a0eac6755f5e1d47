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

from pypdf import PdfReader
from pypdf.generic import ArrayObject

from core.dossier.pages import Sheet
from core.dossier.pdf import PdfRenderer
from core.dossier.sheet_cache import CachedSheet, SheetCache, plain_xref
from core.dossier.splice import (
    INHERITED,
    PdfOut,
    RawObject,
    SheetFile,
    SpliceError,
    Token,
    entries,
    renumber,
)

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


class Stamper:
    """Writes volume parts from cached sheets with their page numbers stamped on."""

    def __init__(self, renderer: PdfRenderer, case_number: str,
                 cache: SheetCache | None = None):
        self.case_number = case_number
        chars = FIXED_TEXT + case_number
        # One line holding each character the stamps use, laid out with the pages' font, in
        # the cache's form (one cross-reference table) so its font is copied like the sheets';
        # it depends on the case number only, so it is a cached sheet too (pre-rendered).
        if cache is not None:
            glyphs = cache.sheet(glyph_sheet(case_number), renderer).read()
        else:
            glyphs = plain_xref(renderer.render(glyph_sheet(case_number)).data)
        reader = PdfReader(io.BytesIO(glyphs))
        fonts = reader.pages[0]["/Resources"]["/Font"]
        ref = next(iter(fonts.values()))
        self._font = ref.get_object()
        self._cid, self._width = _glyph_map(self._font)
        missing = set(chars) - set(self._cid)
        if missing:
            raise ValueError(f"the stamp font lacks {''.join(sorted(missing))!r}")
        self._glyphs = SheetFile(glyphs)
        self._font_num = ref.idnum

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

        Each sheet's objects are copied as bytes (core.dossier.splice), renumbered; each page
        gets the stamp font in its resources and its content wrapped in q/Q (WeasyPrint leaves
        its flipped matrix set) followed by the stamp, drawn in the page's plain coordinates.
        The part keeps the first sheet's PDF/A-2b identification (XMP metadata, sRGB output
        intent, language) and document information, and gets an identifier of its own."""
        items = list(placed)
        if not items:
            raise ValueError("a part needs at least one sheet")
        ident = hashlib.sha256(self.case_number.encode())
        files = []
        for item in items:
            ident.update(f"{item.sheet.key}:{item.first_page}:{item.serial};".encode())
        first = None
        out: PdfOut | None = None
        kids: list[int] = []
        counts: list[int] = []
        for item in items:
            sheet = SheetFile(item.sheet.read())
            if out is None:
                first = sheet
                out = PdfOut(sheet.header)
                info_num, pages_num, root_num = out.reserve(), out.reserve(), out.reserve()
                font_num = _copy_all(out, self._glyphs, [self._font_num])[self._font_num]
                head_num = out.reserve()
                out.put(head_num, b"<<\n/Length 2\n>>", b"q\n")
                catalogue = _catalogue_entries(sheet)
                extra = [t.ref for _k, (_v, toks) in catalogue for t in toks if t.kind == "ref"]
                info_ref = sheet.ref(b"/Info")
                numbers = _copy_sheet(out, sheet, pages_num, font_num, head_num, self, item,
                                      kids, counts, extra + [info_ref])
                info = sheet.get(info_ref)
                out.put(info_num, renumber(info.body, info.toks, numbers))
                root_body = b"<<\n/Type /Catalog\n/Pages %d 0 R\n" % pages_num + b"".join(
                    key + b" " + renumber(value, toks, numbers, 0, len(value))
                    + b"\n" for key, (value, toks) in catalogue) + b">>"
                out.put(root_num, root_body)
            else:
                _copy_sheet(out, sheet, pages_num, font_num, head_num, self, item, kids,
                            counts, [])
            files.append(sheet)
        assert out is not None and first is not None
        out.put(pages_num, b"<<\n/Type /Pages\n/Count %d\n/Kids [ %s ]\n>>" % (
            len(kids), b" ".join(b"%d 0 R" % k for k in kids)))
        # The same sheets at the same places give the same identifier (PDF/A 6.1.3 wants one).
        return out.finish(root_num, info_num, ident.digest()[:16]), counts


def _catalogue_entries(sheet: SheetFile) -> list[tuple[bytes, tuple[bytes, list[Token]]]]:
    """The entries of a sheet's catalogue a part keeps: what makes it PDF/A-2b."""
    root = sheet.get(sheet.ref(b"/Root"))
    out = []
    for key in (b"/Metadata", b"/OutputIntents", b"/Lang", b"/MarkInfo"):
        found = root.value(key)
        if found is not None:
            value, toks = found
            start = toks[0].start
            out.append((key, (value, _moved(toks, start))))
    return out


def _moved(toks: list[Token], by: int) -> list[Token]:
    return [Token(t.kind, t.start - by, t.end - by, t.ref) for t in toks]


def _copy_all(out: PdfOut, src: SheetFile, roots: list[int]) -> dict[int, int]:
    """Copy every object the roots reach, renumbered; returns old → new numbers."""
    reach = src.reachable(roots, set())
    numbers = {num: out.reserve() for num in reach}
    for num in reach:
        obj = src.get(num)
        out.put(numbers[num], renumber(obj.body, obj.toks, numbers), obj.stream)
    return numbers


def _page_tree(sheet: SheetFile) -> tuple[list[tuple[int, dict]], set[int]]:
    """The sheet's pages in order, each with the attributes it inherits, and the tree's
    nodes."""
    root = sheet.get(sheet.ref(b"/Root"))
    pages: list[tuple[int, dict]] = []
    nodes: set[int] = set()

    def walk(num: int, inherited: dict, depth: int) -> None:
        if depth > 50:
            raise SpliceError("page tree too deep")
        node = sheet.get(num)
        ents = node.entries()
        kind = ents.get(b"/Type")
        is_pages = kind is not None and node.body[kind[0]:kind[1]] == b"/Pages"
        if not is_pages:
            pages.append((num, inherited))
            return
        nodes.add(num)
        here = dict(inherited)
        for key in INHERITED:
            if key in ents:
                s, e, toks = ents[key]
                here[key] = (node.body[s:e], _moved(toks, s))
        kids = ents.get(b"/Kids")
        if kids is None:
            raise SpliceError("a page tree node without /Kids")
        for t in kids[2]:
            if t.kind == "ref":
                walk(t.ref, here, depth + 1)

    walk(sheet.ref(b"/Pages", root), {}, 0)
    return pages, nodes


def _copy_sheet(out: PdfOut, sheet: SheetFile, pages_num: int, font_num: int, head_num: int,
                stamper: Stamper, item: Placed, kids: list[int], counts: list[int],
                extra_roots: list[int]) -> dict[int, int]:
    """Copy one sheet's pages (and what they reach) into ``out``, stamped; returns the
    sheet's old → new object numbers."""
    pages, nodes = _page_tree(sheet)
    if len(pages) != item.sheet.pages:
        raise ValueError(f"cached sheet {item.sheet.key[:16]}… changed its page count")
    counts.append(len(pages))
    root_num = sheet.ref(b"/Root")
    skip = nodes | {root_num}
    roots = [num for num, _i in pages] + list(extra_roots)
    for _num, inherited in pages:
        roots += [t.ref for _v, toks in inherited.values() for t in toks if t.kind == "ref"]
    reach = sheet.reachable(roots, skip)
    numbers = {num: out.reserve() for num in reach}
    for num in skip:
        numbers[num] = pages_num  # nothing but a page's /Parent should point there
    page_nums = {num for num, _i in pages}
    # Resources dictionaries and font dictionaries (objects) that get the stamp font.
    fonts_to_patch: set[int] = set()
    resources_to_patch: set[int] = set()
    page_bodies: dict[int, bytes] = {}
    for k, (num, inherited) in enumerate(pages):
        page = sheet.get(num)
        ents = page.entries()
        entries_out: list[bytes] = []
        for key, (s, e, _toks) in ents.items():
            if key in (b"/Parent", b"/StructParents", b"/Contents"):
                continue
            value = renumber(page.body, page.toks, numbers, s, e)
            if key == b"/Resources":
                value = _resources(sheet, page.body, s, e, page.toks, numbers, font_num,
                                   fonts_to_patch, resources_to_patch)
            entries_out.append(key + b" " + value)
        for key, (value, toks) in inherited.items():
            if key in ents:
                continue
            new = renumber(value, toks, numbers, 0, len(value))
            if key == b"/Resources":
                new = _resources(sheet, value, 0, len(value), toks, numbers, font_num,
                                 fonts_to_patch, resources_to_patch)
            entries_out.append(key + b" " + new)
        if b"/Resources" not in ents and b"/Resources" not in inherited:
            entries_out.append(b"/Resources << /Font << %s %d 0 R >> >>" % (
                FONT.encode(), font_num))
        contents = _contents(sheet, page, ents, numbers)
        tail_num = out.reserve()
        stamp = b"Q\n" + stamper.stamp(item.first_page + k, item.serial)
        out.put(tail_num, b"<<\n/Length %d\n>>" % len(stamp), stamp)
        entries_out.append(b"/Contents [ %d 0 R %s %d 0 R ]" % (
            head_num, b" ".join(contents), tail_num))
        entries_out.append(b"/Parent %d 0 R" % pages_num)
        page_bodies[num] = b"<<\n" + b"\n".join(entries_out) + b"\n>>"
        kids.append(numbers[num])
    for num in reach:
        if num in page_bodies:
            out.put(numbers[num], page_bodies[num])
            continue
        obj = sheet.get(num)
        body = renumber(obj.body, obj.toks, numbers)
        if num in resources_to_patch:
            body = _resources(sheet, obj.body, 0, len(obj.body), obj.toks, numbers, font_num,
                              fonts_to_patch, None)
        if num in fonts_to_patch:
            if FONT.encode() in obj.entries():
                raise SpliceError("a sheet already has a stamp font")
            body = _add_entry(body, b"%s %d 0 R" % (FONT.encode(), font_num))
        out.put(numbers[num], body, obj.stream)
    # An object both a page's and something else's (say a content stream) stays as it was.
    if page_nums & fonts_to_patch or page_nums & resources_to_patch:
        raise SpliceError("a page used as a resource")
    return numbers


def _contents(sheet: SheetFile, page: RawObject, ents: dict, numbers: dict[int, int]
              ) -> list[bytes]:
    """A page's content streams, renumbered (an array of them, direct or not, taken apart)."""
    found = ents.get(b"/Contents")
    if found is None:
        return []
    _s, _e, toks = found
    if len(toks) == 1 and toks[0].kind == "ref":
        target = sheet.get(toks[0].ref)
        if target.stream is None and target.body.lstrip().startswith(b"["):
            toks = target.toks
    refs = [t.ref for t in toks if t.kind == "ref"]
    return [b"%d 0 R" % numbers[r] for r in refs]


def _resources(sheet: SheetFile, body: bytes, s: int, e: int, toks: list[Token],
               numbers: dict[int, int], font_num: int, fonts_to_patch: set[int],
               resources_to_patch: set[int] | None) -> bytes:
    """A resources value (``body[s:e]``), renumbered, with the stamp font in its fonts; an
    indirect resources or fonts dictionary is noted to be patched where it is written."""
    inner = [t for t in toks if s <= t.start and t.end <= e]
    if len(inner) == 1 and inner[0].kind == "ref":
        if resources_to_patch is None:
            raise SpliceError("resources refer to resources")
        resources_to_patch.add(inner[0].ref)
        return renumber(body, toks, numbers, s, e)
    local = _moved(inner, s)
    value = body[s:e]
    ents = entries(value, local)
    font = ents.get(b"/Font")
    stamp = b"%s %d 0 R" % (FONT.encode(), font_num)
    if font is None:
        return _add_entry(renumber(value, local, numbers), b"/Font << " + stamp + b" >>")
    fs, fe, ftoks = font
    if len(ftoks) == 1 and ftoks[0].kind == "ref":
        fonts_to_patch.add(ftoks[0].ref)
        return renumber(value, local, numbers)
    if FONT.encode() in entries(value[fs:fe], _moved([t for t in local
                                                      if fs <= t.start and t.end <= fe], fs)):
        raise SpliceError("a sheet already has a stamp font")
    return (renumber(value, local, numbers, 0, fe - 2) + b"\n" + stamp + b"\n"
            + renumber(value, local, numbers, fe - 2, len(value)))


def _add_entry(body: bytes, entry: bytes) -> bytes:
    """A dictionary's bytes with one more entry before its closing ``>>``."""
    end = body.rstrip().rfind(b">>")
    if end < 0:
        raise SpliceError("not a dictionary")
    return body[:end] + entry + b"\n" + body[end:]


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
