"""Evidence intake (A31.1, A17.1, A4.1): receive, inspect, check and record an AV item.

Three steps, so that no database transaction is open while bytes arrive or parsers run (an
embedded SQLite takes its write lock at the first statement and would block every other writer
for the length of a 1 GB upload):

1. ``Receiver`` streams the bytes into the blob store's temporary folder while hashing;
2. ``inspect`` decides the type by magic bytes (415 otherwise, nothing kept) and reads the
   capture metadata in the sandboxed child process (capture.metadata.extract);
3. ``record`` runs inside one unit of work: checks against the case (site converted from its
   map datum, the DB working-day calendar for A31.1), moves the blob into its content address
   (the API does that just before, with ``place``, so not under SQLite's write lock),
   writes the ledger-covered Evidence row and raises ``evidence.captured`` / ``evidence.uploaded``
   (the A31.1 deadline opens at the capture time and closes at the upload).

``intake`` does all three for a file already on disk (the bot); a finished resumable upload
(core.evidence.uploads) is adopted in place by ``adopt_file`` and goes through ``inspect`` and
``record``.
The same SHA-256 already recorded in the department becomes a new Evidence row with
``duplicate_of`` set: the link of this upload to this case, with no second blob.
"""

from __future__ import annotations

import json
import logging
import os
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from capture import metadata as capture_metadata
from capture.checks import Check, ReportedLocation, Site, assess, capture_instant, run_checks
from capture.model import Metadata
from capture.sniff import TypeVerdict, check_type
from capture.sniff import UnsupportedType as SniffUnsupported
from core import ledger
from core.cases.models import Case, Evidence, Record
from core.cases.visibility import visible_case, writable_case
from core.evidence import media
from core.evidence.models import EvidencePreview
from core.kernel import fields
from core.kernel.aside import Aside
from core.kernel.clock import parse_aware, utcnow
from core.kernel.errors import Invalid, NotFound, TooLarge, UnsupportedType
from core.kernel.ids import new_id
from core.people.access import log_access
from core.people.models import Officer
from core.platform.blobs import BlobStore, BlobTooLarge, IncomingFile, StoredBlob, hash_file
from core.platform.uow import Event, UnitOfWork, UnitsOfWork
from core.rules import calendar_store
from core.rules.calendar_store import load_calendar

log = logging.getLogger("quancheng.evidence")

MAX_PROVES = 4000
MAX_METHOD = 64  # Evidence.method column
MAX_FILENAME = 255  # Evidence.filename column
EXTRACT_TIMEOUT_S = 10.0
CAPTURED = "evidence.captured"
UPLOADED = "evidence.uploaded"
# Capture times outside these years are a parser reading junk (mvhd zero is 1904).
_YEARS = (1900, 2200)
Extractor = Callable[[Path, str], Metadata]


def sandboxed_extractor(path: Path, media_type: str) -> Metadata:
    """The default: metadata read in a limited child process (capture.metadata.extract)."""
    return capture_metadata.extract(path, media_type, timeout_s=EXTRACT_TIMEOUT_S)


def inline_extractor(path: Path, media_type: str) -> Metadata:
    """In this process: for the fuzz test's bulk and tools, never for hostile input at scale."""
    return capture_metadata.extract_inline(path, media_type)


# --- the A31.1 fields -----------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeForm:
    """What the uploader states about the item: object of proof, method, links, position."""

    proves: str
    method: str
    record_id: str | None = None
    reported: ReportedLocation | None = None
    captured_by: str | None = None
    captured_at: datetime | None = None


def _text(data: Mapping[str, Any], name: str, limit: int) -> str | None:
    return fields.text(data.get(name), name, limit=limit, required=False, multiline=True)


def _number(data: Mapping[str, Any], name: str, low: float, high: float) -> float | None:
    return fields.decimal(data.get(name), name, low=low, high=high)


