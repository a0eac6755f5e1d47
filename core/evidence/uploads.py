"""Resumable uploads (tus 1.0 core protocol with the creation and termination extensions) and
one-time upload links, for large videos from phones on bad networks (A31.1).

The bytes of an upload are appended to ``tus-<id>`` in the blob store's temporary folder (the
spool: a folder every web process shares, so consecutive PATCHes may reach different processes
or machines); the offset the client may resume from is the UploadSession row's (the database is
the truth: a file longer than the row says, after a crash, is cut back to it).

Only one request appends at a time, whichever process it reached: it first takes the row's
write lease under a row lock (SELECT ... FOR UPDATE on PostgreSQL; SQLite's write lock), a
token and an expiry renewed while the body arrives, and only the holder may move the offset.
A second request meanwhile gets 409 at once. The lease, not a transaction, spans the body, so
no database transaction is open while bytes arrive (an embedded SQLite would otherwise block
every writer for the length of a slow upload); a process that dies mid-body leaves a lease that
expires after LEASE. An exclusive ``flock`` on the file is kept as a second guard on one host.
When the last byte is in, the file goes through the same intake as a multipart upload
(core.evidence.intake) and is moved, not copied, into the store.

A one-time link is bound to a case and an officer, expires (24 h by default) and is good for
exactly one upload: creating the upload uses it up; HEAD, PATCH and GET of that one upload
keep working with the same token.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import os
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.cases.visibility import writable_case
from core.evidence import intake as evidence
from core.evidence.models import UploadLink, UploadSession
from core.kernel.clock import utcnow
from core.kernel.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TooLarge,
    UnsupportedType,
)
from core.kernel.ids import new_id, token_hash
from core.people.access import log_access, officer_for_token
from core.people.models import Officer
from core.platform import keyvalue
from core.platform.blobs import BlobStore
from core.platform.uow import UnitOfWork, UnitsOfWork

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination"
PATCH_TYPE = "application/offset+octet-stream"
LINK_PREFIX = "qcu_"
LINK_TTL = timedelta(hours=24)
SESSION_TTL = timedelta(days=3)
# A writer's lease on an upload: renewed every LEASE_RENEW while the body arrives, so only a
# process that stopped (crashed, hung) loses it.
LEASE = timedelta(seconds=120)
LEASE_RENEW = timedelta(seconds=20)
CHUNK = 1 << 20
_ID = re.compile(r"^[0-9a-f]{32}$")
_KEY = re.compile(r"^[!-+\--~]+$")  # printable ASCII without space and comma (tus spec)
MAX_METADATA = 16 * 1024


class BadUpload(DomainError):
    """A tus header is missing or malformed."""

    code, status = "bad_request", 400
    lead_zh = "上传请求的协议头缺失或格式有误"


class NotAuthenticated(DomainError):
    """No valid bearer token and no valid upload link."""

    code, status = "unauthorized", 401
    lead_zh = "未登录：请发送有效的令牌或上传链接"


class LinkGone(DomainError):
    """The one-time link was used already or has expired."""

    code, status = "link_gone", 410
    lead_zh = "上传链接已使用或已过期"


class UploadGone(DomainError):
    """The upload expired or was terminated; its bytes are gone."""

    code, status = "gone", 410
    lead_zh = "该上传已过期或已终止"


@dataclass(frozen=True)
class Uploader:
    """Who is uploading: an officer, possibly through a one-time link."""

    officer_id: str
    link_id: str | None = None
    link_case_id: str | None = None


# --- links ----------------------------------------------------------------------------------


CAPTURE_LINKS = "capture.link"  # working state: ids of the links the capture page asked for


def public_base(uow: UnitOfWork) -> str:
    """Where officers reach this server: the PUBLIC_URL setting, else the local address."""
    return uow.settings.effective_public_url


def issue_upload_link(uow: UnitOfWork, actor: Officer, case_id: str, *,
                      ttl: timedelta = LINK_TTL, base_url: str | None = None) -> dict:
    """A one-time link for one resumable upload to this case by this officer (A31.1)."""
    case = writable_case(uow.session, actor, case_id)
    if not timedelta(minutes=5) <= ttl <= timedelta(days=7):
        raise Invalid("a link lives between 5 minutes and 7 days")
    token = LINK_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = UploadLink(id=new_id(), token_hash=token_hash(token), case_id=case.id,
                     officer_id=actor.id, created_at=now, expires_at=now + ttl)
    uow.session.add(row)
    uow.session.flush()
    base = (base_url or public_base(uow)).rstrip("/")
    # The token rides in the fragment, which browsers never send: the page reads it there and
    # sends it in the Upload-Token header, so it appears in no request line or access log.
    return {"url": f"{base}/u#{token}", "token": token,
            "expires_at": row.expires_at.astimezone(uow.settings.legal_tz).isoformat(),
            "tus_endpoint": f"{base}/api/v1/uploads", "case_id": case.id,
            "case_number": case.number}


def _link(uow: UnitOfWork, token: str) -> UploadLink | None:
    if not token.startswith(LINK_PREFIX) or len(token) > 100:
        return None
    return uow.session.execute(select(UploadLink).where(
        UploadLink.token_hash == token_hash(token))).scalar_one_or_none()


def link_info(uow: UnitOfWork, token: str, *, remote: str = "") -> dict:
    """What a link's page shows: the case, whether the link can still be used, and the upload
    it started (to resume or to show its verdict); the read is logged for the link's officer
    (A33.1)."""
    from core.cases.models import Case

    link = _link(uow, token)
    if link is None:
        raise NotFound("this upload link is unknown")
    case = uow.session.get(Case, link.case_id)
    officer = uow.session.get(Officer, link.officer_id)
    state = ("inactive" if officer is None or not officer.active else "used" if link.used_at
             else "expired" if link.expires_at <= utcnow() else "open")
    started = uow.session.execute(select(UploadSession).where(
        UploadSession.link_id == link.id)).scalars().first()
    upload_state = started.status if started else None
    if upload_state == "receiving" and started.expires_at <= utcnow():
        upload_state = "expired"  # not purged yet, but HEAD and PATCH answer 410 already
    log_access(uow.session, officer, "read", "upload_link", link.id, channel="upload_link",
               remote=remote)
    return {"link_id": link.id, "case_number": case.number if case else "",
            "case_title": case.title if case else "", "state": state,
            "expires_at": link.expires_at.astimezone(uow.settings.legal_tz).isoformat(),
            "upload": None if started is None else {
                "id": started.id, "status": upload_state, "offset": started.offset,
                "length": started.length, "filename": started.filename}}


def uploader(uow: UnitOfWork, *, bearer: str | None, link_token: str | None) -> Uploader:
    """The officer behind a bearer token, or behind a one-time link token (401 otherwise)."""
    if link_token:
        link = _link(uow, link_token.strip())
        if link is None:
            raise NotAuthenticated("the upload link is unknown")
        officer = uow.session.get(Officer, link.officer_id)
        if officer is None or not officer.active:
            raise Forbidden("the officer of this upload link is no longer active")
        return Uploader(officer.id, link.id, link.case_id)
    if bearer:
        officer = officer_for_token(uow.session, bearer.strip())
        if officer is not None:
            return Uploader(officer.id)
    raise NotAuthenticated("send Authorization: Bearer <token>, or the upload link's token")


def _officer(uow: UnitOfWork, who: Uploader) -> Officer:
    officer = uow.session.get(Officer, who.officer_id)
    if officer is None or not officer.active:
        raise NotAuthenticated("the officer is no longer active")
    return officer


# --- creation -------------------------------------------------------------------------------


def parse_metadata(header: str | None) -> dict[str, str]:
    """Upload-Metadata: comma-separated ``key base64(value)`` pairs (value optional)."""
    out: dict[str, str] = {}
    if not header or not header.strip():
        return out
    if len(header) > MAX_METADATA:
        raise BadUpload("Upload-Metadata is too long")
    for pair in header.split(","):
        parts = pair.strip().split(" ")
        if not parts[0] or len(parts) > 2 or not _KEY.match(parts[0]):
            raise BadUpload("Upload-Metadata must be comma-separated 'key base64value' pairs")
        key = parts[0]
        if key in out:
            raise BadUpload(f"Upload-Metadata repeats the key {key!r}")
        try:
            out[key] = base64.b64decode(parts[1], validate=True).decode("utf-8") \
                if len(parts) == 2 else ""
        except (binascii.Error, ValueError):
            raise BadUpload(f"Upload-Metadata value of {key!r} is not base64 of UTF-8 text"
                            ) from None
    return out


def upload_path(blobs: BlobStore, upload_id: str) -> Path:
    """Where the bytes of an upload collect (404 for a malformed id: never a path outside)."""
    if not isinstance(upload_id, str) or not _ID.match(upload_id):
        raise NotFound(f"upload {str(upload_id)[:40]} not found")
    return blobs.tmp_dir / f"tus-{upload_id}"


def create_upload(uow: UnitOfWork, who: Uploader, *, length_header: str | None,
                  metadata_header: str | None) -> UploadSession:
    """tus creation: validate the A31.1 fields now, so a wrong form fails before any byte."""
    if length_header is None or not length_header.strip().isdigit():
        raise BadUpload("Upload-Length is required: the size of the whole file in bytes")
    length = int(length_header)
    limit = uow.settings.max_upload_bytes
    if length > limit:
        raise TooLarge(f"the file is larger than the limit of {limit} bytes")
    if length == 0:
        raise UnsupportedType("the file is empty; nothing was stored")
    meta = parse_metadata(metadata_header)
    case_id = meta.get("case_id") or who.link_case_id
    if who.link_case_id and case_id != who.link_case_id:
        raise Invalid("this upload link is for another case",
                      details={"fields": {"case_id": "not the link's case"}})
    if not case_id:
        raise Invalid("Upload-Metadata must carry case_id", details={"fields": {"case_id":
                                                                                 "required"}})
    actor = _officer(uow, who)
    case = writable_case(uow.session, actor, case_id)
    form = evidence.parse_form(meta)
    evidence.check_links(uow.session, case, form)
    now = utcnow()
    if who.link_id:
        # Conditional update: of two requests racing with one link, exactly one wins.
        used = uow.session.execute(
            update(UploadLink).where(UploadLink.id == who.link_id, UploadLink.used_at.is_(None),
                                     UploadLink.expires_at > now)
            .values(used_at=now).execution_options(synchronize_session=False))
        if used.rowcount != 1:
            link = uow.session.get(UploadLink, who.link_id)
            uow.session.refresh(link)
            raise LinkGone("this upload link was used already; ask for a new one"
                           if link.used_at else "this upload link has expired; ask for a new one")
    row = UploadSession(
        id=new_id(), case_id=case.id, officer_id=actor.id, link_id=who.link_id, length=length,
        offset=0, form=evidence.form_fields(form),
        filename=evidence.safe_filename(meta.get("filename") or meta.get("name")),
        filetype=(meta.get("filetype") or meta.get("type") or "")[:100], status="receiving",
        created_at=now, updated_at=now, expires_at=now + SESSION_TTL)
    uow.session.add(row)
    uow.session.flush()
    upload_path(uow.blobs, row.id).touch(mode=0o600, exist_ok=False)
    return row


# --- reading the state ----------------------------------------------------------------------


def get_upload(uow: UnitOfWork, who: Uploader, upload_id: str) -> UploadSession:
    """An upload of this officer (or of this link); 404 for anyone else's, 410 when gone."""
    upload_path(uow.blobs, upload_id)  # refuses malformed ids
    row = uow.session.get(UploadSession, upload_id)
    if row is None or row.officer_id != who.officer_id or (who.link_id and
                                                           row.link_id != who.link_id):
        raise NotFound(f"upload {upload_id} not found")
    if row.status in ("terminated", "expired"):
        raise UploadGone(f"upload {upload_id} was {row.status}")
    if row.status == "receiving" and row.expires_at <= utcnow():
        raise UploadGone(f"upload {upload_id} expired at {row.expires_at.isoformat()}")
    return row


