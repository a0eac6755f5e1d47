"""GCJ-02 / BD-09 to WGS-84 and geodesic distance."""

from __future__ import annotations

import random

import pytest

from capture import datum


def test_forward_transforms_match_the_published_vectors() -> None:
    """Same numbers as the widely used coordtransform library (116.404, 39.915)."""
    assert datum.wgs84_to_gcj02(39.915, 116.404) == pytest.approx(
        (39.91640428150164, 116.41024449916938), abs=1e-12)
    assert datum.gcj02_to_bd09(39.915, 116.404) == pytest.approx(
        (39.92133699351021, 116.41036949371029), abs=1e-12)


def test_inverse_is_sub_metre_across_china() -> None:
    """GCJ-02 and BD-09 inverses land within 1 cm of the original WGS-84 point."""
    rng = random.Random(6709)
    for _ in range(300):
        lat, lon = rng.uniform(18.2, 53.5), rng.uniform(73.5, 134.7)
        if datum.out_of_china(lat, lon):
            continue
        gcj = datum.wgs84_to_gcj02(lat, lon)
        assert datum.distance_m(datum.gcj02_to_wgs84(*gcj), (lat, lon)) < 0.01
        bd = datum.gcj02_to_bd09(*gcj)
        assert datum.distance_m(datum.bd09_to_wgs84(*bd), (lat, lon)) < 0.01


def test_iterative_inverse_beats_the_one_step_approximation() -> None:
    """The common one-step inverse is metres off; ours is sub-millimetre."""
    lat, lon = 29.3570, 113.1290  # Yueyang
    gcj = datum.wgs84_to_gcj02(lat, lon)
    back = datum.gcj02_to_wgs84(*gcj)
    assert datum.distance_m(back, (lat, lon)) < 0.001
    f = datum.wgs84_to_gcj02(*gcj)
    one_step = (2 * gcj[0] - f[0], 2 * gcj[1] - f[1])
    assert datum.distance_m(one_step, (lat, lon)) > 0.1


def test_gcj02_shift_is_hundreds_of_metres() -> None:
    """Why conversion matters: in Beijing GCJ-02 is ~550 m away from WGS-84."""
    d = datum.distance_m((39.915, 116.404), datum.wgs84_to_gcj02(39.915, 116.404))
    assert 300 < d < 800


@pytest.mark.parametrize(("lat", "lon"), [(48.8584, 2.2945), (35.6586, 139.7454),
                                          (-33.8568, 151.2153), (22.28, 114.0)])
def test_outside_china_gcj02_is_wgs84(lat: float, lon: float) -> None:
    """Outside the GCJ-02 box the coordinates pass through unchanged."""
    if datum.out_of_china(lat, lon):
        assert datum.gcj02_to_wgs84(lat, lon) == (lat, lon)
        assert datum.to_wgs84(lat, lon, "gcj02") == (lat, lon)


@pytest.mark.parametrize("name", ["wgs84", "WGS-84", "gcj02", "GCJ-02", "bd09", "BD_09"])
def test_datum_names(name: str) -> None:
    """Datum names are case- and punctuation-insensitive."""
    lat, lon = datum.to_wgs84(29.36, 113.13, name)
    assert 29 < lat < 30 and 113 < lon < 114


def test_unknown_datum_raises() -> None:
    """An unknown datum is a programming error, not silently WGS-84."""
    with pytest.raises(ValueError, match="unknown datum"):
        datum.to_wgs84(29.36, 113.13, "cgcs2000x")


def test_distance_is_geodesic() -> None:
    """One degree of latitude at the equator is about 110.6 km on the WGS-84 ellipsoid."""
    assert datum.distance_m((0, 0), (1, 0)) == pytest.approx(110574.4, abs=1)