def parse_form(data: Mapping[str, Any]) -> IntakeForm:
    """Validate the uploader's fields; proves and method are required (A31.1, A17.1)."""
    proves = _text(data, "proves", MAX_PROVES)
    method = _text(data, "method", MAX_METHOD)
    missing = {name: "required" for name, v in (("proves", proves), ("method", method)) if not v}
    if missing:
        raise Invalid("every AV item must state its object of proof (proves) and how it was made "
                      "(method) (A31.1, A17.1)",
                      details={"missing": ["A31.1", "A17.1"], "fields": missing})
    lat = _number(data, "lat", -90, 90)
    lon = _number(data, "lon", -180, 180)
    accuracy = _number(data, "accuracy", 0, 1e6)
    if (lat is None) != (lon is None):
        raise Invalid("lat and lon go together", details={"fields": {"lat": "pair", "lon": "pair"}})
    reported = ReportedLocation(lat, lon, accuracy) if lat is not None and lon is not None else None
    captured_at = None
    raw_at = _text(data, "captured_at", 64)
    if raw_at:
        try:
            captured_at = parse_aware(raw_at)
        except ValueError as exc:
            raise Invalid(f"captured_at {exc}", details={"fields": {"captured_at": "invalid"}}
                          ) from None
        if not _YEARS[0] <= captured_at.year <= _YEARS[1]:
            raise Invalid("captured_at is out of range",
                          details={"fields": {"captured_at": "out of range"}})
    return IntakeForm(proves=proves or "", method=method or "",
                      record_id=_text(data, "record_id", 32),
                      reported=reported, captured_by=_text(data, "captured_by", 32),
                      captured_at=captured_at)


def form_fields(form: IntakeForm) -> dict[str, Any]:
    """The form as plain JSON values (stored with a resumable upload until it completes)."""
    out: dict[str, Any] = {"proves": form.proves, "method": form.method}
    if form.record_id:
        out["record_id"] = form.record_id
    if form.reported:
        out.update(lat=form.reported.lat, lon=form.reported.lon)
        if form.reported.accuracy is not None:
            out["accuracy"] = form.reported.accuracy
    if form.captured_by:
        out["captured_by"] = form.captured_by
    if form.captured_at:
        out["captured_at"] = form.captured_at.isoformat()
    return out


def check_links(session: Session, case: Case, form: IntakeForm) -> tuple[Record | None, str | None]:
    """The linked record must belong to the case; the producer must be an active colleague."""
    record = None
    if form.record_id:
        record = session.get(Record, form.record_id)
        if record is None or record.case_id != case.id:
            raise Invalid("record_id must name a record of this case",
                          details={"fields": {"record_id": "not a record of this case"}})
    producer = None
    if form.captured_by:
        officer = session.get(Officer, form.captured_by)
        if officer is None or not officer.active or officer.department_id != case.department_id:
            raise Invalid("captured_by must be an active officer of the case's department",
                          details={"fields": {"captured_by": "unknown officer"}})
        producer = officer.id
    return record, producer


# --- step 1: receive ------------------------------------------------------------------------


@dataclass
class Received:
    """A whole file in the blob store's temporary folder, hashed, not yet committed."""

    path: Path
    sha256: str
    size: int
    _commit: Callable[..., StoredBlob]
    _discard: Callable[[], None]
    done: bool = False
    stored: StoredBlob | None = None  # the first commit's answer (was the blob new?)
    _retained: int | None = None

    def commit(self, *, retain_years: int | None = None) -> StoredBlob:
        """Move it into its content address (an existing blob of that hash is kept as is),
        retained for the case's years where the store can lock objects (A34.1). Committed
        already (``place``), it is not moved again; the store is asked again only for a
        longer retention."""
        if self.stored is None:
            self.done = True
            self.stored, self._retained = self._commit(retain_years=retain_years), retain_years
        elif retain_years is not None and (self._retained is None
                                           or retain_years > self._retained):
            self._commit(retain_years=retain_years)  # the stored blob, its retention extended
            self._retained = retain_years
        return self.stored

    def discard(self) -> None:
        """Throw it away (rejected uploads keep nothing)."""
        if not self.done:
            self.done = True
            self._discard()


