"""Evidence checks and the assurance level."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from capture import checks, datum
from capture.checks import Check, ReportedLocation, Site
from capture.metadata import extract_inline
from capture.model import Gps, Metadata
from capture.sniff import check_type
from tests.capture import media

BEIJING = timezone(timedelta(hours=8))
TAKEN = datetime(2024, 3, 5, 10, 11, 12, tzinfo=BEIJING)  # a Tuesday
SITE_WGS = (media.LAT, media.LON)


def _md(**kw: object) -> Metadata:
    base: dict[str, object] = {
        "media_type": "jpeg", "taken_at": TAKEN, "taken_at_local": "2024-03-05T10:11:12",
        "tz_known": True, "gps": Gps(media.LAT, media.LON, 43.5, 5.0, "exif"),
        "make": "Apple", "model": "iPhone 13", "software": "17.1", "has_exif": True,
    }
    base.update(kw)
    return Metadata(**base)  # type: ignore[arg-type]


def _offset_point(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """The point ``north_m`` north then ``east_m`` east of (lat, lon), on the ellipsoid."""
    from geopy.distance import geodesic

    p = geodesic(meters=north_m).destination((lat, lon), 0) if north_m else None
    lat2, lon2 = (p.latitude, p.longitude) if p else (lat, lon)
    q = geodesic(meters=east_m).destination((lat2, lon2), 90) if east_m else None
    return (q.latitude, q.longitude) if q else (lat2, lon2)


# --- gps_distance ---------------------------------------------------------------------------

def test_gcj02_site_with_correct_wgs84_photo_passes(tmp_path: Path) -> None:
    """A17.1/A6.1: a photo taken at a site given in GCJ-02 (Amap) passes once converted.

    The site is 38 m from the photo in WGS-84; compared naively in GCJ-02 it would look
    hundreds of metres away and fail.
    """
    site_wgs = _offset_point(media.LAT, media.LON, 30, 23)
    gcj = datum.wgs84_to_gcj02(*site_wgs)
    md = extract_inline(media.write_image(tmp_path, "jpeg"), "jpeg")
    c = checks.gps_distance_check(md, Site(*gcj, datum="gcj02"))
    assert c.status == "pass", c.detail
    assert c.detail.startswith("GPS 38 m from the site (±4 m, radius 200 m")
    assert "gcj02" in c.detail and "38米" in c.detail_zh
    naive = checks.gps_distance_check(md, Site(*gcj, datum="wgs84"))
    assert naive.status == "fail"  # why the datum matters


def test_bd09_site_is_converted() -> None:
    """A site from Baidu maps (BD-09) is converted through GCJ-02."""
    bd = datum.gcj02_to_bd09(*datum.wgs84_to_gcj02(*SITE_WGS))
    c = checks.gps_distance_check(_md(), Site(*bd, datum="bd09"))
    assert c.status == "pass" and c.detail.startswith("GPS 0 m from the site")


def test_photo_three_km_away_fails_with_the_distance() -> None:
    """A6.1/A17.1: a photo 3 km from the site fails, and the detail says how far."""
    far = _offset_point(media.LAT, media.LON, 3000, 0)
    c = checks.gps_distance_check(_md(gps=Gps(*far, accuracy=5.0)), Site(*SITE_WGS))
    assert c.status == "fail"
    assert c.detail == "GPS 3,000 m from the site (±5 m, radius 200 m)"
    assert "3000米" in c.detail_zh and "200米" in c.detail_zh


def test_radius_is_a_parameter() -> None:
    """The radius defaults to 200 m and can be changed per case."""
    p = _offset_point(media.LAT, media.LON, 300, 0)
    md = _md(gps=Gps(*p))
    assert checks.gps_distance_check(md, Site(*SITE_WGS)).status == "fail"
    assert checks.gps_distance_check(md, Site(*SITE_WGS), radius_m=500).status == "pass"


def test_edge_of_accuracy_warns() -> None:
    """230 m away with ±50 m accuracy is inside the radius only within its accuracy: warn."""
    p = _offset_point(media.LAT, media.LON, 230, 0)
    c = checks.gps_distance_check(_md(gps=Gps(*p, accuracy=50.0)), Site(*SITE_WGS))
    assert c.status == "warn" and "±50 m accuracy" in c.detail


def test_no_gps_warns_and_uses_the_phone_report() -> None:
    """No GPS in the file: warn, and report the phone's location at upload if given."""
    md = _md(gps=None)
    assert checks.gps_distance_check(md, Site(*SITE_WGS)).detail == "no GPS position in the file"
    near = _offset_point(media.LAT, media.LON, 40, 0)
    c = checks.gps_distance_check(md, Site(*SITE_WGS),
                                  reported=ReportedLocation(*near, accuracy=15))
    assert c.status == "warn"
    assert c.detail == "no GPS in the file; at upload the phone reported 40 m (±15 m) from the site"