def upload_json(row: UploadSession) -> dict:
    """An upload's progress as JSON."""
    return {"id": row.id, "case_id": row.case_id, "status": row.status, "offset": row.offset,
            "length": row.length, "evidence_id": row.evidence_id,
            "expires_at": row.expires_at.isoformat()}


def upload_result(uow: UnitOfWork, who: Uploader, upload_id: str) -> tuple[dict, int]:
    """The intake answer of a finished upload, or its progress (202) while bytes arrive."""
    row = get_upload(uow, who, upload_id)
    if row.status in ("done", "failed") and row.result is not None:
        body = dict(row.result)
        body["upload"] = upload_json(row)
        return body, row.result_status or 200
    return {"upload": upload_json(row)}, 202


# --- PATCH ----------------------------------------------------------------------------------


class Interrupted(Exception):
    """The request body ended early (client gone); ``written`` bytes were kept."""

    def __init__(self, written: int, cause: BaseException):
        super().__init__(str(cause))
        self.written, self.cause = written, cause


BUSY = "another request is writing to this upload; ask HEAD for the offset and resume"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[int]:
    """An exclusive lock on the upload's file; 409 when another request holds it."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        raise UploadGone("the bytes of this upload are gone") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(BUSY) from None
        yield fd
    finally:
        os.close(fd)  # closing releases the lock


def _locked_row(session: Session, upload_id: str) -> UploadSession | None:
    """The row under a row lock (PostgreSQL FOR UPDATE; SQLite's transactions hold the
    database's write lock already), so that two processes decide one after the other."""
    return session.execute(select(UploadSession).where(UploadSession.id == upload_id)
                           .with_for_update()).scalar_one_or_none()


class Lease:
    """The right to append to one upload, held by one request in one process."""

    def __init__(self, container: UnitsOfWork, upload_id: str, token: str):
        self.container, self.upload_id, self.token = container, upload_id, token
        self.renewed = utcnow()

    def renew(self, force: bool = False) -> None:
        """Extend the lease (every LEASE_RENEW while bytes arrive); 409 when it was lost."""
        now = utcnow()
        if not force and now - self.renewed < LEASE_RENEW:
            return
        with self.container.uow() as uow:
            done = uow.session.execute(
                update(UploadSession).where(UploadSession.id == self.upload_id,
                                            UploadSession.writer == self.token)
                .values(writer_until=now + LEASE).execution_options(synchronize_session=False))
            if done.rowcount != 1:
                raise Conflict("this request took too long and lost its turn; ask HEAD for "
                               "the offset and resume")
        self.renewed = now

    def release(self) -> None:
        """Give the lease back (only this holder's)."""
        with self.container.uow() as uow:
            uow.session.execute(
                update(UploadSession).where(UploadSession.id == self.upload_id,
                                            UploadSession.writer == self.token)
                .values(writer=None, writer_until=None)
                .execution_options(synchronize_session=False))


@contextlib.contextmanager
def _leased(container: UnitsOfWork, who: Uploader, upload_id: str) -> Iterator[Lease]:
    """Take the upload's write lease (409 while another request, in any process, holds an
    unexpired one) and give it back at the end, whatever happens."""
    token = new_id()
    with container.uow() as uow:
        get_upload(uow, who, upload_id)
        row = _locked_row(uow.session, upload_id)
        now = utcnow()
        if row.writer is not None and row.writer_until is not None and row.writer_until > now:
            raise Conflict(BUSY)
        row.writer, row.writer_until = token, now + LEASE
    lease = Lease(container, upload_id, token)
    try:
        yield lease
    finally:
        lease.release()


def _append(fd: int, offset: int, read: Callable[[int], bytes], remaining: int,
            renew: Callable[[], None] = lambda: None) -> int:
    """Write the body at ``offset``; cut back and 413 past the declared length."""
    os.ftruncate(fd, offset)  # bytes beyond the recorded offset were never acknowledged
    os.lseek(fd, offset, os.SEEK_SET)
    written = 0
    try:
        while chunk := read(CHUNK):
            if written + len(chunk) > remaining:
                os.ftruncate(fd, offset)
                raise TooLarge("the body goes past Upload-Length; nothing of it was kept")
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view):]
            written += len(chunk)
            renew()
    except (TooLarge, Conflict):
        raise
    except Exception as exc:  # a disconnect mid-body: keep what arrived (tus resumes from it)
        os.fsync(fd)
        raise Interrupted(written, exc) from exc
    os.fsync(fd)
    return written


