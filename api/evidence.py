"""Evidence: streaming multipart intake, reading and downloading, previews, one-time upload
links and resumable uploads (tus 1.0) (A31.1, A17.1, A33.1, A37.1).

An upload is handled in three steps so that no database transaction is open while the body
arrives or the parsers run (see core.evidence.intake): a short transaction checks the token and the
case before any byte is read; the body is decoded part by part with werkzeug's sans-IO
multipart decoder straight into the blob store's temporary folder while hashing (memory stays
flat, the file is written once, its fsync runs while it is inspected); the file is placed under
its content address (intake.place); then one transaction records it.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    request,
    url_for,
)
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from core.evidence import content as stored
from core.evidence import intake as service
from core.evidence import uploads
from core.kernel.clock import utcnow
from core.kernel.errors import Invalid, NotFound, UnsupportedType
from core.kernel.fields import whole
from core.platform import idempotency

from . import error_body
from .auth import container, current_actor, handle, remote

bp = Blueprint("evidence", __name__, url_prefix="/api/v1")
tus = Blueprint("uploads", __name__, url_prefix="/uploads")

CHUNK = 1024 * 1024  # a read of the body, as the floor bench reads it
MAX_FORM_MEMORY = 1024 * 1024  # what the decoder may hold of one part
MAX_FIELD = 16 * 1024  # a text field (proves is at most 4,000 characters)
MAX_PARTS = 32
FIELDS = ("proves", "method", "record_id", "lat", "lon", "accuracy", "captured_by",
          "captured_at")


@bp.before_request
def _refuse_oversized():
    """413 on the declared length alone, before authentication or any read (the route's limit
    of api.edge; werkzeug also stops a chunked body at the same limit)."""
    limit = request.max_content_length
    if limit is not None and request.content_length is not None \
            and request.content_length > limit:
        raise RequestEntityTooLarge()


def _extractor():
    """Sandboxed metadata reading, unless the app was configured otherwise (tests, tools)."""
    return current_app.config.get("EVIDENCE_EXTRACTOR") or service.sandboxed_extractor


# --- multipart intake -----------------------------------------------------------------------


def _read_multipart(blobs, limit: int):
    """Decode the body part by part: text fields into a dict, the `file` part into the store."""
    if request.mimetype != "multipart/form-data":
        raise UnsupportedType("send the file as multipart/form-data with the field `file`")
    boundary = request.mimetype_params.get("boundary", "")
    if not boundary or len(boundary) > 200:
        raise BadRequest("the multipart body has no boundary")
    decoder = MultipartDecoder(boundary.encode("latin-1", "replace"),
                               max_form_memory_size=MAX_FORM_MEMORY, max_parts=MAX_PARTS)
    fields: dict[str, str] = {}
    receiver, filename, declared = None, None, None
    part, buf = None, bytearray()
    stream = request.stream
    try:
        while True:
            chunk = stream.read(CHUNK)
            decoder.receive_data(chunk or None)
            event = decoder.next_event()
            while not isinstance(event, (NeedData, Epilogue)):
                if isinstance(event, File):
                    if event.name != "file" or receiver is not None:
                        raise Invalid("send exactly one file, in the field `file`",
                                      details={"fields": {"file": "one file only"}})
                    receiver = service.Receiver(blobs, limit)
                    filename, declared = event.filename, event.headers.get("content-type")
                    part = receiver
                elif isinstance(event, Field):
                    part, buf = event.name, bytearray()
                elif isinstance(event, Data):
                    if part is receiver and receiver is not None:
                        receiver.write(event.data)
                    else:
                        buf += event.data
                        if len(buf) > MAX_FIELD:
                            raise Invalid(f"the field {str(part)[:40]} is too long")
                        if not event.more_data and isinstance(part, str):
                            fields[part] = buf.decode("utf-8")
                event = decoder.next_event()
            if isinstance(event, Epilogue) or not chunk:
                break
        received = receiver.finish() if receiver is not None else None
    except (ValueError, TypeError, AttributeError) as exc:  # the decoder on a broken body
        if receiver is not None:
            receiver.discard()
        raise BadRequest(f"the multipart body is malformed ({type(exc).__name__})") from None
    except BaseException:
        if receiver is not None:
            receiver.discard()
        raise
    return {k: v for k, v in fields.items() if k in FIELDS}, received, filename, declared


@bp.post("/cases/<case_id>/evidence")
def upload(case_id: str):
    """Upload one AV item or scanned document (A31.1, A17.1): 201, or 200 for a duplicate."""
    c = container()
    key = idempotency.check_key(request.headers.get("Idempotency-Key"))
    # Refuse a wrong token or case before reading a byte; the check only reads, so concurrent
    # uploads do not queue on SQLite's write lock for it (the recording takes it, later).
    with c.uow(read_only=True) as uow:
        retain_years = service.may_upload(uow, current_actor(uow, read_only=True), case_id)
    fields, received, filename, declared = _read_multipart(c.blobs, c.settings.max_upload_bytes)
    received_at = utcnow()
    try:
        if received is None:
            raise Invalid("the file is missing: send it in the multipart field `file`",
                          zh="缺少文件：请在多部分字段 file 中上传",
                          details={"fields": {"file": "required"}})
        form = service.parse_form(fields)
        inspected = service.inspect(received, filename, declared, extractor=_extractor())
        service.place(c, lambda uow: current_actor(uow, read_only=True), case_id, inspected,
                      form, retain_years=retain_years)

        def work(uow, actor):
            result = service.record(uow, actor, case_id, inspected, form,
                                    received_at=received_at, channel="api")
            return service.result_json(result), result.status

        outcome = idempotency.run_once(
            c, key=key, actor=current_actor, work=work,
            fingerprint=idempotency.fingerprint(request.path, received.sha256,
                                                sorted(fields.items()), filename, declared))
    finally:
        if received is not None:
            received.discard()  # nothing once committed; a refused upload keeps nothing
    response = jsonify(outcome.body)
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = url_for(".get_item", evidence_id=outcome.body["id"])
    return response, outcome.status


# --- reading --------------------------------------------------------------------------------


@bp.get("/evidence/<evidence_id>")
def get_item(evidence_id: str):
    """One item's metadata, checks and assurance; the read is logged (A33.1)."""
    def run(uow, actor):
        ev = service.get_evidence(uow, actor, evidence_id, remote=remote())
        return service.evidence_json(ev, service.preview_of(uow.session, ev.id)), 200

    return handle(run)


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with an ASCII name and the UTF-8 name (RFC 6266 / 8187), no path parts
    and no control characters, so a name cannot inject headers or pick a folder."""
    name = service.safe_filename(filename, fallback)
    ascii_name = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-()+ ") else "_"
                         for ch in name).strip() or fallback
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _guarded(response: Response) -> Response:
    # A stored file must never run in the browser as a page of this origin.
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def streamed(blobs, sha: str, size: int, mimetype: str) -> Response:
    """A blob streamed from the store (folder or S3) with its ETag, conditional GET and one
    byte range (werkzeug decides 200/206/304/416; only the bytes sent are read)."""
    response = Response(mimetype=mimetype, direct_passthrough=True)
    response.set_etag(sha)
    response.content_length = size
    response.make_conditional(request.environ, accept_ranges=True, complete_length=size)
    if response.status_code == 206:
        start, stop = response.content_range.start, response.content_range.stop
    elif response.status_code == 200:
        start, stop = 0, size
    else:
        return response  # 304 or 412: no body
    response.response = [] if request.method == "HEAD" else \
        stored.stream(blobs, sha, start, stop)
    return response


@bp.get("/evidence/<evidence_id>/content")
def content(evidence_id: str):
    """The original bytes, access-checked and logged (A33.1, A37.1); ranges for video."""
    c = container()
    with c.uow() as uow:
        actor = current_actor(uow)
        ev = service.get_evidence(uow, actor, evidence_id, action="download", remote=remote())
        size = stored.original_size(uow.blobs, ev)
        name, mime, sha = ev.filename, ev.media_type, ev.sha256
    response = streamed(c.blobs, sha, size, mime)
    response.headers["Content-Disposition"] = content_disposition(name, f"evidence-{ev.id[:8]}")
    # RFC 9530: the client can verify what it received against the recorded hash.
    response.headers["Repr-Digest"] = \
        f"sha-256=:{base64.b64encode(bytes.fromhex(sha)).decode()}:"
    return _guarded(response)


@bp.get("/evidence/<evidence_id>/preview")
def preview(evidence_id: str):
    """The thumbnail of an image item (made after the upload; 404 until it exists)."""
    c = container()
    with c.uow() as uow:
        actor = current_actor(uow)
        ev = service.get_evidence(uow, actor, evidence_id, action="preview", remote=remote())
        row = service.preview_of(uow.session, ev.id)
        if row is None:
            raise NotFound("no preview of this item (yet): previews are made for images and "
                           "videos after the upload",
                           zh="此项暂无预览：上传后仅为图片和视频生成预览")
        sha = row.sha256
    return _guarded(streamed(c.blobs, sha, stored.blob_size(c.blobs, sha), "image/jpeg"))


# --- one-time upload links ------------------------------------------------------------------


@bp.post("/cases/<case_id>/upload-links")
def new_link(case_id: str):
    """A one-time link for one resumable upload, bound to this case and the caller (A31.1)."""
    def run(uow, actor):
        data = request.get_json(silent=True) if request.content_length else None
        hours = (data or {}).get("expires_in_hours") if isinstance(data, dict) else None
        hours = whole(hours, "expires_in_hours", low=1, high=168, default=24)
        # PUBLIC_URL, never the request's Host header (finding 10: a forged Host would send
        # the officer's link, token and all, to another server).
        return uploads.issue_upload_link(uow, actor, case_id, ttl=timedelta(hours=hours)), 201

    return handle(run)


@bp.get("/upload-links/<token>")
def link_page(token: str):
    """Links issued before the page moved to /u#<token>: the same page, token in the fragment."""
    response = redirect(url_for("pages.upload") + "#" + quote(token, safe=""), code=303)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token was in this URL
    return response