class Receiver:
    """Takes the bytes of one upload chunk by chunk, hashing as they arrive; memory stays flat."""

    def __init__(self, blobs: BlobStore, limit: int | None):
        self._incoming: IncomingFile = blobs.incoming(limit)
        self._limit = limit

    @property
    def size(self) -> int:
        """Bytes received so far."""
        return self._incoming.size

    def write(self, chunk: bytes) -> None:
        """Append a chunk; 413 (and nothing kept) past the size limit."""
        try:
            self._incoming.write(chunk)
        except BlobTooLarge:
            raise TooLarge(f"the file is larger than the limit of {self._limit} bytes; "
                           f"nothing was stored") from None

    def finish(self) -> Received:
        """The file is complete; its fsync runs while it is inspected, and its commit waits
        for it (IncomingFile.finish)."""
        sha, path = self._incoming.finish(wait=False)
        return Received(path, sha, self._incoming.size, self._incoming.commit,
                        self._incoming.discard)

    def discard(self) -> None:
        """Abandon the upload."""
        self._incoming.discard()


def receive(blobs: BlobStore, chunks: Iterable[bytes], limit: int | None) -> Received:
    """Stream chunks into the store's temporary folder; 413 past the limit."""
    receiver = Receiver(blobs, limit)
    try:
        for chunk in chunks:
            receiver.write(chunk)
        return receiver.finish()
    except BaseException:
        receiver.discard()
        raise


def receive_file(blobs: BlobStore, path: Path, limit: int | None) -> Received:
    """Copy a file already on disk (a bot download) into the store's temporary folder."""
    with open(path, "rb") as fh:
        return receive(blobs, iter(partial(fh.read, 1 << 20), b""), limit)


def adopt_file(blobs: BlobStore, path: Path) -> Received:
    """A finished file already in the store's temporary folder (a resumable upload): hash it
    once more, since its bytes came in several requests, and commit it by rename, not copy."""
    size = path.stat().st_size
    sha = hash_file(path)
    # The store's rename-into-place, without a second copy of a large video.
    return Received(path, sha, size,
                    lambda retain_years=None: blobs.adopt(path, sha, size,
                                                          retain_years=retain_years),
                    lambda: path.unlink(missing_ok=True))


# --- step 2: inspect ------------------------------------------------------------------------


@dataclass
class Inspected:
    """A received file with its type verdict and vetted capture metadata."""

    received: Received
    filename: str
    declared_type: str | None
    verdict: TypeVerdict
    metadata: Metadata


