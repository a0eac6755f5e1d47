"""Capture dates in an image's XMP packet: exif:DateTimeOriginal, photoshop:DateCreated and
xmp:CreateDate, with their UTC offset when the packet gives one.

Parsed with the standard library's XML parser after refusing any DTD (XMP never has one, and
without a DTD there are no entities to expand), on at most 1 MB.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - DTDs are refused before parsing
from dataclasses import dataclass

MAX_XMP = 1 << 20
NAMESPACES = {
    "exif": "http://ns.adobe.com/exif/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
}
# In the order they are preferred as the capture time.
DATE_FIELDS = ("exif:DateTimeOriginal", "photoshop:DateCreated", "xmp:CreateDate")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
                   r"(Z|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True)
class XmpDate:
    """One XMP date as written: wall clock, UTC offset when given, fraction digits."""

    field: str
    local: str  # "YYYY-MM-DDTHH:MM:SS"
    offset: str | None  # "+08:00"
    subsec: str | None


def parse_date(text: str) -> tuple[str, str | None, str | None] | None:
    """("YYYY-MM-DDTHH:MM:SS", offset or None, fraction or None), or None when the text is not
    a date with a time of day (a bare date says nothing about when in the day)."""
    m = _DATE.match(text.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac, off = m.groups()
    from datetime import datetime

    try:
        local = datetime(int(y), int(mo), int(d), int(h), int(mi),  # noqa: DTZ001 - wall clock
                         int(s or 0)).isoformat()
    except ValueError:
        return None
    if off == "Z":
        off = "+00:00"
    elif off and ":" not in off:
        off = f"{off[:3]}:{off[3:]}"
    if off and not (int(off[1:3]) <= 14 and int(off[4:6]) < 60):
        return None
    return local, off, frac


def dates(packet: bytes | str | None) -> tuple[list[XmpDate], list[str]]:
    """The capture dates of an XMP packet, in DATE_FIELDS order, and the problems met."""
    if not packet:
        return [], []
    data = packet.encode("utf-8", "replace") if isinstance(packet, str) else bytes(packet)
    if len(data) > MAX_XMP:
        return [], [f"XMP packet of {len(data)} bytes is too large; not read"]
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        return [], ["XMP packet declares a DTD; not read"]
    start = data.find(b"<x:xmpmeta")
    if start < 0:
        start = data.find(b"<rdf:RDF")
    end = max(data.rfind(b"</x:xmpmeta>") + len(b"</x:xmpmeta>"),
              data.rfind(b"</rdf:RDF>") + len(b"</rdf:RDF>"))
    if start < 0 or end <= start:
        return [], ["XMP packet has no x:xmpmeta or rdf:RDF element"]
    try:
        root = ET.fromstring(data[start:end])  # noqa: S314 - no DTD, bounded size
    except ET.ParseError as exc:
        return [], [f"XMP packet is not well-formed XML ({exc})"]
    found: dict[str, str] = {}
    wanted = {f"{{{NAMESPACES[p]}}}{n}": f"{p}:{n}"
              for p, n in (f.split(":") for f in DATE_FIELDS)}
    for el in root.iter():
        name = wanted.get(el.tag) if isinstance(el.tag, str) else None
        if name and name not in found and el.text and el.text.strip():
            found[name] = el.text
        for attr, value in el.attrib.items():
            name = wanted.get(attr)
            if name and name not in found:
                found[name] = value
    out, problems = [], []
    for name in DATE_FIELDS:
        if name not in found:
            continue
        parsed = parse_date(found[name])
        if parsed is None:
            problems.append(f"XMP {name} {found[name].strip()[:30]!r} is not a date and time")
            continue
        out.append(XmpDate(name, *parsed))
    return out, problems
