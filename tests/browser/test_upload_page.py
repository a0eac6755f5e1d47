"""The one-time upload page (/u#<token>) in a real browser (A31.1): a 30 MB video goes up in
pieces through tus-js-client, survives the network being cut and the page being reloaded, and
ends with the intake's verdict on screen and one Evidence row; the token never travels in a
request line; the page keeps to its own origin under its Content-Security-Policy."""

from __future__ import annotations

import hashlib
import random
import time
from datetime import UTC, datetime, timedelta

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the playwright_driver fixture skips (or fails under CI), saying why
    expect = None
from sqlalchemy import func, select

from api.pages import vendoring
from api.pages.upload import CHUNK_BYTES
from core.cases.models import Evidence
from core.evidence.models import UploadLink, UploadSession
from core.kernel import texts as words
from tests.browser.conftest import screenshots
from tests.capture import media
from tests.evidence.support import SITE_WGS
from tests.helpers import auth, open_case

SIZE = 30 * 1024 * 1024


def big_video(path, size: int = SIZE):
    """A phone video of ``size`` bytes: made a minute ago, located next to the case's site."""
    filler = random.Random(14).randbytes(size - 2048)
    data = media.movie_bytes(
        created=datetime.now(UTC) - timedelta(minutes=1), duration_s=95.0,
        udta=[media.xyz(f"{SITE_WGS[0]:+.4f}{SITE_WGS[1]:+.4f}/"),
              media.qt_text(b"\xa9mak", "HUAWEI"), media.qt_text(b"\xa9mod", "Mate 60")],
        mdat=filler)
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest(), len(data)


@pytest.fixture
def link(client, people) -> dict:
    """A case and a one-time upload link for it, issued through the API."""
    case = open_case(client, people["officer"])
    r = client.post(f"/api/v1/cases/{case['id']}/upload-links", headers=auth(people["officer"]))
    assert r.status_code == 201, r.get_json()
    return {**r.get_json(), "case": case}