# --- tus 1.0 --------------------------------------------------------------------------------


@tus.before_request
def _tus_resumable():
    """412 unless the client speaks tus 1.0.0 (OPTIONS and GET of a result excepted)."""
    if request.method in ("OPTIONS", "GET"):
        return None
    if request.headers.get("Tus-Resumable") != uploads.TUS_VERSION:
        response = jsonify(error_body("precondition_failed",
                                      f"send Tus-Resumable: {uploads.TUS_VERSION}",
                                      zh=f"请发送 Tus-Resumable: {uploads.TUS_VERSION}"))
        response.headers["Tus-Version"] = uploads.TUS_VERSION
        return response, 412
    return None


@tus.after_request
def _tus_headers(response: Response) -> Response:
    """Every tus response names the protocol version."""
    response.headers["Tus-Resumable"] = uploads.TUS_VERSION
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _link_token() -> str | None:
    """A one-time link's token: Upload-Token header, ?token=, or a qcu_ bearer token."""
    token = request.headers.get("Upload-Token") or request.args.get("token")
    if token:
        return token
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip().startswith(uploads.LINK_PREFIX):
        return value.strip()
    return None


def _who(uow) -> uploads.Uploader:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    bearer = value if scheme.lower() == "bearer" else None
    return uploads.uploader(uow, bearer=bearer, link_token=_link_token())