@dataclass
class PatchResult:
    """The new offset, and for the last PATCH the intake's answer."""

    offset: int
    length: int
    evidence_id: str | None = None
    body: dict | None = None
    status: int = 204


def _save_offset(container: UnitsOfWork, upload_id: str, old: int, new: int,
                 lease: Lease) -> None:
    with container.uow() as uow:
        done = uow.session.execute(
            update(UploadSession).where(UploadSession.id == upload_id,
                                        UploadSession.offset == old,
                                        UploadSession.writer == lease.token)
            .values(offset=new, updated_at=utcnow()).execution_options(synchronize_session=False))
        if done.rowcount != 1:
            raise Conflict("the upload moved on while this request was writing")


def patch_upload(container: UnitsOfWork, who: Uploader, upload_id: str, *,
                 offset_header: str | None, content_type: str | None,
                 content_length: int | None, read: Callable[[int], bytes],
                 extractor: evidence.Extractor | None = None) -> PatchResult:
    """tus PATCH: append at the client's offset (409 if it is not ours), finish at the end."""
    path = upload_path(container.blobs, upload_id)
    with container.uow() as uow:
        row = get_upload(uow, who, upload_id)
    if (content_type or "").split(";", 1)[0].strip().lower() != PATCH_TYPE:
        raise UnsupportedType(f"PATCH bodies must be sent as Content-Type: {PATCH_TYPE}")
    if offset_header is None or not offset_header.strip().isdigit():
        raise BadUpload("Upload-Offset is required: the offset this body starts at")
    client_offset = int(offset_header)
    if row.status in ("done", "failed"):
        # The final answer was lost on the way: an empty PATCH at the end gets it again.
        if client_offset != row.length or content_length:
            raise Conflict(f"the upload is complete at offset {row.length}",
                           details={"offset": row.length})
        return PatchResult(row.length, row.length, row.evidence_id, row.result,
                           row.result_status or 204)
    with _leased(container, who, upload_id) as lease, _locked(path) as fd:
        with container.uow() as uow:
            row = get_upload(uow, who, upload_id)  # the offset as of now, under the lease
        if client_offset != row.offset:
            raise Conflict(f"Upload-Offset {client_offset} does not match the upload's offset "
                           f"{row.offset}; ask HEAD and resume from there",
                           details={"offset": row.offset})
        remaining = row.length - row.offset
        if content_length is not None and content_length > remaining:
            raise TooLarge(f"the body ({content_length} bytes) goes past Upload-Length "
                           f"({remaining} bytes remain)")
        try:
            written = _append(fd, row.offset, read, remaining, lease.renew)
        except Interrupted as exc:
            if exc.written:
                _save_offset(container, upload_id, row.offset, row.offset + exc.written, lease)
            raise exc.cause from None
        new = row.offset + written
        if written:
            _save_offset(container, upload_id, row.offset, new, lease)
        if new < row.length:
            return PatchResult(new, row.length)
        return _finish(container, who, upload_id, path, extractor)