def safe_filename(name: str | None, fallback: str = "upload") -> str:
    """The last path part without control or format characters, at most 255 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    # Cc: control characters; Cf: format characters such as U+202E that disguise extensions.
    base = "".join(ch for ch in base if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    base = base.strip().lstrip(".").strip()
    if len(base) > MAX_FILENAME:
        stem, dot, ext = base.rpartition(".")
        base = (stem[:MAX_FILENAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 16 \
            else base[:MAX_FILENAME]
    return base or fallback


def _vet(md: Metadata, media_type: str) -> Metadata:
    """Metadata safe to check and store: JSON-clean, finite, in range (the source parsed
    hostile bytes, so an in-process reader's output is vetted like the sandbox's)."""
    try:
        clean = Metadata.from_dict(json.loads(json.dumps(md.to_dict(), default=str)))
    except (ValueError, TypeError, OverflowError) as exc:
        return Metadata(media_type=media_type,
                        errors=[f"metadata unreadable: the reader returned invalid values "
                                f"({str(exc)[:120]})"])
    clean.media_type = media_type
    if clean.gps is not None and not (-90 <= clean.gps.lat <= 90 and -180 <= clean.gps.lon <= 180):
        clean.errors.append("GPS position out of range; ignored")
        clean.gps = None
    if clean.gps is not None and clean.gps.accuracy is not None and clean.gps.accuracy < 0:
        clean.gps.accuracy = None
    if clean.taken_at is not None and not _YEARS[0] <= clean.taken_at.year <= _YEARS[1]:
        clean.errors.append(f"capture time {clean.taken_at.isoformat()} is out of range; ignored")
        clean.taken_at, clean.tz_known = None, False
    if clean.taken_at_local is not None:
        try:
            local = datetime.fromisoformat(clean.taken_at_local)
            ok = local.tzinfo is None and _YEARS[0] <= local.year <= _YEARS[1]
        except ValueError:
            ok = False
        if not ok:
            clean.errors.append(f"capture time {clean.taken_at_local!r} is not readable; ignored")
            clean.taken_at_local = None
    for dim in ("width", "height"):
        value = getattr(clean, dim)
        if value is not None and not 0 < value < 1 << 31:
            setattr(clean, dim, None)
    return clean


def inspect(received: Received, filename: str | None, declared_type: str | None, *,
            extractor: Extractor | None = None) -> Inspected:
    """Type by magic bytes (415, file discarded, when not accepted), then capture metadata.

    A file of an accepted type whose metadata cannot be read is kept: its metadata says so and
    its assurance becomes "unverified" (capture.checks.assess).
    """
    name = safe_filename(filename)
    declared_type = (declared_type or "")[:100] or None  # a header value; stored in meta
    try:
        verdict = check_type(received.path, name, declared_type)
    except SniffUnsupported as exc:
        received.discard()
        raise UnsupportedType(f"{exc.message}; nothing was stored",
                              details={"detected": exc.detected} if exc.detected else None
                              ) from None
    except OSError:
        received.discard()
        raise
    md = (extractor or sandboxed_extractor)(received.path, verdict.media_type)
    return Inspected(received, name, declared_type, verdict, _vet(md, verdict.media_type))


# --- step 3: record -------------------------------------------------------------------------


@dataclass
class IntakeResult:
    """The recorded item, the first item when it is a duplicate, and whether the blob is new."""

    evidence: Evidence
    original: Evidence | None = None
    new_blob: bool = True

    @property
    def status(self) -> int:
        """201 for a new item, 200 when the same file was already recorded."""
        return 200 if self.original is not None else 201


def _site(case: Case) -> Site | None:
    if case.site_lat is None or case.site_lon is None:
        return None
    return Site(case.site_lat, case.site_lon, case.site_datum or "wgs84")


def _first_with_hash(session: Session, sha256: str, department_id: str) -> Evidence | None:
    """The first item of the department with this content (other departments' items are not
    revealed: their duplicate is recorded as a new item; the blob is shared anyway)."""
    return session.execute(
        select(Evidence).join(Case, Case.id == Evidence.case_id)
        .where(Evidence.sha256 == sha256, Evidence.duplicate_of.is_(None),
               Case.department_id == department_id)
        .order_by(Evidence.created_at, Evidence.id).limit(1)
    ).scalar_one_or_none()


def _time(md: Metadata, form: IntakeForm, received_at: datetime, tz) -> tuple[datetime, str]:
    """A31.1 time: the file's capture time, else the officer's statement, else the upload."""
    taken, _note = capture_instant(md, tz)
    if taken is not None:
        return taken, "file"
    if form.captured_at is not None:
        return form.captured_at, "officer"
    return received_at, "upload"


def _time_check(check: Check, source: str, at: datetime, tz) -> Check:
    """Say which time was recorded when the file carries none (A31.1)."""
    if source == "file":
        return check
    shown = at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if source == "officer":
        return Check(check.name, "warn",
                     f"no capture time in the file; the officer stated {shown}, recorded as its "
                     f"time (A31.1)", f"文件中没有拍摄时间；记录执法人员填写的时间{shown}（A31.1）")
    return Check(check.name, "warn",
                 f"no capture time in the file; the upload time {shown} is recorded as its time "
                 f"(A31.1): state the real capture time if it differs",
                 f"文件中没有拍摄时间；以上传时间{shown}作为记录时间（A31.1），如不同请补充说明")


@dataclass(frozen=True)
class Verdict:
    """The checks of one file against its case, the assurance, and the A31.1 time."""

    checks: list[Check]
    level: str
    reason: str
    reason_zh: str
    captured_at: datetime
    time_source: str


def judge(inspected: Inspected, form: IntakeForm, *, site: Site | None, case_opened_at: datetime,
          received_at: datetime, stored_at: datetime, existing_id: str | None,
          add_working_days: Callable, radius_m: float, tz) -> Verdict:
    """Run the six checks (capture.checks) and fold them into the assurance; no database."""
    md = inspected.metadata
    checks = run_checks(
        md, inspected.verdict, received_at=received_at, site=site, stored_at=stored_at,
        case_opened_at=case_opened_at, existing_evidence_id=existing_id,
        sha256=inspected.received.sha256, reported=form.reported, radius_m=radius_m,
        add_working_days=add_working_days, legal_tz=tz)
    captured_at, source = _time(md, form, received_at, tz)
    checks = [_time_check(c, source, captured_at, tz) if c.name == "capture_time" else c
              for c in checks]
    level = assess(checks, md)
    return Verdict(checks, level.level, level.reason, level.reason_zh, captured_at, source)


IN_APP_CHANNEL = "miniapp"  # uploaded through a link of the capture page (capture_links)
IN_APP_SLACK = timedelta(minutes=2)  # a phone clock a little ahead is not a capture to come


def in_app_verdict(verdict: Verdict, form: IntakeForm, *, site: Site | None,
                   received_at: datetime, radius_m: float, tz) -> Verdict:
    """An item taken in Quancheng's own capture page: the page read the position and the time
    at the moment of capture, so they are the item's (A31.1 counts from that time), and its
    assurance is its own level, stronger than EXIF, which anyone can edit. Without both facts,
    or with a time after the upload, the file's own checks stand."""
    from capture.datum import distance_m, to_wgs84

    at, where = form.captured_at, form.reported
    if at is None or where is None or at > received_at + IN_APP_SLACK:
        return verdict
    shown = at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    acc = where.accuracy or 0.0
    time_check = Check("capture_time", "pass",
                       f"taken in the capture page at {shown}, read by the page (A31.1)",
                       f"在全程拍摄页拍摄，拍摄时间{shown}由页面当场记录（A31.1）")
    if site is None:
        place = Check("gps_distance", "warn", "the case has no site to compare with",
                      "案件未登记现场位置，无法比对")
        far = False
    else:
        metres = distance_m((where.lat, where.lon), to_wgs84(site.lat, site.lon, site.datum))
        far = metres > radius_m + acc
        place = Check("gps_distance", "fail" if far else "pass",
                      f"the page's position is {metres:.0f} m from the site (accuracy {acc:.0f} m,"
                      f" allowed {radius_m:.0f} m)",
                      f"拍摄页定位距现场{metres:.0f}米（精度{acc:.0f}米，允许半径{radius_m:.0f}米）")
    checks = [time_check if c.name == "capture_time" else place if c.name == "gps_distance"
              else c for c in verdict.checks]
    if not any(c.name == "gps_distance" for c in checks):
        checks.append(place)
    if far or any(c.status == "fail" for c in checks):
        return Verdict(checks, "failed" if far else verdict.level, verdict.reason,
                       verdict.reason_zh, at, "app")
    return Verdict(checks, "captured_in_app",
                   "taken in Quancheng's capture page, which recorded its time and place",
                   "在全程拍摄页内拍摄，时间和位置由页面当场记录", at, "app")