def test_phone_report_far_from_the_file_gps_is_noted() -> None:
    """File GPS at the site but the phone 2 km away at upload: pass, with a note."""
    away = _offset_point(media.LAT, media.LON, 2000, 0)
    c = checks.gps_distance_check(_md(), Site(*SITE_WGS),
                                  reported=ReportedLocation(*away, accuracy=10))
    assert c.status == "pass"
    assert "phone reported a position 2,000 m from the file's GPS" in c.detail


def test_no_site_warns() -> None:
    """A case without site coordinates cannot be checked for place."""
    c = checks.gps_distance_check(_md(), None)
    assert c.status == "warn" and "no site" in c.detail


# --- capture_time ---------------------------------------------------------------------------

def test_capture_time_minutes_before_upload() -> None:
    """A6.1 (timely): "taken 2 min before upload"."""
    c = checks.capture_time_check(_md(), received_at=TAKEN + timedelta(minutes=2))
    assert (c.status, c.detail, c.detail_zh) == ("pass", "taken 2 min before upload",
                                                 "拍摄于上传前2分钟")


def test_capture_time_in_the_future_fails() -> None:
    """A capture time 1 h after the upload is impossible: fail."""
    c = checks.capture_time_check(_md(), received_at=TAKEN - timedelta(hours=1))
    assert c.status == "fail"
    assert c.detail == "capture time is 60 min after the upload (allowed clock skew 5 min)"


def test_small_clock_skew_is_tolerated() -> None:
    """A phone clock 3 min ahead is within the default 5 min skew."""
    c = checks.capture_time_check(_md(), received_at=TAKEN - timedelta(minutes=3))
    assert c.status == "pass" and "within the allowed clock skew" in c.detail


def test_capture_long_before_the_case_fails() -> None:
    """A photo 45 days older than the case is not evidence of this case (parameter)."""
    opened = TAKEN + timedelta(days=45)
    c = checks.capture_time_check(_md(), received_at=opened + timedelta(hours=1),
                                  case_opened_at=opened)
    assert c.status == "fail" and c.detail.startswith("taken 45 days before the case")
    ok = checks.capture_time_check(_md(), received_at=opened, case_opened_at=opened,
                                   max_before_case=timedelta(days=60))
    assert ok.status == "pass"


def test_missing_capture_time_warns() -> None:
    """A31.1: no capture time in the file means the officer must state it."""
    c = checks.capture_time_check(_md(taken_at=None, taken_at_local=None, tz_known=False),
                                  received_at=TAKEN)
    assert c.status == "warn" and "A31.1" in c.detail


def test_unknown_zone_is_read_in_the_legal_zone_and_said() -> None:
    """A wall-clock time without offset is read as Asia/Shanghai and the detail says so."""
    md = _md(taken_at=None, tz_known=False)
    c = checks.capture_time_check(md, received_at=TAKEN + timedelta(minutes=10))
    assert c.status == "pass"
    assert c.detail == ("taken 10 min before upload (time zone not recorded; read as "
                        "Asia/Shanghai)")


def test_naive_datetimes_are_refused() -> None:
    """Naive datetimes are a legal-deadline bug: the checks refuse them."""
    with pytest.raises(ValueError, match="timezone-aware"):
        checks.capture_time_check(_md(), received_at=datetime(2024, 3, 5, 12))  # noqa: DTZ001


# --- upload_delay (A31.1) -------------------------------------------------------------------

def test_weekend_only_working_days() -> None:
    """Counting starts the day after: Friday + 2 working days is Tuesday."""
    assert checks.weekend_only_add_working_days(date(2024, 3, 8), 2) == date(2024, 3, 12)
    assert checks.weekend_only_add_working_days(date(2024, 3, 9), 1) == date(2024, 3, 11)
    assert checks.weekend_only_add_working_days(date(2024, 3, 5), 0) == date(2024, 3, 5)


def test_upload_within_two_working_days_passes() -> None:
    """A31.1: captured Friday evening, stored Tuesday night: still within 2 working days."""
    friday = datetime(2024, 3, 8, 21, 0, tzinfo=BEIJING)
    c = checks.upload_delay_check(_md(taken_at=friday),
                                  stored_at=datetime(2024, 3, 12, 23, 30, tzinfo=BEIJING))
    assert c.status == "pass"
    assert "deadline 2024-03-12" in c.detail and "截止2024-03-12" in c.detail_zh