def _finish(container: UnitsOfWork, who: Uploader, upload_id: str, path: Path,
            extractor: evidence.Extractor | None) -> PatchResult:
    """Every byte is in: the same intake as a multipart upload; the answer (or refusal) is
    kept for GET and for a repeated final PATCH."""
    with container.uow() as uow:
        row = get_upload(uow, who, upload_id)
        form_data, filename, filetype, case_id = (dict(row.form), row.filename, row.filetype,
                                                  row.case_id)
        received_at = row.updated_at
        # A link of the capture page inside Telegram (capture_links): the page's facts count.
        channel = evidence.IN_APP_CHANNEL if who.link_id and keyvalue.get(
            uow.session, CAPTURE_LINKS, who.link_id) else "tus"
    received = evidence.adopt_file(container.blobs, path)
    try:
        form = evidence.parse_form(form_data)
        inspected = evidence.inspect(received, filename, filetype or None, extractor=extractor)
        with container.uow() as uow:
            actor = _officer(uow, who)
            result = evidence.record(uow, actor, case_id, inspected, form,
                                     received_at=received_at, channel=channel)
            body, status = evidence.result_json(result), result.status
            body["upload_id"] = upload_id
            _close(uow, upload_id, "done", body, status, result.evidence.id)
    except DomainError as exc:
        received.discard()
        body = {"error": {"code": exc.code, "message": exc.message, **exc.details}}
        with container.uow() as uow:
            _close(uow, upload_id, "failed", body, exc.status, None)
        return PatchResult(received.size, received.size, None, body, exc.status)
    return PatchResult(received.size, received.size, result.evidence.id, body, status)


