"""Staff sign-in on the pages, the session cookie and CSRF protection of every form.

Cookies: ``qc_session`` holds the session secret (core.people.web_sessions keeps its hash):
HttpOnly, SameSite=Strict, Secure in production, expiring with the session. ``qc_csrf`` is a
random per-browser value for the forms of people not signed in (sign-in, the complainant's
lookup).

CSRF: every POST to a page is refused (403) when the browser says it comes from another origin
(``Origin``, ``Sec-Fetch-Site``), and unless its ``csrf_token`` field matches: for a signed-in
form, an HMAC of the session's form token; for an anonymous form, an HMAC of the ``qc_csrf``
cookie (double submit). SameSite=Strict keeps the session cookie off cross-site requests too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app, g, make_response, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import Forbidden as HTTPForbidden

from core.people import web_sessions
from core.people.models import Officer
from core.platform.uow import UnitOfWork

from ..auth import container, remote
from ..live import SESSION_COOKIE  # one name for the pages and the /live namespace
from . import bp, i18n, security

CSRF_COOKIE = "qc_csrf"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class NotSignedIn(Exception):
    """The request needs a signed-in officer and has none (or the session ended)."""


class CsrfRefused(HTTPForbidden):
    """A form post that did not come from this site's own page."""

    description = "the form did not come from this site's own page"


@dataclass(frozen=True)
class Who:
    """The signed-in officer as the templates show them."""

    name: str
    roles: tuple[str, ...]