def wait_until(page, predicate, timeout: float = 30.0, what: str = "") -> None:
    """Let the browser run until ``predicate()`` holds (Playwright's events run meanwhile)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        page.wait_for_timeout(50)


def test_30_mb_upload_survives_a_network_cut_and_a_reload(browser, live_server, container,
                                                          link, tmp_path, artifacts):
    """A31.1: through /u#<token> a 30 MB video goes up in 4 MiB tus PATCHes; the network is cut
    during the third (the page says so and sends nothing while offline, then resumes by itself
    when the network is back); the officer pauses during the fourth and resumes; the page is
    reloaded during the seventh (it finds the unfinished upload and continues from the server's
    offset once the same file is chosen again); the verdict is shown in Chinese, the database
    holds exactly one Evidence row with the file's hash, and no request line the server saw
    carries the token."""
    token = link["token"]
    assert link["url"].endswith(f"/u#{token}")
    path, sha, size = big_video(tmp_path / "VID_20261129_101500.mp4")
    patches, held = [], []

    def on_upload_request(route, request):
        if request.method != "PATCH":
            route.continue_()
            return
        patches.append(request.headers.get("upload-offset"))
        if len(patches) == 3:  # the network goes away while this piece is on its way
            browser.set_offline(True)
            route.abort("internetdisconnected")
        elif len(patches) in (4, 7):
            held.append(route)  # never answered: paused (4), then reloaded (7) while it hangs
        else:
            route.continue_()

    browser.route("**/api/v1/uploads/*", on_upload_request)
    page = browser.new_page()
    console = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/u#{token}")
    page.get_by_text(link["case"]["number"]).wait_for()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    screenshots(page, artifacts, "1-form")

    page.get_by_label("选择文件").set_input_files(str(path))
    assert page.get_by_label("制作方法").input_value() == "video"  # from the file's type
    page.get_by_label("证明对象").fill("现场违法施工过程")
    page.get_by_role("button", name="开始上传").click()

    # The cut: the page says so, keeps the progress, and sends nothing while offline.
    status = page.locator("#status")
    expect(status).to_contain_text("网络已断开")
    sent = len(patches)
    page.wait_for_timeout(1500)
    assert len(patches) == sent == 3
    with container.uow() as uow:
        assert uow.session.execute(select(UploadSession.offset)).scalar_one() == 2 * CHUNK_BYTES
    screenshots(page, artifacts, "2-offline")

    # The network is back: the upload resumes by itself, from the server's offset.
    browser.set_offline(False)
    wait_until(page, lambda: len(held) == 1, what="the fourth PATCH")
    assert patches[3] == str(2 * CHUNK_BYTES)  # resumed where the server's bytes end

    # Pause: nothing more is sent until the officer resumes.
    page.get_by_role("button", name="暂停").click()
    expect(status).to_contain_text("已暂停")
    page.wait_for_timeout(1000)
    assert len(patches) == 4
    page.get_by_role("button", name="继续上传").click()
    wait_until(page, lambda: len(held) == 2, what="the seventh PATCH")
    assert patches[4] == str(2 * CHUNK_BYTES)  # the paused piece never arrived: sent again
    assert float(page.locator("#progress").get_attribute("value") or 0) > 40

    # A reload in the middle: the page finds the unfinished upload and continues it.
    page.reload()
    expect(status).to_contain_text("上次上传未完成")
    assert "VID_20261129_101500.mp4" in status.inner_text()
    assert page.locator("#describe").is_hidden()  # proves and method were sent already
    page.get_by_label("选择文件").set_input_files(str(path))
    page.get_by_role("button", name="继续上传").click()

    result = page.locator("#result")
    result.wait_for(state="visible", timeout=90_000)
    assert "证据已登记" in result.inner_text()
    assert result.get_by_text(words.label("check", "gps_distance"), exact=True).is_visible()
    assert result.locator(".badge").count() >= 4
    assert sha in result.inner_text()
    assert patches[7] == str(4 * CHUNK_BYTES)  # after the reload: from the server's offset
    assert len(patches) == 7 + (size - 4 * CHUNK_BYTES + CHUNK_BYTES - 1) // CHUNK_BYTES
    screenshots(page, artifacts, "3-verdict")

    with container.uow() as uow:
        rows = uow.session.execute(select(Evidence)).scalars().all()
        assert len(rows) == 1
        assert rows[0].sha256 == sha and rows[0].size == size
        assert rows[0].proves == "现场违法施工过程" and rows[0].method == "video"
        assert uow.session.execute(select(func.count(UploadSession.id))).scalar_one() == 1
        assert uow.session.execute(select(UploadLink.used_at)).scalar_one() is not None
    with container.blobs.open(sha) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == sha

    # The token never appeared in a request line; it travelled in the Upload-Token header.
    lines = live_server.log.lines
    assert lines and not [line for line in lines if token in line]
    leaks = [(line, name) for line, h in zip(lines, live_server.log.headers, strict=True)
             for name, value in h.items() if token in value and name != "HTTP_UPLOAD_TOKEN"]
    assert leaks == []  # not in a Referer, a cookie or any other header either
    tus_headers = [h for line, h in zip(lines, live_server.log.headers, strict=True)
                   if " /api/v1/upload" in line]
    assert tus_headers and all(h.get("HTTP_UPLOAD_TOKEN") == token for h in tus_headers)
    assert any(line.startswith("HEAD /api/v1/uploads/") for line in lines)  # resumed via HEAD
    # Nothing refused by the CSP, no script error: only the piece the test cut off.
    assert [m for m in console if "ERR_INTERNET_DISCONNECTED" not in m] == [], console


def test_english_page_libraries_and_csp(browser, live_server, link):
    """The page in English (?lang=en, kept in a cookie); every vendored library loads from this
    origin with its manifest's integrity hash and defines its global; a wrong hash is refused,
    and so is an inline script (the Content-Security-Policy); every control has a label."""
    page = browser.new_page()
    outside = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith(live_server.url) else None)
    page.goto(f"{live_server.url}/u?lang=en#{link['token']}")
    page.get_by_text(link["case"]["number"]).wait_for()
    assert page.locator("h1").inner_text() == "Upload evidence"
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"{live_server.url}/u#{link['token']}")  # the cookie remembers the choice
    assert page.locator("h1").inner_text() == "Upload evidence"
    page.get_by_role("link", name="切换为中文").click()
    page.get_by_text(link["case"]["number"]).wait_for()
    assert page.locator("h1").inner_text() == "上传证据"
    assert page.url.endswith(f"#{link['token']}")  # the switch kept the token

    loaded = page.evaluate("""async (entries) => {
        const load = (src, integrity) => new Promise((resolve) => {
            const s = document.createElement("script");
            s.src = src; s.integrity = integrity;
            s.onload = () => resolve(true); s.onerror = () => resolve(false);
            document.head.appendChild(s);
        });
        const out = {};
        for (const e of entries) {
            delete window[e.symbol];
            const ok = await load("/static/vendor/" + e.file, e.integrity);
            const forged = await load("/static/vendor/" + e.file + "?again",
                                      "sha384-" + btoa("x".repeat(48)));
            out[e.key] = {ok, defined: typeof window[e.symbol] !== "undefined", forged};
        }
        const inline = document.createElement("script");
        inline.textContent = "window.inlineRan = true;";
        document.head.appendChild(inline);
        out.inline = window.inlineRan === true;
        return out;
    }""", list(vendoring.manifest().values()))
    for key in vendoring.manifest():
        assert loaded[key] == {"ok": True, "defined": True, "forged": False}, (key, loaded)
    assert loaded["inline"] is False
    assert outside == []

    unlabeled = page.evaluate("""() => [...document.querySelectorAll(
        "input, select, textarea, button")].filter((c) => !(c.labels && c.labels.length)
        && !c.getAttribute("aria-label") && !c.textContent.trim()).map((c) => c.id)""")
    assert unlabeled == []
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert page.url.endswith(f"#{link['token']}")  # the skip link kept the token


def test_link_states_and_a_refused_file(browser, live_server, client, container, people, link,
                                        tmp_path):
    """No token, an unknown token and an expired link each get a plain Chinese message; a file
    of a type the intake refuses (A4.1) is refused with the reason in Chinese, and no Evidence
    row is written."""
    page = browser.new_page()
    page.goto(f"{live_server.url}/u")
    page.get_by_text("链接不完整").wait_for()
    page.goto(f"{live_server.url}/u#qcu_{'x' * 43}")
    page.get_by_text("此链接无效").wait_for()

    gif = tmp_path / "screen.gif"
    gif.write_bytes(b"GIF89a" + bytes(2000))
    page.goto(f"{live_server.url}/u#{link['token']}")
    page.get_by_label("选择文件").set_input_files(str(gif))
    page.get_by_label("证明对象").fill("现场情况")
    page.get_by_role("button", name="开始上传").click()
    expect(page.locator("#result")).to_contain_text("文件未被接受")
    assert "不接受此类文件" in page.locator("#result").inner_text()
    page.reload()  # the link is used now: the page shows the same refusal, not the form
    expect(page.locator("#result")).to_contain_text("文件未被接受")
    assert page.locator("#upload-form").is_hidden()
    with container.uow() as uow:
        assert uow.session.execute(select(Evidence)).first() is None

    late = client.post(f"/api/v1/cases/{link['case']['id']}/upload-links",
                       headers=auth(people["officer"])).get_json()["token"]
    with container.uow() as uow:
        row = uow.session.execute(select(UploadLink).where(UploadLink.used_at.is_(None))
                                  ).scalar_one()
        row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    page.goto(f"{live_server.url}/u#{late}")
    page.get_by_text("此链接已过期").wait_for()
    assert page.locator("#upload-form").is_hidden()


def test_resume_from_another_browser(new_browser, live_server, container, link, tmp_path):
    """A31.1: an upload begun on one phone is finished on another that kept no record of it:
    the page learns the upload's URL from GET /api/v1/upload-link, refuses a file of another
    name, and continues from the server's offset with the right one."""
    path, sha, size = big_video(tmp_path / "VID_A.mp4", size=10 * 1024 * 1024)
    other = tmp_path / "VID_B.mp4"
    other.write_bytes(path.read_bytes())  # same size and bytes, another name
    first, held = new_browser(), []

    def hold_second(route, request):
        if request.method == "PATCH" and request.headers.get("upload-offset") != "0":
            held.append(route)  # the first phone loses its connection for good
        else:
            route.continue_()

    first.route("**/api/v1/uploads/*", hold_second)
    page = first.new_page()
    page.goto(f"{live_server.url}/u#{link['token']}")
    page.get_by_label("选择文件").set_input_files(str(path))
    page.get_by_label("证明对象").fill("现场情况")
    page.get_by_role("button", name="开始上传").click()
    wait_until(page, lambda: held, what="the second PATCH")
    page.close()

    page = new_browser().new_page()
    page.goto(f"{live_server.url}/u#{link['token']}")
    expect(page.locator("#status")).to_contain_text("上次上传未完成")
    page.get_by_label("选择文件").set_input_files(str(other))
    page.get_by_role("button", name="继续上传").click()
    expect(page.locator("#error")).to_contain_text("此链接已用于上传 VID_A.mp4")
    page.get_by_label("选择文件").set_input_files(str(path))
    page.get_by_role("button", name="继续上传").click()
    expect(page.locator("#result")).to_contain_text("证据已登记", timeout=60_000)
    with container.uow() as uow:
        rows = uow.session.execute(select(Evidence)).scalars().all()
        assert [(r.sha256, r.size) for r in rows] == [(sha, size)]
    assert any(line.startswith("HEAD /api/v1/uploads/") for line in live_server.log.lines)