def _close(uow: UnitOfWork, upload_id: str, status: str, body: dict, code: int,
           evidence_id: str | None) -> None:
    row = uow.session.get(UploadSession, upload_id)
    row.status, row.result, row.result_status = status, body, code
    row.evidence_id, row.updated_at = evidence_id, utcnow()


def terminate(container: UnitsOfWork, who: Uploader, upload_id: str) -> None:
    """tus termination: the bytes are deleted, the upload answers 410 from now on."""
    path = upload_path(container.blobs, upload_id)
    with container.uow() as uow:
        row = get_upload(uow, who, upload_id)
        if row.status != "receiving":
            raise Conflict(f"the upload is {row.status}; only an unfinished upload can be "
                           f"terminated")
    with _leased(container, who, upload_id), _locked(path), container.uow() as uow:
        row = get_upload(uow, who, upload_id)
        row.status, row.updated_at = "terminated", utcnow()
        path.unlink(missing_ok=True)


def purge_expired(container: UnitsOfWork, now: datetime | None = None) -> int:
    """Delete the bytes of unfinished uploads past their expiry; how many (for a schedule)."""
    now = now or utcnow()
    with container.uow() as uow:
        rows = list(uow.session.execute(select(UploadSession).where(
            UploadSession.status == "receiving", UploadSession.expires_at <= now)).scalars())
        for row in rows:
            row.status, row.updated_at = "expired", now
            upload_path(container.blobs, row.id).unlink(missing_ok=True)
    return len(rows)
