"""The pages' infrastructure without a browser: strict headers, scripts only as files with SRI
hashes, the language choice, static caching, and the JSON endpoint of the upload page (the link
token in a header only, the read logged, A33.1)."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from flask import render_template_string
from sqlalchemy import select, update

from api.pages import security, vendoring
from api.pages.assets import STATIC
from core.evidence.models import UploadSession
from core.people.models import AccessLog, Officer
from tests.evidence.support import TUS
from tests.helpers import auth, open_case


class Scripts(HTMLParser):
    """The <script> elements of a page: their attributes and any inline text."""

    def __init__(self):
        super().__init__()
        self.found, self._open = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._open = {"attrs": dict(attrs), "text": ""}
            self.found.append(self._open)

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._open = None


def scripts(html: str) -> list[dict]:
    """Every <script> of ``html``."""
    parser = Scripts()
    parser.feed(html)
    return parser.found


def test_page_headers_are_strict(client):
    """The upload page: a CSP that allows scripts, styles and connections from this origin only
    (no inline code, no eval, no nonce needed), no framing, no referrer, no caching."""
    r = client.get("/u")
    assert r.status_code == 200 and r.mimetype == "text/html"
    csp = dict(part.strip().split(" ", 1) for part in
               r.headers["Content-Security-Policy"].split(";"))
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == csp["style-src"] == csp["connect-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["base-uri"] == "'none'"
    assert "unsafe" not in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Cache-Control"] == "no-store"
    assert {"Accept-Language", "Cookie"} <= set(r.vary)
    assert r.headers["Content-Security-Policy"] == security.CSP


def test_scripts_are_files_with_integrity_hashes(client):
    """No inline script runs: every executable <script> has a same-origin src and an SRI hash
    that matches the file served; data for the script travels as a JSON data block."""
    html = client.get("/u").get_data(as_text=True)
    found = scripts(html)
    executable = [s for s in found if s["attrs"].get("type") != "application/json"]
    assert len(executable) == 3  # site.js, tus-js-client, upload.js
    for s in executable:
        src, integrity = s["attrs"]["src"], s["attrs"]["integrity"]
        assert src.startswith("/static/") and not s["text"].strip()
        with client.get(src) as served:  # closes the file it streams
            body = served.get_data()
        assert integrity == "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()
    data = [s for s in found if s["attrs"].get("type") == "application/json"]
    assert len(data) == 1 and "</" not in data[0]["text"]
    assert "style=" not in html  # the CSP refuses inline styles too


def test_language_choice(client):
    """Chinese by default; English from Accept-Language; ?lang= wins and is remembered in a
    cookie that then wins over Accept-Language; an unknown ?lang= is ignored."""
    def lang_of(r):
        return r.get_data(as_text=True).split('<html lang="', 1)[1].split('"', 1)[0]

    assert lang_of(client.get("/u")) == "zh-CN"
    assert lang_of(client.get("/u", headers={"Accept-Language": "en-US,en;q=0.9"})) == "en"
    assert lang_of(client.get("/u", headers={"Accept-Language": "zh-CN,en;q=0.5"})) == "zh-CN"
    assert lang_of(client.get("/u", headers={"Accept-Language": "fr,zh-TW;q=0.8,en;q=0.5"})
                   ) == "zh-CN"
    r = client.get("/u?lang=en", headers={"Accept-Language": "zh-CN"})
    assert lang_of(r) == "en" and "Upload evidence" in r.get_data(as_text=True)
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("qc_lang=en;") and "SameSite=Lax" in cookie
    assert lang_of(client.get("/u", headers={"Accept-Language": "zh-CN"})) == "en"
    assert lang_of(client.get("/u?lang=xx")) == "en"  # ignored: the cookie still says en
    r = client.get("/u?lang=zh")
    assert lang_of(r) == "zh-CN" and 'href="/u?lang=en"' in r.get_data(as_text=True)
    r = client.get("/u?case=1&lang=zh")  # the switch keeps the page's other arguments
    assert 'href="/u?case=1&amp;lang=en"' in r.get_data(as_text=True)


def test_static_files(client):
    """Static files: nosniff, same-origin; a year's caching only for a versioned URL."""
    with client.get("/static/css/site.css?v=1") as css:
        assert css.status_code == 200 and css.headers["X-Content-Type-Options"] == "nosniff"
        assert css.headers["Cross-Origin-Resource-Policy"] == "same-origin"
        assert "immutable" in css.headers["Cache-Control"]
    with client.get("/static/css/site.css") as css:
        assert "immutable" not in css.headers.get("Cache-Control", "")
    assert client.get("/static/../api/__init__.py").status_code == 404