def _tus_info(response: Response) -> Response:
    response.headers["Tus-Version"] = uploads.TUS_VERSION
    response.headers["Tus-Extension"] = uploads.TUS_EXTENSIONS
    response.headers["Tus-Max-Size"] = str(container().settings.max_upload_bytes)
    return response


@tus.route("", methods=["OPTIONS"])
def tus_options():
    """tus discovery: version, extensions and the size limit."""
    return _tus_info(Response(status=204))


@tus.route("/<upload_id>", methods=["OPTIONS"])
def tus_options_one(upload_id: str):
    """tus discovery on an upload's URL."""
    return _tus_info(Response(status=204))


@tus.post("")
def tus_create():
    """tus creation: Upload-Length and Upload-Metadata (case_id, filename, filetype, proves,
    method, record_id, ...) → 201 with the upload's Location."""
    with container().uow() as uow:
        who = _who(uow)
        row = uploads.create_upload(uow, who, length_header=request.headers.get("Upload-Length"),
                                    metadata_header=request.headers.get("Upload-Metadata"))
    location = url_for(".tus_one", upload_id=row.id, _external=True)
    if request.args.get("token"):
        # A link used as a plain URL: the upload's URL carries it on, so any tus client works.
        location += "?token=" + quote(request.args["token"], safe="")
    response = Response(status=201)
    response.headers["Location"] = location
    response.headers["Upload-Offset"] = "0"
    return response


