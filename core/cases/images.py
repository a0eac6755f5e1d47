"""Signature, fingerprint, seal and witness images: bounded, typed by their magic bytes."""

from __future__ import annotations

import base64
import binascii
import struct
from typing import Any

from core.kernel import fields
from core.kernel.errors import Invalid, TooLarge, UnsupportedType

MAX_IMAGE_BYTES = 2 * 1024 * 1024  # a signature or seal scan; anything bigger is a mistake
# Magic bytes of the image formats a signature pad, phone camera or scanner produces.
IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


# Dimensions, read from the header before anything decodes the pixels (issue 12, finding 2: a
# 20 KB 13000×13000 PNG cost 1.8 GB when the receipt was drawn). A signature pad, a seal scan
# or a phone photo of a signed page fits well inside.
MAX_IMAGE_SIDE = 8000
MAX_IMAGE_PIXELS = 24_000_000


def sniff_image(data: bytes, name: str = "image") -> str:
    """The image type by magic bytes (PNG, JPEG, GIF and WebP are accepted), refused (422
    naming the field ``name``) when its header declares more than MAX_IMAGE_SIDE on a side or
    MAX_IMAGE_PIXELS in all."""
    if len(data) > MAX_IMAGE_BYTES:
        raise TooLarge(f"the image is larger than {MAX_IMAGE_BYTES} bytes",
                       zh=f"图片超过 {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    media_type = _magic(data)
    check_dimensions(data, name)
    return media_type


def _magic(data: bytes) -> str:
    for magic, media_type in IMAGE_MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise UnsupportedType("the image must be PNG, JPEG, GIF or WebP",
                          zh="图片须为 PNG、JPEG、GIF 或 WebP 格式")


def check_dimensions(data: bytes, name: str = "image") -> tuple[int, int]:
    """The image's declared (width, height); Invalid naming the field ``name`` over the caps
    or when unreadable. Only the header is read: nothing is decoded here."""
    size = image_size(data)
    if size is None:
        raise fields.bad(name, "image_unreadable")
    w, h = size
    if w < 1 or h < 1 or max(w, h) > MAX_IMAGE_SIDE or w * h > MAX_IMAGE_PIXELS:
        # 422, not 413: the bytes are within their limit, the field's declared content is not.
        raise fields.bad(name, "image_dimensions", width=w, height=h, side=MAX_IMAGE_SIDE,
                         pixels=MAX_IMAGE_PIXELS)
    return w, h


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, GIF, JPEG or WebP header, without decoding; None if absent."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            return struct.unpack(">II", data[16:24])
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", data[6:10])
        if data.startswith(b"\xff\xd8"):
            return _jpeg_size(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp_size(data)
    except struct.error:
        return None
    return None


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        if marker in _SOF:
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        if marker == 0xDA or length < 2:  # pixels before any frame header
            return None
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L" and data[20:21] == b"\x2f":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return (int.from_bytes(data[24:27], "little") + 1,
                int.from_bytes(data[27:30], "little") + 1)
    return None


def decode_image(value: Any, name: str = "image_base64", rule: str = "A13.2") -> bytes:
    """Bytes of a base64 image field, bounded before decoding and typed and measured by its
    header (sniff_image); a missing image names the rule that asks for it (A13.2 a signer's,
    A22.2 a witness's)."""
    if not isinstance(value, str) or not value:
        raise Invalid(f"{name} is required: the signature, fingerprint or seal image",
                      zh=f"{name} 必填：签名、指印或印章的图片",
                      details={"fields": {name: "required"}, "missing": [rule]})
    if value.startswith("data:"):
        value = value.partition(",")[2]
    if len(value) > (MAX_IMAGE_BYTES * 4) // 3 + 8:
        raise TooLarge(f"the image is larger than {MAX_IMAGE_BYTES} bytes",
                       zh=f"图片超过 {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise fields.bad(name, "not_text") from None
    sniff_image(data, name)  # a bomb is refused here, naming its field, before any decoding
    return data