def stored_meta(inspected: Inspected, form: IntakeForm, verdict: Verdict, *, uploaded_by: str,
                channel: str, received_at: datetime) -> dict:
    """What the Evidence row keeps in ``meta``: the metadata as read, and how it arrived."""
    meta = inspected.metadata.to_dict()
    meta["intake"] = {
        "uploaded_by": uploaded_by, "channel": channel, "received_at": received_at.isoformat(),
        "time_source": verdict.time_source, "declared_type": inspected.declared_type,
        "type_detail": inspected.verdict.detail,
        "stated_captured_at": form.captured_at.isoformat() if form.captured_at else None,
        "reported": {"lat": form.reported.lat, "lon": form.reported.lon,
                     "accuracy": form.reported.accuracy} if form.reported else None,
        "assurance_reason": verdict.reason, "assurance_reason_zh": verdict.reason_zh,
    }
    return meta


def record(uow: UnitOfWork, actor: Officer, case_id: str, inspected: Inspected,
           form: IntakeForm, *, received_at: datetime | None = None, channel: str = "api",
           previews: bool = True) -> IntakeResult:
    """Check and record one inspected file as evidence of a case (A31.1, A17.1, A4.1).

    The producer is ``captured_by`` or the caller; the time is the capture time (see
    ``_time``). On any refusal the received file is discarded.
    """
    received = inspected.received
    try:
        case = writable_case(uow.session, actor, case_id)
        record_row, producer = check_links(uow.session, case, form)
    except BaseException:
        received.discard()
        raise
    session, settings = uow.session, uow.settings
    tz = settings.legal_tz
    received_at = received_at or utcnow()
    original = _first_with_hash(session, received.sha256, case.department_id)
    calendar = load_calendar(session, tz)
    stored_at = utcnow()
    verdict = judge(inspected, form, site=_site(case), case_opened_at=case.opened_at,
                    received_at=received_at, stored_at=stored_at,
                    existing_id=original.id if original else None,
                    add_working_days=lambda d, n: calendar.add_working_days(d, n).date,
                    radius_m=settings.gps_radius_m, tz=tz)
    if channel == IN_APP_CHANNEL:
        verdict = in_app_verdict(verdict, form, site=_site(case), received_at=received_at,
                                 radius_m=settings.gps_radius_m, tz=tz)
    # The blob goes into its content address (link, fsync of its folder) while the rows are
    # written; it is settled before record() returns, so before the transaction commits. One
    # placed already (``place``) only has its retention extended, where that is needed.
    committing = Aside(partial(received.commit, retain_years=case.retention_years),
                       "blob-commit")
    try:
        ev = _add_evidence(uow, actor, case, record_row, producer, inspected, form, verdict,
                           received_at=received_at, stored_at=stored_at, original=original,
                           calendar=calendar, channel=channel, previews=previews)
    except BaseException:
        committing.join()
        raise
    blob = committing.value()
    return IntakeResult(ev, original, new_blob=not blob.existed)


