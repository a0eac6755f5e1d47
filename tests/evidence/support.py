"""Helpers of the evidence tests: real files near (or far from) the test case's site, uploads."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from capture.datum import gcj02_to_wgs84
from core.people.officers import add_officer, ensure_department, issue_token
from tests.capture import media
from tests.helpers import auth

# tests.helpers.open_case puts the site here, in GCJ-02 (Amap): the WGS-84 truth is ~500 m off.
SITE_GCJ = (29.3573, 113.1290)
SITE_WGS = gcj02_to_wgs84(*SITE_GCJ)
TUS = {"Tus-Resumable": "1.0.0"}


def exif_time(when: datetime) -> tuple[str, str]:
    """EXIF DateTimeOriginal and OffsetTimeOriginal of an aware time."""
    z = when.strftime("%z")
    return when.strftime("%Y:%m:%d %H:%M:%S"), f"{z[:3]}:{z[3:]}"


def photo(directory: Path, *, lat: float | None = SITE_WGS[0], lon: float | None = SITE_WGS[1],
          when: datetime | None = None, kind: str = "jpeg", name: str | None = None,
          **extra) -> Path:
    """A real image with EXIF GPS and capture time (now, in Beijing time, by default)."""
    taken, offset = exif_time((when or datetime.now(UTC)).astimezone(media_tz()))
    return media.write_image(directory, kind, media.Photo(lat=lat, lon=lon, taken=taken,
                                                          offset=offset, **extra), name=name)


def media_tz():
    """Beijing time, as phones in China write it."""
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


def upload(client, user: dict, case_id: str, data: bytes, filename: str = "IMG_0001.jpg",
           mimetype: str = "image/jpeg", headers: dict | None = None, **fields):
    """POST one file as multipart with the A31.1 fields (proves/method default to a photo)."""
    form = {"proves": "现场违法建设状况", "method": "photo", **fields}
    form = {k: v for k, v in form.items() if v is not None}
    form["file"] = (io.BytesIO(data), filename, mimetype)
    return client.post(f"/api/v1/cases/{case_id}/evidence", data=form,
                       content_type="multipart/form-data",
                       headers={**auth(user), **(headers or {})})


def stranger(container) -> dict:
    """An officer of another department, with a token."""
    with container.uow() as uow:
        other = ensure_department(uow.session, "OTHER", "另一个局")
        officer = add_officer(uow.session, other, "赵六", ["officer"], "X1")
        return {"id": officer.id, "token": issue_token(uow.session, officer)}


def check(body: dict, name: str) -> dict:
    """One named check of an intake answer."""
    return next(c for c in body["checks"] if c["name"] == name)


def stored_blobs(container) -> set[str]:
    """Every blob in the store."""
    return set(container.blobs.iter_hashes())


def temp_files(container) -> list[Path]:
    """What is left in the store's temporary folder."""
    return sorted(container.blobs.tmp_dir.iterdir())