def test_htmx_head_is_configured_for_the_csp(app):
    """A page using htmx gets its CSP-safe settings before the library (no inline style)."""
    with app.test_request_context("/"):
        html = render_template_string("{{ htmx_head() }}")
    entry = vendoring.manifest()["htmx"]
    assert html.index('name="htmx-config"') < html.index(entry["file"])
    assert "&#34;includeIndicatorStyles&#34;: false" in html
    assert f'integrity="{entry["integrity"]}"' in html


def test_link_status_endpoint(client, container, people):
    """GET /api/v1/upload-link takes the link's token in the Upload-Token header only (401
    without it, also when it is sent as ?token=), 404 for an unknown one; it names the case,
    the expiry and the state, then the upload the link started (expired once past its time;
    the link "inactive" once its officer is); each read is logged for the link's officer
    (A33.1)."""
    case = open_case(client, people["officer"])
    link = client.post(f"/api/v1/cases/{case['id']}/upload-links",
                       headers=auth(people["officer"])).get_json()
    token = {"Upload-Token": link["token"]}
    assert client.get("/api/v1/upload-link").status_code == 401
    assert client.get(f"/api/v1/upload-link?token={link['token']}").status_code == 401
    assert client.get("/api/v1/upload-link",
                      headers={"Upload-Token": "qcu_unknown"}).status_code == 404
    r = client.get("/api/v1/upload-link", headers=token)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    info = r.get_json()
    assert info["case_number"] == case["number"] and info["state"] == "open"
    assert info["upload"] is None and info["expires_at"] == link["expires_at"]

    created = client.post("/api/v1/uploads", headers={
        **TUS, **token, "Upload-Length": "100",
        "Upload-Metadata": "filename " + base64.b64encode(b"VID_1.mp4").decode() +
                           ",proves " + base64.b64encode("现场".encode()).decode() +
                           ",method " + base64.b64encode(b"video").decode()})
    assert created.status_code == 201
    info = client.get("/api/v1/upload-link", headers=token).get_json()
    assert info["state"] == "used"
    assert info["upload"] == {"id": created.headers["Location"].rsplit("/", 1)[1],
                              "url": created.headers["Location"], "status": "receiving",
                              "offset": 0, "length": 100, "filename": "VID_1.mp4"}
    with container.uow() as uow:
        logged = uow.session.execute(select(AccessLog).where(
            AccessLog.subject_type == "upload_link")).scalars().all()
        assert len(logged) == 2
        assert {row.officer_id for row in logged} == {people["officer"]["id"]}
        uow.session.execute(update(UploadSession).values(
            expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        uow.session.get(Officer, people["officer"]["id"]).active = False
    info = client.get("/api/v1/upload-link", headers=token).get_json()
    assert info["state"] == "inactive" and info["upload"]["status"] == "expired"


def test_openapi_lists_the_page_and_its_endpoint(client):
    """The OpenAPI document describes /u and GET /api/v1/upload-link."""
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/u"] and "get" in paths["/api/v1/upload-link"]
    assert paths["/api/v1/upload-link"]["get"]["parameters"][0]["name"] == "Upload-Token"


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """The WCAG 2 contrast ratio of two #rrggbb colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_stylesheet_contrast():
    """Every text colour of site.css on each background it is used on reaches WCAG AA's 4.5:1;
    control borders reach 3:1 against white (WCAG 1.4.11)."""
    css = (STATIC / "css" / "site.css").read_text(encoding="utf-8")
    var = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", css))
    text_pairs = [("ink", "paper"), ("ink", "card"), ("muted", "card"), ("muted", "paper"),
                  ("link", "card"), ("link", "paper"), ("navy", "card"), ("navy-dark", "paper"),
                  ("ok-ink", "ok-bg"), ("warn-ink", "warn-bg"), ("bad-ink", "bad-bg"),
                  ("ink", "info-bg"), ("ink", "focus"), ("navy", "info-bg")]
    for fg, bg in text_pairs:
        assert contrast(var[fg], var[bg]) >= 4.5, (fg, bg, contrast(var[fg], var[bg]))
    assert contrast("#ffffff", var["navy"]) >= 4.5  # masthead text, primary buttons
    assert contrast("#ffffff", var["navy-dark"]) >= 4.5
    assert "border: 2px solid #6b7686" in css and contrast("#6b7686", "#ffffff") >= 3
    assert contrast(var["focus"], var["navy"]) >= 3  # the focus ring on the masthead
