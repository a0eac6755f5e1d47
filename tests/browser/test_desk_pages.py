"""The supervisor's desk, the sign-in and the complainant's page in a real browser (issue 14):
a supervisor signs in with a one-time link, sees an overdue deadline appear live when the sweep
marks it, approves one filing form and returns another with a reason (the database shows both);
a complainant checks the status with the right code and is refused with a wrong one, with
JavaScript off; a form posted from another origin is refused; each page is photographed at
390×844 and 1440×900."""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the playwright_driver fixture skips (or fails under CI), saying why
    expect = None
from sqlalchemy import select

from core.cases.models import Approval
from core.deadlines.reminders import claim_due_reminders, expand_reminders
from core.kernel.clock import utcnow
from core.notices.models import OutboxMessage
from notifications.live import SocketIOChannel, server_emitter
from notifications.outbox import deliver
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, screenshots
from tests.helpers import filing_form, open_case
from tests.pages.support import complaint_ticket, link_for


def sweep_and_deliver(container) -> int:
    """What the worker does each minute: claim the due reminders, expand them into outbox
    messages, and deliver the Socket.IO ones through the app's own server; how many went."""
    from api import socketio

    with container.uow() as uow:
        ids = claim_due_reminders(uow.session, utcnow(), 500)
        expand_reminders(uow.session, ids)
    with container.uow() as uow:
        pending = list(uow.session.execute(select(OutboxMessage.id).where(
            OutboxMessage.channel == "socketio", OutboxMessage.status == "pending")).scalars())
    channels = {"socketio": SocketIOChannel(server_emitter(socketio))}
    return sum(deliver(container, i, channels).status == "sent" for i in pending)


@pytest.fixture
def quick_pings():
    """A pending long-poll ends at the next ping: 1 s keeps the server's shutdown quick."""
    from api import socketio

    before = socketio.server.eio.ping_interval
    socketio.server.eio.ping_interval = 1
    yield
    socketio.server.eio.ping_interval = before


def test_supervisor_signs_in_sees_overdue_live_approves_and_returns(
        browser, live_server, container, people, client, artifacts, quick_pings):
    """Issue 14: sign-in by one-time link; Live shows the department's overdue deadline
    when the sweep marks it, without a reload, with the connection state visible; Approvals
    approves one 立案审批表 and returns another with its reason (A10.1), through the same core
    service as the bot and the API; the database shows both."""
    first = open_case(client, people["officer"])
    second = open_case(client, people["officer"], title="无证排污 检查")
    a = filing_form(client, people["officer"], first["id"])
    b = filing_form(client, people["officer"], second["id"])
    complaint = open_case(client, people["officer"], initiation="complaint", title="噪音投诉")
    complaint_ticket(container, people["officer"]["id"], complaint["id"])  # overdue at once

    page = browser.new_page()
    link = link_for(container, people["supervisor"]["id"])
    assert link.startswith("http://127.0.0.1:")
    page.goto(f"{live_server.url}/signin#{link.split('#', 1)[1]}")
    page.wait_for_url(f"{live_server.url}/desk")
    expect(page.locator("h1")).to_contain_text("今日")
    expect(page.locator("#due-table")).to_contain_text(complaint["number"])
    assert all("qw_" not in line for line in live_server.log.lines)  # the token: never sent
    screenshots(page, artifacts, "desk-today")

    page.get_by_role("link", name="实时").click()
    conn = page.locator("#conn")
    expect(conn).to_have_attribute("data-state", "connected")
    expect(conn).to_have_text("已连接")
    assert page.locator("#feed li").count() == 0
    assert sweep_and_deliver(container) > 0
    overdue = page.locator('#feed li[data-type="deadline.overdue"]').first
    expect(overdue).to_contain_text(complaint["number"])
    expect(overdue).to_contain_text("期限已超期")
    screenshots(page, artifacts, "desk-live")

    page.get_by_role("link", name="待审批").click()
    card_b = page.locator(f"#approval-{b['id']}")
    screenshots(page, artifacts, "desk-approvals")
    card_b.get_by_label("审批意见").fill("违法事实不清，请补充现场检查笔录")
    card_b.get_by_role("button", name="退回").click()
    expect(page.locator("#done-note")).to_have_text("已退回")
    page.locator(f"#approval-{a['id']}").get_by_role("button", name="同意").click()
    expect(page.locator("#done-note")).to_have_text("已同意")
    expect(page.locator(f"#approval-{a['id']}")).to_have_count(0)
    with container.uow() as uow:
        taken = {(x.record_id, x.decision, x.opinion) for x in uow.session.execute(
            select(Approval).where(Approval.officer_id == people["supervisor"]["id"])).scalars()}
    assert taken == {(a["id"], "approve", "同意"),
                     (b["id"], "return", "违法事实不清，请补充现场检查笔录")}

    page.get_by_role("link", name="案件").click()
    page.get_by_label("当事人").fill("岳阳某建设")
    page.get_by_role("button", name="查找").click()
    screenshots(page, artifacts, "desk-cases")
    page.get_by_role("link", name=first["number"]).click()
    expect(page.locator("#timeline")).to_contain_text("立案审批表")
    expect(page.locator("#proof-status")).to_contain_text("条记录")
    screenshots(page, artifacts, "desk-case")

    page.get_by_role("button", name="退出登录").click()
    expect(page.locator(".notice-success")).to_contain_text("已退出登录")
    screenshots(page, artifacts, "signin")
    page.goto(f"{live_server.url}/desk")
    assert "/signin?next=" in page.url  # the ended session opens nothing


