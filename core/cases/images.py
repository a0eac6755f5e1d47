"""Signature, fingerprint, seal and witness images: bounded, typed by their magic bytes."""

from __future__ import annotations

import base64
import binascii
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


def sniff_image(data: bytes) -> str:
    """The image type by magic bytes; PNG, JPEG, GIF and WebP are accepted."""
    if len(data) > MAX_IMAGE_BYTES:
        raise TooLarge(f"the image is larger than {MAX_IMAGE_BYTES} bytes",
                       zh=f"图片超过 {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    for magic, media_type in IMAGE_MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise UnsupportedType("the image must be PNG, JPEG, GIF or WebP",
                          zh="图片须为 PNG、JPEG、GIF 或 WebP 格式")


def decode_image(value: Any, name: str = "image_base64", rule: str = "A13.2") -> bytes:
    """Bytes of a base64 image field, bounded before decoding; a missing image names the
    rule that asks for it (A13.2 a signer's, A22.2 a witness's)."""
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
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise fields.bad(name, "not_text") from None