@tus.route("/<upload_id>", methods=["GET", "HEAD"])
def tus_one(upload_id: str):
    """HEAD: the offset to resume from; GET: the intake answer once complete (202 before)."""
    with container().uow() as uow:
        who = _who(uow)
        if request.method == "HEAD":
            row = uploads.get_upload(uow, who, upload_id)
            response = Response(status=200)
            response.headers["Upload-Offset"] = str(row.offset)
            response.headers["Upload-Length"] = str(row.length)
            response.headers["Cache-Control"] = "no-store"
            return response
        body, status = uploads.upload_result(uow, who, upload_id)
    return jsonify(body), status


@tus.patch("/<upload_id>")
def tus_patch(upload_id: str):
    """Append bytes at Upload-Offset (409 when it is not the upload's offset); the last PATCH
    runs the intake and answers with X-Evidence-Id."""
    c = container()
    with c.uow() as uow:
        who = _who(uow)
    result = uploads.patch_upload(
        c, who, upload_id, offset_header=request.headers.get("Upload-Offset"),
        content_type=request.headers.get("Content-Type"), content_length=request.content_length,
        read=request.stream.read, extractor=_extractor())
    if result.body is not None and result.status >= 400:
        response = jsonify(result.body)
        response.status_code = result.status
    else:
        response = Response(status=204)
    response.headers["Upload-Offset"] = str(result.offset)
    if result.evidence_id:
        response.headers["X-Evidence-Id"] = result.evidence_id
        if result.body and result.body.get("duplicate_of"):
            response.headers["X-Evidence-Duplicate-Of"] = result.body["duplicate_of"]
    return response


@tus.delete("/<upload_id>")
def tus_delete(upload_id: str):
    """tus termination: the unfinished upload and its bytes are deleted."""
    c = container()
    with c.uow() as uow:
        who = _who(uow)
    uploads.terminate(c, who, upload_id)
    return Response(status=204)


bp.register_blueprint(tus)


# Paths of this blueprint for the OpenAPI document (api/openapi.py merges them).
_E = {"description": "error", "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/Error"}}}}
_CASE = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "string"}}
_EVID = {"name": "evidence_id", "in": "path", "required": True, "schema": {"type": "string"}}
_UP = {"name": "upload_id", "in": "path", "required": True, "schema": {"type": "string"}}
_TUS = {"name": "Tus-Resumable", "in": "header", "required": True,
        "schema": {"type": "string", "enum": ["1.0.0"]}}
_CHECK = {"type": "object", "properties": {
    "name": {"enum": ["type", "gps_distance", "capture_time", "upload_delay",
                      "editing_software", "duplicate"]},
    "status": {"enum": ["pass", "warn", "fail"]}, "detail": {"type": "string"},
    "detail_zh": {"type": "string"}}}
_EVIDENCE = {"type": "object", "properties": {
    "id": {"type": "string"}, "sha256": {"type": "string"}, "size": {"type": "integer"},
    "media_type": {"type": "string"}, "proves": {"type": "string"}, "method": {"type": "string"},
    "captured_at": {"type": "string", "format": "date-time"},
    "metadata": {"type": "object", "properties": {
        "taken_at": {"type": ["string", "null"], "format": "date-time"},
        "gps": {"type": ["object", "null"], "properties": {
            "lat": {"type": "number"}, "lon": {"type": "number"},
            "altitude": {"type": ["number", "null"]}, "accuracy": {"type": ["number", "null"]}}},
        "make": {"type": ["string", "null"]}, "model": {"type": ["string", "null"]},
        "software": {"type": ["string", "null"]}}},
    "checks": {"type": "array", "items": _CHECK},
    "assurance": {"enum": ["verified", "partial", "unverified", "failed", "generated",
                           "captured_in_app"]},
    "duplicate_of": {"type": ["string", "null"]}}}


def _resp(desc: str, schema: dict | None = None, headers: dict | None = None) -> dict:
    out: dict = {"description": desc}
    if schema is not None:
        out["content"] = {"application/json": {"schema": schema}}
    if headers:
        out["headers"] = {k: {"schema": {"type": "string"}, "description": v}
                          for k, v in headers.items()}
    return out


def _errors(*codes: int) -> dict:
    return {str(c): _E for c in codes}


