"""Items from the capture page inside Telegram (core.evidence.capture_links, A31.1): a link
asked for with verified Mini App init data makes the page's capture time and position the
item's, with its own assurance level; the same facts stated through an ordinary upload link
(anyone can state them) change nothing; an item placed far from the site fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.cases.models import Evidence
from core.evidence.capture_links import CAPTURE_METHOD
from core.kernel.settings import Settings
from core.people.models import Officer
from core.people.officers import issue_bind_code, redeem_bind_code
from tests.bot.support import plain_jpeg
from tests.browser.test_capture_page import TG_USER, TOKEN, init_data
from tests.evidence.support import SITE_WGS
from tests.evidence.test_tus import create, patch
from tests.helpers import auth, open_case


@pytest.fixture
def settings(db_url, tmp_path, storage) -> Settings:
    """Settings with a bot token (init data is signed with it)."""
    return Settings(database_url=db_url, instance_path=tmp_path / "instance",
                    telegram_token=TOKEN, telegram_webhook_secret="s" * 32, **storage)


@pytest.fixture
def case(container, client, people) -> dict:
    """A case of the officer bound to TG_USER."""
    with container.uow() as uow:
        officer = uow.session.get(Officer, people["officer"]["id"])
        redeem_bind_code(uow.session, issue_bind_code(uow.session, officer), TG_USER)
    return open_case(client, people["officer"])


def _upload(client, token: str, captured_at: datetime, lat: float, lon: float) -> Evidence:
    data = plain_jpeg()
    r = create(client, {"Upload-Token": token}, None, len(data), filename="capture.jpg",
               filetype="image/jpeg", method=CAPTURE_METHOD, proves="现场状况",
               captured_at=captured_at.isoformat(), lat=str(lat), lon=str(lon), accuracy="9")
    assert r.status_code == 201, r.get_json()
    done = patch(client, r.headers["Location"], {"Upload-Token": token}, 0, data)
    assert done.status_code == 204, done.data
    return done


def _newest(container) -> Evidence:
    with container.uow() as uow:
        return uow.session.execute(select(Evidence).order_by(Evidence.created_at.desc())
                                   ).scalars().first()


def test_capture_page_items_take_the_page_time_and_place(container, client, people, case):
    """A31.1: the time counts from the capture the page recorded (minutes before the upload),
    the position is compared with the site, and the level is captured_in_app."""
    taken = datetime.now(UTC) - timedelta(minutes=7)
    link = client.post("/api/v1/miniapp/capture-link",
                       json={"init_data": init_data(), "case": case["number"]}).get_json()
    _upload(client, link["token"], taken, *SITE_WGS)
    ev = _newest(container)
    assert ev.assurance == "captured_in_app"
    assert abs((ev.captured_at - taken).total_seconds()) < 1
    checks = {c["name"]: c for c in ev.checks}
    assert checks["capture_time"]["status"] == "pass"
    assert checks["gps_distance"]["status"] == "pass"

    far = client.post("/api/v1/miniapp/capture-link",
                      json={"init_data": init_data(), "case": case["number"]}).get_json()
    _upload(client, far["token"], taken, SITE_WGS[0] + 0.05, SITE_WGS[1])
    ev = _newest(container)
    assert ev.assurance == "failed"
    assert {c["name"]: c["status"] for c in ev.checks}["gps_distance"] == "fail"


def test_the_same_facts_through_an_ordinary_link_change_nothing(container, client, people,
                                                                  case):
    """Stating the capture page's method, time and place by hand is not a capture in it."""
    r = client.post(f"/api/v1/cases/{case['id']}/upload-links", headers=auth(people["officer"]))
    _upload(client, r.get_json()["token"], datetime.now(UTC) - timedelta(minutes=7), *SITE_WGS)
    ev = _newest(container)
    assert ev.assurance != "captured_in_app"
    assert ev.meta["intake"]["time_source"] != "app"
