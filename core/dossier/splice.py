"""Joining pre-rendered sheet PDFs into one file by copying their objects as bytes (A32.1).

A cached sheet (core.dossier.sheet_cache, written through pypdf: one classic cross-reference
table, no object streams) is read as a table of objects. Only the structure is tokenised (the
dictionaries and arrays, to renumber ``n g R`` references and to find a stream's data); stream
data (page content, font programs, images, ICC profiles, XMP) is copied untouched. Parsing every
object into Python objects and writing it back (pypdf's page cloning) cost most of the build's
stamping time: the CJK fonts' width arrays alone are thousands of numbers per sheet.

Only what a page reaches is copied (its content, resources, fonts, images, annotations), as
pypdf's ``add_page`` does, without its ``/Parent`` and ``/StructParents``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

_NOT_REGULAR = rb"\x00\t\n\x0c\r ()<>\[\]{}/%"
_WS = rb"[\x00\t\n\x0c\r ]"
_NUM = rb"[+-]?(?:\d+\.?\d*|\.\d+)"
_REF = rb"(\d+)" + _WS + rb"+(\d+)" + _WS + rb"+R(?![^" + _NOT_REGULAR + rb"])"
# One token after any whitespace and comments. An array of plain numbers or of such arrays (a
# font's widths: thousands of numbers) is one token; so is a run of plain numbers, stopped
# before a number that starts a reference.
_PLAIN = rb"\[(?:" + _WS + rb"|" + _NUM + rb"(?!" + _WS + rb"*R))*\]"
_TOKEN = re.compile(
    rb"(?:" + _WS + rb"|%[^\r\n]*)*(?:"
    rb"(?P<ref>" + _REF + rb")"
    rb"|(?P<plain>\[(?:" + _WS + rb"|" + _NUM + rb"|" + _PLAIN + rb")*\])"
    rb"|(?P<dopen><<)|(?P<dclose>>>)|(?P<aopen>\[)|(?P<aclose>\])"
    rb"|(?P<hex><[0-9A-Fa-f\x00\t\n\x0c\r ]*>)|(?P<str>\()"
    rb"|(?P<name>/[^" + _NOT_REGULAR + rb"]*)"
    rb"|(?P<nums>" + _NUM + rb"(?:" + _WS + rb"+(?!" + _REF + rb")" + _NUM
    + rb")*(?![^" + _NOT_REGULAR + rb"]))"
    rb"|(?P<word>[^" + _NOT_REGULAR + rb"]+)"
    rb"|(?P<end>$))")
_OBJ = re.compile(rb"(\d+)[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+obj")
_XREF_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])")
# Page attributes a page may take from its page tree (ISO 32000-1, 7.7.3.4).
INHERITED = (b"/Resources", b"/MediaBox", b"/CropBox", b"/Rotate")


class SpliceError(ValueError):
    """A sheet file is not in the form the cache writes."""


def _string_end(data: bytes, i: int) -> int:
    """The index after the literal string opening at ``data[i] == '('``."""
    depth, i, n = 0, i, len(data)
    while i < n:
        c = data[i]
        if c == 0x5C:  # backslash: the next byte is escaped
            i += 2
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise SpliceError("unterminated string")


class Token(NamedTuple):
    """One token of an object's body: its kind, where it is, and a reference's object (a tuple:
    the collector leaves the many of them alone)."""

    kind: str
    start: int
    end: int
    ref: int = 0


def tokens(data: bytes, pos: int = 0, stop_at_stream: bool = False, base: int = 0
           ) -> tuple[list[Token], int]:
    """The tokens of ``data`` from ``pos`` (whitespace left out) up to the end, ``endobj``, or
    (when asked) the ``stream`` keyword, their positions counted from ``base``; returns them
    and where scanning stopped (counted from the start)."""
    out: list[Token] = []
    match = _TOKEN.match
    while True:
        m = match(data, pos)
        if m is None:
            raise SpliceError(f"unexpected byte at {pos}")
        kind = m.lastgroup
        if kind == "end":
            return out, m.end()
        start = m.start(kind)
        if kind == "str":
            pos = _string_end(data, start)
            out.append(Token("str", start - base, pos - base))
            continue
        pos = m.end()
        if kind == "ref":
            out.append(Token("ref", start - base, pos - base, int(m.group(2))))
            continue
        if kind == "word":
            word = m.group(kind)
            if word == b"endobj" or (stop_at_stream and word == b"stream"):
                return out, start
        out.append(Token(kind, start - base, pos - base))  # type: ignore[arg-type]


def _value_end(toks: list[Token], i: int) -> int:
    """The index after the value starting at token ``i``."""
    kind = toks[i].kind
    if kind in ("dopen", "aopen"):
        close = "dclose" if kind == "dopen" else "aclose"
        depth = 0
        while i < len(toks):
            k = toks[i].kind
            if k == kind:
                depth += 1
            elif k == close:
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        raise SpliceError("unbalanced brackets")
    return i + 1


def entries(body: bytes, toks: list[Token]) -> dict[bytes, tuple[int, int, list[Token]]]:
    """A dictionary's entries at its top level: key → (value start, value end, its tokens)."""
    if not toks or toks[0].kind != "dopen":
        raise SpliceError("not a dictionary")
    out: dict[bytes, tuple[int, int, list[Token]]] = {}
    i = 1
    while toks[i].kind != "dclose":
        if toks[i].kind != "name":
            raise SpliceError("a dictionary key is not a name")
        key = body[toks[i].start:toks[i].end]
        j = _value_end(toks, i + 1)
        out[key] = (toks[i + 1].start, toks[j - 1].end, toks[i + 1:j])
        i = j
    return out