EVIDENCE_PATHS = {
    "/api/v1/cases/{case_id}/evidence": {"post": {
        "summary": "Upload an AV item or scanned document, streamed (A31.1, A17.1)",
        "parameters": [_CASE], "requestBody": {"required": True, "content": {
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file", "proves", "method"], "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "proves": {"type": "string", "maxLength": 4000},
                    "method": {"type": "string", "maxLength": 64},
                    "record_id": {"type": "string"}, "lat": {"type": "number"},
                    "lon": {"type": "number"}, "accuracy": {"type": "number"},
                    "captured_by": {"type": "string"},
                    "captured_at": {"type": "string", "format": "date-time"}}}}}},
        "responses": {"201": _resp("recorded", _EVIDENCE),
                      "200": _resp("the same file was recorded before: duplicate_of", _EVIDENCE),
                      **_errors(400, 401, 403, 404, 413, 415, 422)}}},
    "/api/v1/evidence/{evidence_id}": {"get": {
        "summary": "One item's metadata, checks and assurance (logged)", "parameters": [_EVID],
        "responses": {"200": _resp("item", _EVIDENCE), **_errors(401, 404)}}},
    "/api/v1/evidence/{evidence_id}/content": {"get": {
        "summary": "The original bytes as an attachment (logged, A33.1, A37.1)",
        "parameters": [_EVID],
        "responses": {"200": {"description": "the original", "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            "206": {"description": "a range of the original"}, **_errors(401, 404)}}},
    "/api/v1/evidence/{evidence_id}/preview": {"get": {
        "summary": "JPEG thumbnail of an image item", "parameters": [_EVID],
        "responses": {"200": {"description": "thumbnail", "content": {
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}}}},
            **_errors(401, 404)}}},
    "/api/v1/cases/{case_id}/upload-links": {"post": {
        "summary": "A one-time resumable-upload link bound to the case and caller",
        "parameters": [_CASE], "requestBody": {"required": False, "content": {
            "application/json": {"schema": {"type": "object", "properties": {
                "expires_in_hours": {"type": "integer", "minimum": 1, "maximum": 168}}}}}},
        "responses": {"201": _resp("link", {"type": "object", "properties": {
            "url": {"type": "string"}, "token": {"type": "string"},
            "expires_at": {"type": "string", "format": "date-time"},
            "tus_endpoint": {"type": "string"}}}), **_errors(401, 403, 404, 422)}}},
    "/api/v1/uploads": {
        "options": {"summary": "tus discovery", "security": [], "responses": {
            "204": _resp("capabilities", headers={"Tus-Version": "1.0.0",
                                                  "Tus-Max-Size": "bytes",
                                                  "Tus-Extension": "creation,termination"})}},
        "post": {"summary": "tus creation (bearer token or a one-time link's Upload-Token)",
                 "parameters": [_TUS, {"name": "Upload-Length", "in": "header", "required": True,
                                       "schema": {"type": "integer"}},
                                {"name": "Upload-Metadata", "in": "header", "required": True,
                                 "schema": {"type": "string"}, "description":
                                     "base64 values of case_id, filename, filetype, proves, "
                                     "method, record_id"}],
                 "responses": {"201": _resp("created", headers={"Location": "upload URL"}),
                               **_errors(400, 401, 404, 410, 412, 413, 415, 422)}}},
    "/api/v1/uploads/{upload_id}": {
        "head": {"summary": "tus offset to resume from", "parameters": [_UP, _TUS],
                 "responses": {"200": _resp("offset", headers={"Upload-Offset": "bytes",
                                                               "Upload-Length": "bytes"}),
                               **_errors(401, 404, 410, 412)}},
        "patch": {"summary": "tus append at Upload-Offset; the last one runs the intake",
                  "parameters": [_UP, _TUS], "requestBody": {"required": True, "content": {
                      "application/offset+octet-stream": {"schema": {
                          "type": "string", "format": "binary"}}}},
                  "responses": {"204": _resp("appended", headers={
                      "Upload-Offset": "bytes", "X-Evidence-Id": "on the last PATCH"}),
                      **_errors(400, 401, 404, 409, 410, 412, 413, 415, 422)}},
        "get": {"summary": "The intake answer of a finished upload (202 while receiving)",
                "parameters": [_UP], "responses": {"200": _resp("item", _EVIDENCE),
                                                   "202": _resp("in progress"),
                                                   **_errors(401, 404, 410)}},
        "delete": {"summary": "tus termination", "parameters": [_UP, _TUS],
                   "responses": {"204": _resp("terminated"), **_errors(401, 404, 409, 412)}}},
    "/api/v1/upload-links/{token}": {"get": {
        "summary": "Old form of a link: redirects to the upload page /u#<token>",
        "security": [], "parameters": [{"name": "token", "in": "path", "required": True,
                                        "schema": {"type": "string"}}],
        "responses": {"303": {"description": "to /u#<token>"}}}},
}
