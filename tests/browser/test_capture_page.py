"""The capture page inside Telegram (/m/capture, a Mini App) in a real Chromium with a fake
camera and a set position (issue 16 item 10): a photo taken online is recorded as evidence
with its capture time and place; one taken without a signal waits in the page's storage and
arrives when the signal returns with its original capture time and place (A31.1); init data
whose HMAC is not the bot token's is refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

import pytest
from sqlalchemy import func, select

from core.cases.models import Evidence
from core.evidence.capture_links import CAPTURE_METHOD
from core.kernel.settings import Settings
from core.people.models import Officer
from core.people.officers import issue_bind_code, redeem_bind_code
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, screenshots
from tests.evidence.support import SITE_WGS
from tests.helpers import open_case

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
TG_USER = 4242


@pytest.fixture
def settings(db_url, tmp_path, storage) -> Settings:
    """The test settings with a bot token: Mini App init data is signed with it."""
    return Settings(database_url=db_url, instance_path=tmp_path / "instance",
                    telegram_token=TOKEN, telegram_webhook_secret="s" * 32, **storage)


def init_data(user_id: int = TG_USER, token: str = TOKEN, *, auth_date: int | None = None
              ) -> str:
    """Init data as Telegram signs it: the fields, and the hash of their sorted lines."""
    fields = {"auth_date": str(auth_date or int(time.time())), "query_id": "AAE-test",
              "user": json.dumps({"id": user_id, "first_name": "伟", "language_code": "zh"},
                                 separators=(",", ":"), ensure_ascii=False)}
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


@pytest.fixture
def bound_case(container, client, people) -> dict:
    """A case of the officer whose Telegram account (TG_USER) is bound."""
    with container.uow() as uow:
        officer = uow.session.get(Officer, people["officer"]["id"])
        redeem_bind_code(uow.session, issue_bind_code(uow.session, officer), TG_USER)
    return open_case(client, people["officer"])


@pytest.fixture
def phone(playwright_driver, tmp_path):
    """A Chromium with a fake camera, the position next to the case's site, service workers
    allowed (the page's offline copy)."""
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "phone"), executable_path=str(CHROMIUM), headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream",
              "--use-fake-ui-for-media-stream"],
        viewport={"width": 390, "height": 844}, locale="zh-CN",
        geolocation={"latitude": SITE_WGS[0], "longitude": SITE_WGS[1], "accuracy": 8},
        permissions=["geolocation", "camera"], service_workers="allow")
    context.set_default_timeout(30_000)
    yield context
    context.close()


def _evidence(container) -> list[Evidence]:
    with container.uow() as uow:
        rows = uow.session.execute(select(Evidence).order_by(Evidence.created_at)).scalars()
        return list(rows)


def _wait(page, predicate, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        page.wait_for_timeout(100)


def _open(phone, live_server, case: dict, data: str):
    page = phone.new_page()
    page.goto(f"{live_server.url}/m/capture?case={quote(case['number'])}"
              f"#tgWebAppData={quote(data)}&tgWebAppVersion=7.0")
    page.wait_for_selector("#shoot:not([disabled])")
    return page


def test_capture_online_then_offline_then_reconnect(container, live_server, bound_case, phone,
                                                    artifacts):
    """Online: the photo is evidence of the case, made by the Mini App, with the position and
    the capture time the phone read. Offline: it waits in IndexedDB (nothing reaches the
    server) and goes up when the signal returns, keeping its original capture time (A31.1)."""
    page = _open(phone, live_server, bound_case, init_data())
    before = datetime.now(UTC)
    page.click("#shoot")
    _wait(page, lambda: len(_evidence(container)) == 1, "the online capture")
    first = _evidence(container)[0]
    assert first.case_id == bound_case["id"] and first.method == CAPTURE_METHOD
    assert first.media_type == "image/jpeg"
    assert before.timestamp() - 1 <= first.captured_at.timestamp() <= time.time()
    reported = first.meta["intake"]["reported"]
    assert (round(reported["lat"], 4), round(reported["lon"], 4)) == \
        (round(SITE_WGS[0], 4), round(SITE_WGS[1], 4))
    assert reported["accuracy"] == 8
    # Its own assurance: the page read the time and place at capture (stronger than EXIF).
    assert first.assurance == "captured_in_app"
    assert first.meta["intake"]["time_source"] == "app"

    phone.set_offline(True)
    taken = datetime.now(UTC)
    page.click("#shoot")
    page.wait_for_selector("#cap-items li[data-state=waiting]")
    page.wait_for_timeout(2500)  # no signal for a while: nothing may arrive
    assert len(_evidence(container)) == 1
    screenshots(page, artifacts, "capture-offline")
    phone.set_offline(False)
    _wait(page, lambda: len(_evidence(container)) == 2, "the offline capture after reconnect")
    second = _evidence(container)[1]
    assert abs(second.captured_at.timestamp() - taken.timestamp()) < 2
    assert second.created_at.timestamp() - second.captured_at.timestamp() >= 2
    assert second.meta["intake"]["reported"]["accuracy"] == 8
    assert second.assurance == "captured_in_app"
    page.wait_for_selector("#cap-items li[data-state=uploaded]")
    screenshots(page, artifacts, "capture-uploaded")


def test_wrong_hmac_is_refused(container, live_server, bound_case, phone, client):
    """Init data not signed with this bot's token gets no link: the page says so, nothing is
    recorded; the API answers 401 for it and for stale init data, 403 for an unbound user."""
    forged = init_data(token="987654321:" + "x" * 35)
    page = _open(phone, live_server, bound_case, forged)
    page.click("#shoot")
    page.wait_for_selector("#cap-error:not([hidden])")
    assert "拒绝" in page.inner_text("#cap-error")
    assert _evidence(container) == []
    url = "/api/v1/miniapp/capture-link"
    r = client.post(url, json={"init_data": forged, "case": bound_case["number"]})
    assert r.status_code == 401
    stale = init_data(auth_date=int(time.time()) - 2 * 86400)
    assert client.post(url, json={"init_data": stale, "case": bound_case["number"]}
                       ).status_code == 401
    r = client.post(url, json={"init_data": init_data(user_id=5), "case": bound_case["number"]})
    assert r.status_code == 403
    ok = client.post(url, json={"init_data": init_data(), "case": bound_case["number"]})
    assert ok.status_code == 200 and ok.get_json()["case_number"] == bound_case["number"]
    with container.uow() as uow:
        assert uow.session.execute(select(func.count()).select_from(Evidence)).scalar_one() == 0