@dataclass
class RawObject:
    """An object of a sheet file: its body (dictionary or other value) as bytes and its
    tokens, and its stream data if it has any."""

    body: bytes
    toks: list[Token]
    stream: bytes | None

    def refs(self) -> list[int]:
        """The objects it refers to."""
        return [t.ref for t in self.toks if t.kind == "ref"]

    def entries(self) -> dict[bytes, tuple[int, int, list[Token]]]:
        """Its dictionary's entries."""
        return entries(self.body, self.toks)

    def value(self, key: bytes) -> tuple[bytes, list[Token]] | None:
        """One entry's value (bytes and tokens, positions in the body), or None."""
        found = self.entries().get(key)
        if found is None:
            return None
        start, end, toks = found
        return self.body[start:end], toks


class SheetFile:
    """A PDF with one classic cross-reference table, read object by object on demand."""

    def __init__(self, data: bytes):
        self.data = data
        self.header = data[:data.index(b"\n") + 1]
        if not self.header.startswith(b"%PDF-"):
            raise SpliceError("not a PDF")
        at = data.rfind(b"startxref")
        if at < 0:
            raise SpliceError("no startxref")
        xref = int(data[at + 9:].split()[0])
        if data[xref:xref + 4] != b"xref":
            raise SpliceError("no classic cross-reference table")
        self.offsets: dict[int, int] = {}
        pos = xref + 4
        trailer = data.index(b"trailer", pos)
        lines = data[pos:trailer].split()
        k = 0
        while k < len(lines):
            first, count = int(lines[k]), int(lines[k + 1])
            k += 2
            for n in range(count):
                offset, _gen, kind = lines[k], lines[k + 1], lines[k + 2]
                k += 3
                if kind == b"n":
                    self.offsets[first + n] = int(offset)
        toks, _end = tokens(data, trailer + 7)
        self.trailer = RawObject(data, _dict_only(toks), None)
        if self.trailer.value(b"/Prev") is not None:
            raise SpliceError("an updated file (/Prev)")
        self._cache: dict[int, RawObject] = {}

    def ref(self, key: bytes, obj: RawObject | None = None) -> int:
        """The object an entry (of the trailer by default) refers to."""
        found = (obj or self.trailer).value(key)
        if found is None or len(found[1]) != 1 or found[1][0].kind != "ref":
            raise SpliceError(f"{key.decode()} is not a reference")
        return found[1][0].ref

    def get(self, num: int) -> RawObject:
        """Object ``num`` (generation ignored: the cache writes generation 0 only)."""
        if num in self._cache:
            return self._cache[num]
        offset = self.offsets.get(num)
        if offset is None:
            raise SpliceError(f"object {num} is not in the file")
        data = self.data
        m = _OBJ.match(data, offset)
        if m is None or int(m.group(1)) != num:
            raise SpliceError(f"object {num} is not where the table says")
        toks, stop = tokens(data, m.end(), stop_at_stream=True, base=m.end())
        body_end = m.end() + toks[-1].end if toks else stop
        if data.startswith(b"stream", stop):
            start = stop + 6
            if data.startswith(b"\r\n", start):
                start += 2
            elif data.startswith(b"\n", start):
                start += 1
            else:
                raise SpliceError(f"object {num}: no end of line after stream")
            obj = RawObject(data[m.end():body_end], toks, None)
            length_val = obj.value(b"/Length")
            if length_val is None:
                raise SpliceError(f"object {num}: a stream without /Length")
            raw, ltoks = length_val
            length = self.get(ltoks[0].ref).body.strip() if ltoks[0].kind == "ref" else raw
            end = start + int(length)
            tail = data[end:end + 12].lstrip(b"\r\n")
            if not tail.startswith(b"endstream"):
                raise SpliceError(f"object {num}: stream data is not /Length long")
            obj.stream = data[start:end]
        else:
            obj = RawObject(data[m.end():body_end], toks, None)
        self._cache[num] = obj
        return obj

    def reachable(self, roots: list[int], skip: set[int]) -> list[int]:
        """Every object the roots reach (themselves included), ``skip`` not followed, in
        ascending order."""
        seen: set[int] = set()
        todo = list(roots)
        while todo:
            num = todo.pop()
            if num in seen or num in skip:
                continue
            seen.add(num)
            todo.extend(self.get(num).refs())
        return sorted(seen)