def _add_evidence(uow: UnitOfWork, actor: Officer, case: Case, record_row: Record | None,
                  producer: str | None, inspected: Inspected, form: IntakeForm,
                  verdict: Verdict, *, received_at: datetime, stored_at: datetime,
                  original: Evidence | None, calendar, channel: str,
                  previews: bool) -> Evidence:
    """The Evidence row, its ledger leaf, the A31.1 events and the thumbnail task."""
    session, received = uow.session, inspected.received
    ev = Evidence(
        id=new_id(), case_id=case.id, record_id=record_row.id if record_row else None,
        sha256=received.sha256, size=received.size, media_type=inspected.verdict.mime,
        filename=inspected.filename, proves=form.proves, method=form.method,
        producer_id=producer or actor.id, captured_at=verdict.captured_at,
        meta=stored_meta(inspected, form, verdict, uploaded_by=actor.id, channel=channel,
                         received_at=received_at),
        checks=[c.to_dict() for c in verdict.checks], assurance=verdict.level,
        duplicate_of=original.id if original else None, created_at=stored_at)
    session.add(ev)
    ledger.append(session, "evidence", ev, case_id=case.id)
    # A31.1: the deadline opens at the capture time and this upload closes it at once; raised
    # together, so an upload within the period is one deadline row written already met.
    with calendar_store.reusing(session, calendar):  # the deadline handler's, read above
        uow.emit_all([Event(CAPTURED, case.id, verdict.captured_at, {"evidence_id": ev.id}),
                      Event(UPLOADED, case.id, stored_at, {"evidence_id": ev.id})])
    if previews:
        # Its thumbnail is owed as a media task of this transaction (the worker makes it; an
        # earlier thumbnail of the same content is reused).
        media.queue_thumbnail(session, ev, now=stored_at)
    return ev


def intake(uow: UnitOfWork, actor: Officer, case_id: str, *, path: str | os.PathLike[str],
           filename: str | None, declared_type: str | None, proves: str | None,
           method: str | None, record_id: str | None = None, lat: float | None = None,
           lon: float | None = None, accuracy: float | None = None,
           captured_by: str | None = None, captured_at: str | None = None,
           channel: str = "telegram", extractor: Extractor | None = None) -> dict:
    """Receive, inspect and record a file already on disk in one go (the bot's entry point);
    the file at ``path`` is copied, never moved or changed. Returns the evidence JSON."""
    form = parse_form({"proves": proves, "method": method, "record_id": record_id, "lat": lat,
                       "lon": lon, "accuracy": accuracy, "captured_by": captured_by,
                       "captured_at": captured_at})
    writable_case(uow.session, actor, case_id)  # refuse before copying anything
    received = receive_file(uow.blobs, Path(path), uow.settings.max_upload_bytes)
    try:
        inspected = inspect(received, filename or Path(path).name, declared_type,
                            extractor=extractor)
        result = record(uow, actor, case_id, inspected, form, channel=channel)
    finally:
        received.discard()  # no-op once committed
    return result_json(result)


# --- reading --------------------------------------------------------------------------------


