"""The capture page inside Telegram (a Mini App opened from the bot's button): ``/m/capture``.

The browser camera takes the photo, the device's position and accuracy are read at that
moment, the item is hashed on the phone and kept in the page's storage (IndexedDB) with those
facts; it goes up resumably (tus) as soon as there is a signal, each item with a one-time link
asked for with the Mini App's init data. The init data is verified here as Telegram specifies
(HMAC-SHA-256 keyed by HMAC-SHA-256("WebAppData", bot token)) and is fresh for a day; the
officer and the case are then core's (core.evidence.capture_links). A service worker keeps the
page's files so that it opens without a signal.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from urllib.parse import parse_qsl

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from core.evidence import capture_links
from core.evidence.uploads import NotAuthenticated
from core.kernel.clock import utcnow

from ..auth import container
from . import assets, bp, i18n
from .upload import CHUNK_BYTES

api = Blueprint("miniapp", __name__, url_prefix="/api/v1/miniapp")
MAX_AGE = timedelta(hours=24)  # items captured offline ask for their link later the same day
# Telegram Web shows a Mini App in a frame; the mobile apps use their own web view.
FRAMED_BY = "https://web.telegram.org"


def verify_init_data(raw: str, bot_token: str, *, max_age: timedelta = MAX_AGE) -> dict:
    """The Telegram user of a Mini App's init data, when its hash is the bot token's HMAC of
    the other fields and it is recent; NotAuthenticated otherwise."""
    if not raw or len(raw) > 4096 or not bot_token:
        raise NotAuthenticated("Mini App init data is missing")
    pairs = dict(parse_qsl(raw, keep_blank_values=True))
    given = pairs.pop("hash", "")
    check = "\n".join(f"{k}={v}" for k, v in sorted(pairs.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.encode()):  # bytes: any characters
        raise NotAuthenticated("Mini App init data is not signed with this bot's token")
    try:
        auth_date = int(pairs.get("auth_date", "0"))
        user = json.loads(pairs.get("user", "{}"))
        user_id = int(user["id"])
    except (ValueError, KeyError, TypeError):
        raise NotAuthenticated("Mini App init data carries no user") from None
    if utcnow().timestamp() - auth_date > max_age.total_seconds():
        raise NotAuthenticated("Mini App init data is too old; open the page from the bot again")
    return {**user, "id": user_id}


def _texts() -> dict:
    return i18n.texts_with_prefix("capjs_")


@bp.get("/m/capture")
def capture():
    """The capture page: the same HTML for everyone (init data is read by the script)."""
    response = Response(render_template(
        "capture.html", link_url=url_for("miniapp.link"),
        tus_endpoint=url_for("evidence.uploads.tus_create"), chunk_size=CHUNK_BYTES,
        worker_url=url_for("pages.capture_worker"), texts=_texts()))
    csp = response.headers.get("Content-Security-Policy")
    if csp is None:
        from .security import CSP

        csp = CSP
    # The captured photo is shown from a blob: URL; Telegram Web may frame the page.
    response.headers["Content-Security-Policy"] = csp.replace(
        "img-src 'self'", "img-src 'self' blob:").replace(
        "frame-ancestors 'none'", f"frame-ancestors {FRAMED_BY}") + "; media-src 'self' blob:"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/m/sw.js")
def capture_worker():
    """The service worker (scope /m/): the page and its files, from the cache when offline."""
    files = [url_for("pages.capture"), assets.asset_url("css/site.css"),
             assets.asset_url("js/capture.js"), assets.asset_url("favicon.svg"),
             assets.asset_url("js/site.js"), _vendor_url("tus")]
    body = render_template("capture_sw.js", files=files,
                           version=hashlib.sha256("".join(files).encode()).hexdigest()[:12])
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/m/"
    return response


def _vendor_url(key: str) -> str:
    from . import vendoring

    entry = vendoring.manifest()[key]
    return url_for("static", filename=f"vendor/{entry['file']}", v=entry["version"])


@api.post("/capture-link")
def link():
    """A one-time upload link for one captured item: init data (verified) and a case number."""
    body = request.get_json(silent=True) or {}
    settings = container().settings
    user = verify_init_data(str(body.get("init_data") or ""), settings.telegram_token)
    with container().uow() as uow:
        found = capture_links.capture_link(uow, user["id"], str(body.get("case") or ""),
                                           base_url=request.host_url)
    response = jsonify({k: found[k] for k in ("token", "case_number", "case_title",
                                              "expires_at", "method")})
    response.headers["Cache-Control"] = "no-store"
    return response


OPENAPI_PATHS = {
    "/api/v1/miniapp/capture-link": {"post": {
        "summary": "A one-time upload link for one item taken in the capture page inside "
                   "Telegram: Mini App init data (checked with the bot token's HMAC, at most a "
                   "day old) and the case number",
        "security": [],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["init_data", "case"], "properties": {
                "init_data": {"type": "string"}, "case": {"type": "string"}}}}}},
        "responses": {
            "200": {"description": "the link", "content": {"application/json": {"schema": {
                "type": "object", "properties": {
                    "token": {"type": "string"}, "case_number": {"type": "string"},
                    "case_title": {"type": "string"}, "method": {"type": "string"},
                    "expires_at": {"type": "string", "format": "date-time"}}}}}},
            "401": {"description": "init data missing, not signed with the bot token, or old"},
            "403": {"description": "the Telegram account is bound to no officer"},
            "404": {"description": "no such case for this officer"}}}},
    "/m/capture": {"get": {
        "summary": "HTML page inside Telegram (a Mini App) that takes photos with their time "
                   "and place and uploads them, also after a time without signal",
        "security": [], "responses": {"200": {"description": "page",
                                              "content": {"text/html": {}}}}}},
    "/m/sw.js": {"get": {
        "summary": "The capture page's service worker (its files, for opening offline)",
        "security": [], "responses": {"200": {"description": "script",
                                              "content": {"text/javascript": {}}}}}},
}