def _dict_only(toks: list[Token]) -> list[Token]:
    if not toks or toks[0].kind != "dopen":
        raise SpliceError("no trailer dictionary")
    return toks[:_value_end(toks, 0)]


def renumber(body: bytes, toks: list[Token], numbers: dict[int, int], start: int = 0,
             end: int | None = None) -> bytes:
    """``body[start:end]`` with each reference ``n g R`` replaced by ``numbers[n] 0 R``."""
    end = len(body) if end is None else end
    pieces: list[bytes] = []
    last = start
    for t in toks:
        if t.kind == "ref" and start <= t.start and t.end <= end:
            pieces.append(body[last:t.start])
            pieces.append(b"%d 0 R" % numbers[t.ref])
            last = t.end
    if not pieces:
        return body[start:end]
    pieces.append(body[last:end])
    return b"".join(pieces)


class PdfOut:
    """A PDF written object by object into a list of pieces, with its cross-reference table."""

    def __init__(self, header: bytes):
        self.pieces: list[bytes] = [header, b"%\xe2\xe3\xcf\xd3\n"]
        self.size = sum(len(p) for p in self.pieces)
        self.offsets: dict[int, int] = {}
        self.next = 1

    def reserve(self) -> int:
        """A new object number."""
        self.next += 1
        return self.next - 1

    def put(self, num: int, body: bytes, stream: bytes | None = None) -> None:
        """Write object ``num``: a body (a stream's dictionary when ``stream`` is given)."""
        self.offsets[num] = self.size
        parts = [b"%d 0 obj\n" % num, body]
        if stream is not None:
            parts += [b"\nstream\n", stream, b"\nendstream"]
        parts.append(b"\nendobj\n")
        self.pieces += parts
        self.size += sum(len(p) for p in parts)

    def finish(self, root: int, info: int, ident: bytes) -> bytes:
        """The cross-reference table and trailer; the whole file."""
        count = self.next
        missing = [n for n in range(1, count) if n not in self.offsets]
        if missing:
            raise SpliceError(f"objects reserved and never written: {missing[:5]}")
        xref = [b"xref\n0 %d\n0000000000 65535 f \n" % count]
        xref += [b"%010d 00000 n \n" % self.offsets[n] for n in range(1, count)]
        hexid = ident.hex().encode()
        xref.append(b"trailer\n<<\n/Size %d\n/Root %d 0 R\n/Info %d 0 R\n/ID [ <%s> <%s> ]\n>>\n"
                    b"startxref\n%d\n%%%%EOF\n" % (count, root, info, hexid, hexid, self.size))
        return b"".join(self.pieces + xref)
