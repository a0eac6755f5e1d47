"""Server-rendered pages (HTML): Jinja templates in api/templates/, static files in
api/static/, Chinese by default with an English switch, no request to any other origin.

Every page of the ``pages`` blueprint gets the same strict headers (see ``security``): scripts and
styles only from files of this origin (no inline code, no eval), no framing, no referrer. The
templates extend ``base.html`` and use the helpers registered here: ``t`` (texts),
``asset_url``, ``script`` and ``vendor_script`` (``<script>`` tags with SRI hashes),
``htmx_head`` (htmx with its CSP-safe settings), ``lang_switch_url``.

Pages: ``/u`` (the one-time upload page, for officers on a phone), ``/m/capture`` (the capture
page inside Telegram, see ``miniapp``). The supervisor's desk
(``/desk``) and the complainant's page (``/c/<tracking number>``) are to be built on the same
base.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Flask, request

from core.metrics import compliance

from . import assets, i18n, security

bp = Blueprint("pages", __name__)


def lang_switch_url() -> str:
    """This page in the other language (``?lang=``, which also sets the cookie)."""
    other = "en" if i18n.choose() == "zh" else "zh"
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return request.path + "?" + urlencode([*args, ("lang", other)])


@bp.after_request
def _page_headers(response):
    """Strict headers on every page; a ``?lang=`` choice is remembered in a cookie."""
    security.page_headers(response)
    chosen = i18n.requested()
    if chosen:
        response.set_cookie(i18n.COOKIE, chosen, max_age=i18n.COOKIE_MAX_AGE, path="/",
                            secure=security.production(), httponly=True, samesite="Lax")
    return response


def init_app(app: Flask) -> None:
    """Register the pages, their template helpers and the headers of static files."""
    from . import complainant, desk, miniapp, upload, web_auth  # noqa: F401 - attach routes to bp

    app.register_blueprint(bp)
    app.register_blueprint(upload.api)
    app.register_blueprint(miniapp.api)
    app.jinja_env.globals.update(
        t=i18n.t, asset_url=assets.asset_url, script=assets.script,
        vendor_script=assets.vendor_script, htmx_head=assets.htmx_head,
        lang_switch_url=lang_switch_url, csrf_field=web_auth.csrf_field,
        may_read_metrics=compliance.may_read,
        page_lang=i18n.choose, html_lang=lambda: i18n.HTML_LANG[i18n.choose()])
    app.after_request(security.static_headers)
