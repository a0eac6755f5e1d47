"""The headers that keep the pages to themselves: a strict Content-Security-Policy (scripts,
styles, images and connections only from this origin; no inline code, no eval, no framing),
no referrer, no MIME sniffing; long caching only for static files named by content hash."""

from __future__ import annotations

from flask import current_app, request
from werkzeug.wrappers import Response

CSP = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",  # tus PATCHes, JSON and, for the desk, Socket.IO (ws: of this host)
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "manifest-src 'self'",
))

PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    # The upload page may use the camera, microphone and position; nothing else may.
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=(self), payment=(), "
                          "usb=(), interest-cohort=()",
}


def production() -> bool:
    """True under APP_ENV=production (cookies are then Secure)."""
    return current_app.extensions["quancheng"].settings.production


def page_headers(response: Response) -> Response:
    """Every page: the strict headers, no caching (pages show live state), vary by language."""
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Cache-Control"] = "no-store"
    response.vary.update(("Accept-Language", "Cookie"))
    return response


def static_headers(response: Response) -> Response:
    """Static files: no sniffing, same-origin only; cached for a year when the URL names the
    file's version (``?v=``, see assets), since that URL then never changes its content."""
    if request.endpoint != "static":
        return response
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if request.args.get("v") and response.status_code == 200:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