def test_upload_after_two_working_days_fails() -> None:
    """A31.1: captured Friday, stored Wednesday: late, with the deadline in the detail."""
    friday = datetime(2024, 3, 8, 21, 0, tzinfo=BEIJING)
    c = checks.upload_delay_check(_md(taken_at=friday),
                                  stored_at=datetime(2024, 3, 13, 0, 30, tzinfo=BEIJING))
    assert c.status == "fail"
    assert c.detail == ("stored 4 days after capture; A31.1 requires storage within 2 working "
                        "days (deadline 2024-03-12)")


def test_deadline_day_is_taken_in_the_legal_zone() -> None:
    """A UTC storage time late on the deadline day in UTC is already the next day in Beijing."""
    friday = datetime(2024, 3, 8, 10, 0, tzinfo=BEIJING)
    stored = datetime(2024, 3, 12, 17, 0, tzinfo=UTC)  # Wednesday 01:00 in Beijing
    assert checks.upload_delay_check(_md(taken_at=friday), stored_at=stored).status == "fail"


def test_project_calendar_plugs_in() -> None:
    """A31.1 with the project's calendar: a holiday Monday moves the deadline to Wednesday."""
    holidays = {date(2024, 3, 11)}

    def add_working_days(start: date, n: int) -> date:
        d = start
        while n:
            d += timedelta(days=1)
            if d.weekday() < 5 and d not in holidays:
                n -= 1
        return d

    friday = datetime(2024, 3, 8, 10, 0, tzinfo=BEIJING)
    stored = datetime(2024, 3, 13, 9, 0, tzinfo=BEIJING)
    md = _md(taken_at=friday)
    assert checks.upload_delay_check(md, stored_at=stored).status == "fail"
    c = checks.upload_delay_check(md, stored_at=stored, add_working_days=add_working_days)
    assert c.status == "pass" and "deadline 2024-03-13" in c.detail


def test_upload_delay_with_a_future_capture_time_warns() -> None:
    """A capture time after storage cannot start the A31.1 count: warn, not pass."""
    c = checks.upload_delay_check(_md(), stored_at=TAKEN - timedelta(hours=2))
    assert c.status == "warn" and "cannot be measured" in c.detail
    ok = checks.upload_delay_check(_md(), stored_at=TAKEN - timedelta(minutes=2))
    assert ok.status == "pass" and ok.detail.startswith("stored 0 s after capture")


def test_upload_delay_without_capture_time_warns() -> None:
    """No capture time: the A31.1 deadline cannot be checked."""
    c = checks.upload_delay_check(_md(taken_at=None, taken_at_local=None), stored_at=TAKEN)
    assert c.status == "warn" and "A31.1" in c.detail


# --- editing_software, duplicate, type ------------------------------------------------------

@pytest.mark.parametrize("software", [
    "Adobe Photoshop 25.0 (Windows)", "Adobe Photoshop Lightroom Classic 13.1", "Snapseed 2.0",
    "美图秀秀 9.1", "MTXX (Meitu)", "醒图 8.0", "PicsArt", "GIMP 2.10.36", "VSCO", "Canva",
    "剪映 12.0", "CapCut", "Adobe Premiere Pro 2024", "Lavf60.3.100",
])
def test_known_editors_warn(software: str) -> None:
    """Editors and transcoders in the Software tag warn (case-insensitive)."""
    c = checks.editing_software_check(_md(software=software.upper()))
    assert c.status == "warn" and "editor" in c.detail and "原始文件" in c.detail_zh


@pytest.mark.parametrize("software", [None, "17.1", "MIUI Camera", "HDR+ 1.0.540"])
def test_camera_software_passes(software: str | None) -> None:
    """Phone firmware versions and camera apps pass."""
    assert checks.editing_software_check(_md(software=software)).status == "pass"


def test_duplicate() -> None:
    """The same file already stored warns with the existing evidence id."""
    assert checks.duplicate_check(None, sha256="ab" * 32).status == "pass"
    c = checks.duplicate_check(42, sha256="abcdef0123" + "0" * 54)
    assert (c.status, c.detail) == ("warn", "the same file is already stored as evidence 42 "
                                            "(SHA-256 abcdef01)")


