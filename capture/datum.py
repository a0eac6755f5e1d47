"""Chinese map datums (GCJ-02, BD-09) to WGS-84, and geodesic distance.

Amap and Tencent give GCJ-02, Baidu gives BD-09, phones write WGS-84 into EXIF. The
forward transforms are public; their inverses are not closed-form, so we invert them by
fixed-point iteration until the forward image matches to about a millimetre.
"""

from __future__ import annotations

import math

from geopy.distance import geodesic

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 algorithm uses
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0
_TOLERANCE_DEG = 1e-9  # about 0.1 mm
_MAX_ITER = 30
DATUMS = ("wgs84", "gcj02", "bd09")


def out_of_china(lat: float, lon: float) -> bool:
    """True outside the rough box where GCJ-02 applies (there GCJ-02 equals WGS-84)."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    return ret


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """The standard (public) WGS-84 to GCJ-02 forward transform."""
    if out_of_china(lat, lon):
        return lat, lon
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lat + dlat, lon + dlon


def gcj02_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    """The standard GCJ-02 to BD-09 forward transform."""
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def _invert(forward, lat: float, lon: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    # The offsets vary slowly in space, so subtracting the residual converges fast (3-5 steps).
    glat, glon = lat, lon
    for _ in range(_MAX_ITER):
        flat, flon = forward(glat, glon)
        dlat, dlon = flat - lat, flon - lon
        if abs(dlat) < _TOLERANCE_DEG and abs(dlon) < _TOLERANCE_DEG:
            break
        glat, glon = glat - dlat, glon - dlon
    return glat, glon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """GCJ-02 to WGS-84 by iterating the forward transform (sub-millimetre)."""
    if out_of_china(lat, lon):
        return lat, lon
    return _invert(wgs84_to_gcj02, lat, lon)


def bd09_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """BD-09 to GCJ-02 by iterating the forward transform."""
    return _invert(gcj02_to_bd09, lat, lon)


def bd09_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """BD-09 to WGS-84 (through GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lon))


def to_wgs84(lat: float, lon: float, datum: str = "wgs84") -> tuple[float, float]:
    """Convert a point given in ``datum`` (wgs84, gcj02 or bd09) to WGS-84."""
    d = datum.lower().replace("-", "").replace("_", "")
    if d in ("wgs84", "wgs"):
        return lat, lon
    if d == "gcj02":
        return gcj02_to_wgs84(lat, lon)
    if d == "bd09":
        return bd09_to_wgs84(lat, lon)
    raise ValueError(f"unknown datum {datum!r}; expected one of {', '.join(DATUMS)}")


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic (WGS-84 ellipsoid) distance in metres between two (lat, lon) points."""
    return float(geodesic(a, b).meters)