def evidence_json(ev: Evidence, preview: EvidencePreview | None = None) -> dict:
    """An evidence item as the API shows it (CONTRACT.md), with detail_zh on every check."""
    meta = dict(ev.meta or {})
    facts = meta.pop("intake", None) or {}
    return {
        "id": ev.id, "case_id": ev.case_id, "record_id": ev.record_id, "sha256": ev.sha256,
        "size": ev.size, "media_type": ev.media_type, "filename": ev.filename,
        "proves": ev.proves, "method": ev.method, "producer_id": ev.producer_id,
        "uploaded_by": facts.get("uploaded_by"),
        "captured_at": ev.captured_at.isoformat() if ev.captured_at else None,
        "time_source": facts.get("time_source"),
        "metadata": meta, "checks": list(ev.checks or []), "assurance": ev.assurance,
        "assurance_reason": facts.get("assurance_reason"),
        "assurance_reason_zh": facts.get("assurance_reason_zh"),
        "duplicate_of": ev.duplicate_of,
        "created_at": ev.created_at.isoformat() if ev.created_at else None,
        "preview": None if preview is None else {
            "sha256": preview.sha256, "width": preview.width, "height": preview.height,
            "url": f"/api/v1/evidence/{ev.id}/preview"},
    }


def result_json(result: IntakeResult) -> dict:
    """The answer to an upload: the item, and for a duplicate the first item it repeats."""
    body = evidence_json(result.evidence)
    if result.original is not None:
        body["original"] = {"id": result.original.id, "case_id": result.original.case_id,
                            "created_at": result.original.created_at.isoformat()}
    return body


def get_evidence(uow: UnitOfWork, actor: Officer, evidence_id: str, *, action: str = "read",
                 channel: str = "api", remote: str = "") -> Evidence:
    """One item, if its case is visible to the caller (404 otherwise); the read is logged."""
    ev = uow.session.get(Evidence, evidence_id) if isinstance(evidence_id, str) else None
    if ev is None:
        raise NotFound(f"evidence {evidence_id} not found")
    try:
        visible_case(uow.session, actor, ev.case_id)
    except NotFound:
        raise NotFound(f"evidence {evidence_id} not found") from None
    log_access(uow.session, actor, action, "evidence", ev.id, channel=channel, remote=remote)
    return ev


def preview_of(session: Session, evidence_id: str) -> EvidencePreview | None:
    """The stored thumbnail row of an item, if made."""
    return media.preview_of(session, evidence_id)


def videos_of_case(uow: UnitOfWork, actor: Officer, case_id: str, *, limit: int = 6,
                   channel: str = "api") -> list[Evidence]:
    """The newest videos of a case the officer may see (a refusal's proof, A22.2); logged."""
    case = visible_case(uow.session, actor, case_id)
    log_access(uow.session, actor, "list", "evidence", case.id, channel=channel)
    return list(uow.session.execute(select(Evidence).where(
        Evidence.case_id == case.id, Evidence.media_type.like("video/%"))
        .order_by(Evidence.created_at.desc()).limit(limit)).scalars())


def may_upload(uow: UnitOfWork, actor: Officer, case_id: str) -> int | None:
    """Refuse an upload to a case the officer may not add to, before any byte is read; the
    case's retention years (A34.1). Only reads: the recording checks again with the case
    locked (writable_case)."""
    return writable_case(uow.session, actor, case_id, lock=False).retention_years


def place(units: UnitsOfWork, actor: Callable[[UnitOfWork], Officer], case_id: str,
          inspected: Inspected, form: IntakeForm, *, retain_years: int | None) -> None:
    """Put an inspected upload under its content address (link and folder fsync, or the
    object store's upload) before its recording transaction, so that work is not done under
    the database's write lock (SQLite's is database-wide: concurrent uploads queue on it).
    A record or producer that is not the case's is refused first, keeping nothing; a refusal
    only the recording can find (the case closed or the token revoked while the body
    arrived) leaves the blob unreferenced, as a failed commit does."""
    if form.record_id or form.captured_by:
        try:
            with units.uow(read_only=True) as uow:
                case = writable_case(uow.session, actor(uow), case_id, lock=False)
                check_links(uow.session, case, form)
        except BaseException:
            inspected.received.discard()
            raise
    inspected.received.commit(retain_years=retain_years)
