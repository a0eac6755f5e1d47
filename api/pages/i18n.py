"""The language of a page: Simplified Chinese by default, English on request.

Order: ``?lang=en|zh`` (which also sets the ``qc_lang`` cookie, so the choice sticks), then that
cookie, then the browser's Accept-Language; with none of them, Chinese.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import g, request

from .texts import TEXTS

LANGS = ("zh", "en")
DEFAULT = "zh"
COOKIE = "qc_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
HTML_LANG = {"zh": "zh-CN", "en": "en"}


def requested() -> str | None:
    """The language asked for in the query string (?lang=), if it is one we have."""
    value = request.args.get("lang", "").strip().lower()
    return value if value in LANGS else None


def choose() -> str:
    """The language of this request's page (cached on ``g``)."""
    if "page_lang" not in g:
        cookie = request.cookies.get(COOKIE, "").strip().lower()
        g.page_lang = (requested() or (cookie if cookie in LANGS else None)
                       or from_browser())
    return g.page_lang


def from_browser() -> str:
    """The first of our languages in Accept-Language, by its primary tag (zh-CN, zh-Hans and
    zh-TW are all Chinese; werkzeug's best_match would prefer a lower-ranked exact "en")."""
    for value, _quality in request.accept_languages:  # highest quality first
        primary = value.split("-", 1)[0].split("_", 1)[0].lower()
        if primary in LANGS:
            return primary
    return DEFAULT


def t(key: str, **values: object) -> str:
    """The text ``key`` in this page's language, with its placeholders filled."""
    zh, en = TEXTS[key]
    text = en if choose() == "en" else zh
    return text.format(**values) if values else text


def texts(*keys: str) -> dict[str, str]:
    """Several texts, unfilled, for a page's script (placeholders stay as {name})."""
    lang = choose()
    return {key: TEXTS[key][1 if lang == "en" else 0] for key in keys}


def texts_with_prefix(prefix: str) -> dict[str, str]:
    """Every text whose key starts with ``prefix``, for a page's script."""
    return texts(*(key for key in TEXTS if key.startswith(prefix)))


def code_labels(table: Mapping[str, tuple[str, str]], prefix: str) -> dict[str, str]:
    """The words of every code of a core.kernel.texts table (CHECKS, ASSURANCE, ...) in this
    page's language, keyed ``prefix + code`` (for a page's script, beside its own texts)."""
    english = choose() == "en"
    return {prefix + code: pair[1] if english else pair[0] for code, pair in table.items()}