def _mac(value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _anonymous_value() -> str:
    """This browser's qc_csrf value, made (and set on the response) when it has none."""
    if "csrf_cookie" not in g:
        value = request.cookies.get(CSRF_COOKIE, "")
        if len(value) < 32 or len(value) > 100:
            value = secrets.token_urlsafe(32)
            g.set_csrf_cookie = value
        g.csrf_cookie = value
    return g.csrf_cookie


def csrf_value() -> str:
    """The token this page's forms carry: bound to the session when signed in."""
    session_token = g.get("session_csrf")
    if session_token:
        return _mac("session:" + session_token)
    return _mac("anon:" + _anonymous_value())


def csrf_field() -> Markup:
    """The hidden form field with the CSRF token (every form on every page)."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(  # noqa: S704
        CSRF_FIELD, csrf_value())


def _same_origin() -> bool:
    """False when the browser says this request comes from another origin."""
    origin = request.headers.get("Origin")
    # Under Referrer-Policy: no-referrer browsers send "Origin: null" even for their own
    # forms; Sec-Fetch-Site and the form token decide then.
    if origin and origin != "null" and origin != request.host_url.rstrip("/"):
        return False
    fetch_site = request.headers.get("Sec-Fetch-Site")
    return not fetch_site or fetch_site in ("same-origin", "none")


@bp.before_request
def _refuse_cross_origin_posts():
    """Every page POST: refused when it comes from another origin."""
    if request.method not in SAFE_METHODS and not _same_origin():
        raise CsrfRefused()


def check_anonymous_form() -> None:
    """An anonymous form's token must match this browser's qc_csrf cookie."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.form.get(CSRF_FIELD, "")
    # bytes, not str: compare_digest refuses a str with non-ASCII characters (a 500)
    if not cookie or not hmac.compare_digest(sent.encode(), _mac("anon:" + cookie).encode()):
        raise CsrfRefused()


@contextmanager
def desk_uow() -> Iterator[tuple[UnitOfWork, Officer]]:
    """One unit of work with the signed-in officer (core.people.web_sessions.current: the
    session live and the officer active); a POST must also carry the session's form token.
    Without a live session NotSignedIn is raised after the unit of work commits, so that a
    session ended here (expired, deactivated) stays ended."""
    with container().uow() as uow:
        who = web_sessions.current(uow.session, request.cookies.get(SESSION_COOKIE))
        if who is not None:
            g.session_csrf = who.csrf_token
            g.who = Who(who.officer.name, tuple(who.officer.roles or ()))
            if request.method not in SAFE_METHODS and not hmac.compare_digest(
                    request.form.get(CSRF_FIELD, "").encode(), csrf_value().encode()):
                raise CsrfRefused()
            yield uow, who.officer
            return
    raise NotSignedIn()


def _set_cookie(response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=security.production(),
                        httponly=True, samesite="Strict")


@bp.after_request
def _csrf_cookie(response):
    """Give a browser its qc_csrf value when a page made one for it."""
    value = g.pop("set_csrf_cookie", None)
    if value:
        _set_cookie(response, CSRF_COOKIE, value, 12 * 3600)
    return response


@bp.app_errorhandler(NotSignedIn)
def _not_signed_in(_exc):
    """A page for officers without a live session: to the sign-in page (a form: 403)."""
    if request.method in SAFE_METHODS:
        return redirect(url_for("pages.signin", next=request.full_path.rstrip("?")))
    return render_template("error.html", message=i18n.t("err_signed_out")), 403


@bp.app_errorhandler(CsrfRefused)
def _csrf_refused(_exc):
    """A forged or stale form: refused, saying only that."""
    return render_template("error.html", message=i18n.t("err_csrf")), 403


def _safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of this site, else the desk."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return url_for("pages.desk_today")


@bp.get("/signin")
def signin():
    """The sign-in page: its script reads the link's token from the fragment and posts it."""
    return render_template("signin.html", next=_safe_next(request.args.get("next")),
                           signed_out=request.args.get("out") == "1")


@bp.post("/signin")
def signin_post():
    """Trade a one-time link for a session: set the cookie, go to the desk."""
    check_anonymous_form()
    try:
        with container().uow() as uow:
            new = web_sessions.redeem_link(uow.session, request.form.get("token", ""),
                                           remote=remote())
    except web_sessions.SignInLinkInvalid:
        return render_template("signin.html", next=_safe_next(request.form.get("next")),
                               error=i18n.t("signin_invalid"), signed_out=False), 400
    response = make_response(redirect(_safe_next(request.form.get("next")), code=303))
    max_age = int(web_sessions.SESSION_TTL.total_seconds())
    _set_cookie(response, SESSION_COOKIE, new.secret, max_age)
    # A fresh anonymous value too: nothing issued before the sign-in carries over.
    _set_cookie(response, CSRF_COOKIE, secrets.token_urlsafe(32), 12 * 3600)
    return response


@bp.post("/signout")
def signout():
    """End this browser's session and forget the cookie."""
    with desk_uow() as (uow, _actor):
        web_sessions.sign_out(uow.session, request.cookies.get(SESSION_COOKIE))
    response = make_response(redirect(url_for("pages.signin", out=1), code=303))
    response.delete_cookie(SESSION_COOKIE, path="/", secure=security.production(),
                           httponly=True, samesite="Strict")
    return response


def page_op(summary: str, *, session: bool, method: str = "get", form: dict | None = None,
            answers: dict | None = None) -> dict:
    """The OpenAPI entry of an HTML page: public, or behind the desk's session cookie."""
    op: dict = {"summary": summary, "security": [{"deskSession": []}] if session else [],
                "responses": answers or {"200": {"description": "page",
                                                 "content": {"text/html": {}}}}}
    if method == "post":
        op["responses"] = answers or {
            "303": {"description": "done; to the next page"},
            "403": {"description": "the form's CSRF token is missing or wrong, or it came "
                                   "from another origin"}}
        op["requestBody"] = {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": {
                "type": "object", "required": ["csrf_token", *(form or {})],
                "properties": {"csrf_token": {"type": "string"}, **(form or {})}}}}}
    return op


OPENAPI_PATHS = {
    "/signin": {
        "get": page_op("Staff sign-in page: reads the one-time link's token from the URL "
                       "fragment and posts it", session=False),
        "post": page_op("Trade a one-time sign-in link for a session cookie (HttpOnly, "
                        "SameSite=Strict, Secure in production)", session=False, method="post",
                        form={"token": {"type": "string"}, "next": {"type": "string"}},
                        answers={"303": {"description": "signed in; to the desk"},
                                 "400": {"description": "the link is unknown, used or expired"},
                                 "403": {"description": "CSRF refused"}})},
    "/signout": {"post": page_op("End this browser's desk session", session=True,
                                 method="post")},
}
