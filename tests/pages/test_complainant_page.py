"""The complainant's status page /c/<tracking number> (A11.1, N21, issue 14 item 3): the code
typed into a form, never in the URL; the status in plain words with the dates of each notice;
a wrong code or number says only that; lookups are rate-limited; it works without JavaScript
(plain forms, no script needed)."""

from __future__ import annotations

from limits import parse
from sqlalchemy import select

from core.people.models import AccessLog
from core.platform.ratelimit import LIMITS
from tests.helpers import auth, open_case
from tests.pages.support import complaint_ticket, csrf_of


def _check(client, tracking_no: str, code: str, address: str = "127.0.0.1"):
    page = client.get(f"/c/{tracking_no}")
    assert page.status_code == 200
    return client.post(f"/c/{tracking_no}", environ_base={"REMOTE_ADDR": address}, data={
        "code": code, "csrf_token": csrf_of(page.get_data(as_text=True))})


def test_a11_1_right_code_shows_status_and_notice_dates_in_chinese(client, container, people):
    """A11.1: with the right code (any case) the page says where the complaint stands, when it
    was received and when each notice went out; the code is never in a URL."""
    case = open_case(client, people["officer"], initiation="complaint")
    ticket = complaint_ticket(container, people["officer"]["id"], case["id"])
    r = _check(client, ticket["tracking_no"], ticket["code"].lower())
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "已登记，正在审查" in html and "2026-09-30 10:00" in html
    assert "短信" in html  # the intake notice went by SMS (the contact is a phone number)
    assert ticket["code"] not in html and case["number"] not in html
    assert "<script" not in html.replace('<script src="/static/js/site.js', "")


def test_a11_1_decision_shown_with_its_reason(client, container, people):
    """N21: after the decision not to open a case, the page says so with the reason."""
    case = open_case(client, people["officer"], initiation="complaint")
    ticket = complaint_ticket(container, people["officer"]["id"], case["id"])
    r = client.post(f"/api/v1/cases/{case['id']}/records", headers=auth(people["officer"]),
                    json={"type": "complaint_decision", "fields": {
                        "decision": "not_start", "reason": "不属于本机关职责",
                        "decided_at": "2026-10-12T10:00:00+08:00"}})
    assert r.status_code == 201, r.get_json()
    html = _check(client, ticket["tracking_no"], ticket["code"]).get_data(as_text=True)
    assert "决定不予立案" in html and "不属于本机关职责" in html and "2026-10-12 10:00" in html


def test_a11_1_wrong_code_and_unknown_number_are_refused_alike(client, container, people):
    """A wrong code and an unknown number get the same answer, with no detail of the case."""
    case = open_case(client, people["officer"], initiation="complaint")
    ticket = complaint_ticket(container, people["officer"]["id"], case["id"])
    wrong = _check(client, ticket["tracking_no"], "AAAAAAAAAA")
    unknown = _check(client, "TS20260930ZZZZZZ", ticket["code"])
    assert wrong.status_code == unknown.status_code == 404
    for r in (wrong, unknown):
        html = r.get_data(as_text=True)
        assert "受理编号或查询码不正确" in html and "已登记" not in html
    with container.uow() as uow:
        assert uow.session.execute(select(AccessLog).where(
            AccessLog.action == "status", AccessLog.channel == "public")).first() is None


def test_a11_1_lookups_are_rate_limited_per_address(client, container, people):
    """After the limit of tries from one address, even the right code is refused (429, with
    Retry-After) until the window passes; the JSON lookup shares the same count."""
    case = open_case(client, people["officer"], initiation="complaint")
    ticket = complaint_ticket(container, people["officer"]["id"], case["id"])
    per_address = parse(LIMITS["complaint_lookup"]).amount
    for _ in range(per_address - 1):
        assert _check(client, ticket["tracking_no"], "AAAAAAAAAA").status_code == 404
    assert client.get(f"/api/v1/complaints/{ticket['tracking_no']}?code=AAAAAAAAAA"
                      ).status_code == 404
    refused = _check(client, ticket["tracking_no"], ticket["code"])
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "查询次数过多" in refused.get_data(as_text=True)
    api = client.get(f"/api/v1/complaints/{ticket['tracking_no']}?code={ticket['code']}")
    assert api.status_code == 429 and api.get_json()["error"]["code"] == "rate_limited"
    assert _check(client, ticket["tracking_no"], ticket["code"], "10.0.0.7").status_code == 200


def test_lookup_form_without_a_number_and_english(client, container, people):
    """/c takes the number in the form too; ?lang=en shows the page in English."""
    case = open_case(client, people["officer"], initiation="complaint")
    ticket = complaint_ticket(container, people["officer"]["id"], case["id"])
    page = client.get("/c?lang=en")
    assert "Complaint progress" in page.get_data(as_text=True)
    r = client.post("/c", data={"tracking_no": ticket["tracking_no"].lower(),
                                "code": ticket["code"],
                                "csrf_token": csrf_of(page.get_data(as_text=True))})
    assert r.status_code == 200 and "Received; being checked" in r.get_data(as_text=True)


def test_pending_and_not_accepted_public_complaint(client, container, people):
    """Issue 12, finding 5: a public complaint still in the intake queue shows "received,
    waiting to be checked"; once rejected, "not accepted" with the reason; no case number."""
    from core.complaints.models import ComplaintIntake
    from core.complaints.public import PublicComplaint, submit_public

    with container.uow() as uow:
        ticket = submit_public(uow, PublicComplaint.parse(
            {"what": "夜间施工噪音", "contact": "13800000066"}))
    html = _check(client, ticket["tracking_no"], ticket["code"]).get_data(as_text=True)
    assert "已收到，等待工作人员核查" in html and "intake-steps" in html
    assert "未予受理" not in html and "已登记，正在审查" not in html
    with container.uow() as uow:
        item_id = uow.session.execute(select(ComplaintIntake.id)).scalar_one()
    r = client.post(f"/api/v1/complaint-intake/{item_id}/reject",
                    headers=auth(people["supervisor"]),
                    json={"kind": "out_of_scope", "reason": "属于物业纠纷"})
    assert r.status_code == 200
    html = _check(client, ticket["tracking_no"], ticket["code"]).get_data(as_text=True)
    assert "经核查，未予受理" in html
    assert "未予受理，理由：不属于受理范围：属于物业纠纷" in html