def test_type_check_wraps_the_verdict(samples: dict[str, Path]) -> None:
    """The type check carries the verdict's status and detail."""
    assert checks.type_check(check_type(samples["jpeg"], "a.jpg", "image/jpeg")).status == "pass"
    c = checks.type_check(check_type(samples["jpeg"], "a.mp4", "video/mp4"))
    assert c.status == "fail" and "video/mp4" in c.detail and c.detail_zh


# --- run_checks and assurance ---------------------------------------------------------------

def _run(path: Path, md: Metadata, name: str, declared: str, **kw: object) -> list[Check]:
    verdict = check_type(path, name, declared)
    args: dict[str, object] = {"received_at": TAKEN + timedelta(minutes=2),
                               "site": Site(*SITE_WGS)}
    args.update(kw)
    return checks.run_checks(md, verdict, **args)  # type: ignore[arg-type]


def test_run_checks_names_and_order(samples: dict[str, Path]) -> None:
    """run_checks returns the six contract checks in a fixed order, all with both languages."""
    md = extract_inline(samples["jpeg"], "jpeg")
    result = _run(samples["jpeg"], md, "a.jpg", "image/jpeg")
    assert tuple(c.name for c in result) == checks.CHECK_NAMES
    assert all(c.detail and c.detail_zh for c in result)
    assert result[0].to_dict().keys() == {"name", "status", "detail", "detail_zh"}


def test_verified(samples: dict[str, Path]) -> None:
    """A6.1, A31.1: right place, right time, on time, unedited, new: verified."""
    md = extract_inline(samples["jpeg"], "jpeg")
    result = _run(samples["jpeg"], md, "a.jpg", "image/jpeg")
    assert [c.status for c in result] == ["pass"] * 6
    assert checks.assurance(result, md) == "verified"


def test_partial_when_something_only_warns(tmp_path: Path) -> None:
    """An edited photo taken at the site is partial, with the reason."""
    path = media.write_image(tmp_path, "jpeg", media.Photo(software="Adobe Photoshop 25.0"))
    md = extract_inline(path, "jpeg")
    a = checks.assess(_run(path, md, "a.jpg", "image/jpeg"), md)
    assert a.level == "partial" and a.reason.startswith("editing_software warn")


def test_partial_when_late(samples: dict[str, Path]) -> None:
    """A31.1: a late upload lowers the level to partial; the file is not less genuine."""
    md = extract_inline(samples["jpeg"], "jpeg")
    result = _run(samples["jpeg"], md, "a.jpg", "image/jpeg",
                  received_at=TAKEN + timedelta(days=9))
    assert checks.assess(result, md).level == "partial"


def test_failed_when_far_away(samples: dict[str, Path]) -> None:
    """A photo 3 km from the site: failed, and the reason names the distance."""
    md = extract_inline(samples["jpeg"], "jpeg")
    far = _offset_point(media.LAT, media.LON, 3000, 0)
    a = checks.assess(_run(samples["jpeg"], md, "a.jpg", "image/jpeg", site=Site(*far)), md)
    assert a.level == "failed" and "3,000 m" in a.reason


def test_telegram_photo_without_exif_is_unverified(tmp_path: Path) -> None:
    """A photo with no EXIF at all (Telegram compressed photo) is unverified, reason stated."""
    path = media.write_image(tmp_path, "jpeg", None)
    md = extract_inline(path, "jpeg")
    a = checks.assess(_run(path, md, "photo.jpg", "image/jpeg"), md)
    assert a.level == "unverified"
    assert "no EXIF" in a.reason and "send the original as a file" in a.reason
    assert "文件" in a.reason_zh


def test_unreadable_metadata_is_unverified(samples: dict[str, Path]) -> None:
    """A timed-out extraction gives unverified with the timeout as the reason."""
    md = Metadata("jpeg", errors=["metadata unreadable: timed out after 10 s"])
    a = checks.assess(_run(samples["jpeg"], md, "a.jpg", "image/jpeg"), md)
    assert (a.level, a.reason) == ("unverified", "metadata unreadable: timed out after 10 s")


def test_audio_without_place_is_partial(samples: dict[str, Path]) -> None:
    """An AMR recording has no time or place: unverified; an M4A with time only: partial."""
    md = extract_inline(samples["amr"], "amr")
    assert checks.assurance(_run(samples["amr"], md, "v.amr", "audio/amr"), md) == "unverified"
    timed = Metadata("m4a", taken_at=TAKEN, tz_known=True, duration_s=3.0)
    assert checks.assurance(_run(samples["amr"], timed, "v.amr", "audio/amr"), timed) == "partial"
