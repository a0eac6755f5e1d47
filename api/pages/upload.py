"""The one-time upload page, ``/u#<token>``, for an officer on a phone (A31.1).

The token lives only in the URL fragment, which browsers never send: the page's script reads it
there and sends it in the ``Upload-Token`` header, to ``GET /api/v1/upload-link`` (what the link
is for) and to the tus routes (core.evidence.uploads), so it appears in no request line, proxy
log or referrer. The upload itself is tus-js-client's, resumable after a lost connection or a
reload of the page.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for

from core.evidence import uploads
from core.kernel import texts as words

from ..auth import container, remote
from . import bp, i18n

api = Blueprint("upload_link", __name__, url_prefix="/api/v1")

CHUNK_BYTES = 4 * 1024 * 1024  # one PATCH: little is lost to a drop, few requests for 2 GiB


@bp.get("/u")
def upload():
    """The upload page: the same HTML for every link (the token is read by the script)."""
    return render_template(
        "upload.html", tus_endpoint=url_for("evidence.uploads.tus_create"),
        info_url=url_for("upload_link.link_status"), chunk_size=CHUNK_BYTES,
        texts={**i18n.texts_with_prefix("upjs_"), **i18n.code_labels(words.CHECKS, "upjs_check_"),
               **i18n.code_labels(words.ASSURANCE, "upjs_assurance_"),
               **i18n.code_labels(words.CHECK_STATUS, "upjs_status_")})


@api.get("/upload-link")
def link_status():
    """The link presented in the Upload-Token header: its case, expiry and state, and the
    upload it started (with that upload's URL, to resume it or fetch its verdict)."""
    token = request.headers.get("Upload-Token", "").strip()
    if not token:
        raise uploads.NotAuthenticated("send the link's token in the Upload-Token header")
    with container().uow() as uow:
        info = uploads.link_info(uow, token, remote=remote())
    if info["upload"] is not None:
        info["upload"]["url"] = url_for("evidence.uploads.tus_one",
                                        upload_id=info["upload"]["id"], _external=True)
    response = jsonify(info)
    response.headers["Cache-Control"] = "no-store"
    return response


OPENAPI_PATHS = {
    "/api/v1/upload-link": {"get": {
        "summary": "The one-time upload link named by the Upload-Token header: case, expiry, "
                   "state (open, used, expired, inactive) and the upload it started",
        "security": [],
        "parameters": [{"name": "Upload-Token", "in": "header", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {
            "200": {"description": "the link", "content": {"application/json": {"schema": {
                "type": "object", "properties": {
                    "link_id": {"type": "string"}, "case_number": {"type": "string"},
                    "case_title": {"type": "string"},
                    "state": {"enum": ["open", "used", "expired", "inactive"]},
                    "expires_at": {"type": "string", "format": "date-time"},
                    "upload": {"type": ["object", "null"], "properties": {
                        "id": {"type": "string"}, "url": {"type": "string"},
                        "status": {"enum": ["receiving", "done", "failed", "terminated",
                                            "expired"]},
                        "offset": {"type": "integer"}, "length": {"type": "integer"},
                        "filename": {"type": "string"}}}}}}}},
            "401": {"description": "no token"}, "404": {"description": "unknown token"}}}},
    "/u": {"get": {
        "summary": "HTML page that uploads one file through a one-time link given as /u#<token>",
        "security": [], "responses": {"200": {"description": "page",
                                              "content": {"text/html": {}}}}}},
}