def test_form_posted_from_another_origin_is_refused(browser, live_server, container, people,
                                                    client, artifacts):
    """CSRF: a signed-in supervisor visits a page of another origin whose form posts an
    approval to the desk; the desk refuses it (403) and nothing is recorded."""
    case = open_case(client, people["officer"])
    record = filing_form(client, people["officer"], case["id"])
    page = browser.new_page()
    token = link_for(container, people["supervisor"]["id"]).split("#", 1)[1]
    page.goto(f"{live_server.url}/signin#{token}")
    page.wait_for_url(f"{live_server.url}/desk")
    action = f"{live_server.url}/desk/cases/{case['id']}/records/{record['id']}/decision"
    evil = (f'<!doctype html><meta charset="utf-8"><form method="post" action="{action}">'
            '<input name="decision" value="approve"><input name="csrf_token" value="guess">'
            '<button id="go">抽奖</button></form>')
    page.route("http://evil.test/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body=evil))
    page.goto("http://evil.test/prize")
    with page.expect_response(action) as answer:
        page.locator("#go").click()
    assert answer.value.status == 403
    expect(page.locator("body")).to_contain_text("未做任何处理")
    with container.uow() as uow:
        assert uow.session.execute(select(Approval).where(
            Approval.officer_id == people["supervisor"]["id"])).first() is None


@pytest.fixture
def no_script_page(playwright_driver):
    """A page in a Chromium with JavaScript turned off (what the status page must work in)."""
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                args=CHROMIUM_ARGS)
    context = browser.new_context(java_script_enabled=False, locale="zh-CN",
                                  viewport={"width": 390, "height": 844})
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()
    browser.close()


def test_complainant_checks_status_with_right_code_and_is_refused_with_wrong(
        no_script_page, live_server, container, people, client, artifacts):
    """A11.1: with JavaScript off, the complainant types the code (never in the URL) and reads
    the status in Chinese; a wrong code is refused without any detail; English on request."""
    case = open_case(client, people["officer"], initiation="complaint")
    ticket = complaint_ticket(container, people["officer"]["id"], case["id"])
    page = no_script_page
    page.goto(f"{live_server.url}/c/{ticket['tracking_no']}")
    screenshots(page, artifacts, "complaint-form")
    page.get_by_label("查询码").fill("WRONGCODE2")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("alert")).to_have_text("受理编号或查询码不正确。")
    expect(page.locator("body")).not_to_contain_text("已登记")
    screenshots(page, artifacts, "complaint-refused")
    page.get_by_label("查询码").fill(ticket["code"])
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#status-now")).to_have_text("已登记，正在审查")
    expect(page.locator("#notices")).to_contain_text("短信")
    screenshots(page, artifacts, "complaint-status")
    assert all(ticket["code"] not in line for line in live_server.log.lines)
    page.goto(f"{live_server.url}/c/{ticket['tracking_no']}?lang=en")
    expect(page.locator("h1")).to_have_text("Complaint progress")
