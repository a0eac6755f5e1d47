"""Parse ISO 6709 location strings as phones write them into videos."""

from __future__ import annotations

import math
import re

_PART = re.compile(r"[+-]\d+(?:\.\d*)?")


def _angle(token: str, deg_digits: int) -> float:
    """Read ±D(D)(D)[MM[SS]][.fff] where the integer width says which form it is."""
    sign = -1.0 if token[0] == "-" else 1.0
    body = token[1:]
    int_part, _, frac = body.partition(".")
    n = len(int_part)
    frac_val = float("0." + frac) if frac else 0.0
    if n <= deg_digits:
        return sign * (int(int_part) + frac_val)
    if n == deg_digits + 2:  # degrees and decimal minutes
        deg, minutes = int(int_part[:-2]), int(int_part[-2:]) + frac_val
        if minutes >= 60:
            raise ValueError(f"minutes out of range in {token!r}")
        return sign * (deg + minutes / 60)
    if n == deg_digits + 4:  # degrees, minutes and decimal seconds
        deg, minutes = int(int_part[:-4]), int(int_part[-4:-2])
        seconds = int(int_part[-2:]) + frac_val
        if minutes >= 60 or seconds >= 60:
            raise ValueError(f"minutes or seconds out of range in {token!r}")
        return sign * (deg + minutes / 60 + seconds / 3600)
    raise ValueError(f"cannot read {token!r} as an ISO 6709 angle")


def parse_iso6709(text: str) -> tuple[float, float, float | None]:
    """Return (lat, lon, altitude or None) from e.g. "+39.9042+116.4074+043.000/"."""
    s = text.strip().rstrip("\x00").strip()
    s = s.split("CRS", 1)[0].rstrip("/")  # a CRS suffix names WGS-84 in practice; ignore it
    tokens = _PART.findall(s)
    if len(tokens) < 2 or "".join(tokens) != s:
        raise ValueError(f"not an ISO 6709 location: {text[:40]!r}")
    lat, lon = _angle(tokens[0], 2), _angle(tokens[1], 3)
    alt = float(tokens[2]) if len(tokens) > 2 else None
    if len(tokens) > 3:
        raise ValueError(f"too many components in {text[:40]!r}")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"location out of range: {lat}, {lon}")
    if alt is not None and not math.isfinite(alt):
        alt = None
    return lat, lon, alt
