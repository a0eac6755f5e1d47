"""The supervisor's desk without a browser (issue 14 item 2): Today lists the department's
deadlines due today and overdue with days left on the legal calendar; Approvals approves and
returns through core.cases.records.approve (A10.1); Cases searches and a case page shows the
timeline, checklist, evidence verdicts, service, deadlines and ledger proof; every pane works
without JavaScript and only for a signed-in officer; reads are logged (A33.1)."""

from __future__ import annotations

from sqlalchemy import select

from core.cases.models import Approval
from core.people.models import AccessLog
from tests.deadlines.support import api_deadlines
from tests.helpers import filing_form, open_case
from tests.pages.support import complaint_ticket, csrf_of, sign_in


def test_today_lists_overdue_deadlines_by_officer_and_rule(client, container, people):
    """N21: a complaint received weeks ago is overdue; Today shows its case, officer and
    rule with the days past, in Chinese; an officer of another department sees none of it."""
    case = open_case(client, people["officer"], initiation="complaint")
    complaint_ticket(container, people["officer"]["id"], case["id"])
    sign_in(client, container, people["supervisor"]["id"])
    html = client.get("/desk").get_data(as_text=True)
    assert case["number"] in html and "张伟" in html
    rules = {d["rule_id"] for d in api_deadlines(client, people["officer"], case["id"])
             if d["overdue"]}
    assert rules and all(rule in html for rule in rules) and "已超期" in html
    assert "个工作日" in html
    assert "<script" not in html.replace('<script src="/static/js/site.js', "")


def test_cases_search_and_case_page(client, container, people):
    """Cases: search by party, officer, stage and number; the case page shows the checklist with
    what is missing, the timeline, deadlines and the ledger proof; the reads are logged."""
    case = open_case(client, people["officer"])
    other = open_case(client, people["officer2"], party={"name": "另一家公司"})
    filing_form(client, people["officer"], case["id"])
    sign_in(client, container, people["supervisor"]["id"])
    found = client.get("/desk/cases?party=岳阳某建设").get_data(as_text=True)
    assert case["number"] in found and other["number"] not in found
    by_officer = client.get("/desk/cases?officer=李娜").get_data(as_text=True)
    assert other["number"] in by_officer and case["number"] not in by_officer
    assert case["number"] in client.get(
        f"/desk/cases?number={case['number'][-4:]}&stage=initiation").get_data(as_text=True)
    assert client.get("/desk/cases?stage=nonsense").status_code == 422

    page = client.get(f"/desk/cases/{case['id']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "立案审批表" in html  # the timeline names the record
    assert "缺" in html and "A10.1" in html  # the filing still lacks the head's approval
    assert "已存证" in html or "待签名" in html
    with container.uow() as uow:
        actions = {(a.action, a.subject_type) for a in uow.session.execute(
            select(AccessLog).where(AccessLog.officer_id == people["supervisor"]["id"],
                                    AccessLog.channel == "web")).scalars()}
    assert {("search", "case"), ("read", "case"), ("read", "ledger_proof")} <= actions


def test_case_of_another_department_is_not_found(client, container, people):
    """A case the officer may not see is 404 on the desk, as in the API."""
    from tests.deadlines.support import stranger

    outsider = stranger(container)
    case = open_case(client, outsider)
    sign_in(client, container, people["supervisor"]["id"])
    assert client.get(f"/desk/cases/{case['id']}").status_code == 404


def test_a10_1_approve_and_return_from_the_desk(client, container, people):
    """A10.1: the supervisor approves one filing form and returns another with a reason, through
    the same core service as the bot and the API; the database holds both steps; a return
    without a reason is refused; a form without its CSRF token changes nothing."""
    first = open_case(client, people["officer"])
    second = open_case(client, people["officer"])
    a = filing_form(client, people["officer"], first["id"])
    b = filing_form(client, people["officer"], second["id"])
    sign_in(client, container, people["supervisor"]["id"])
    page = client.get("/desk/approvals").get_data(as_text=True)
    assert a["id"] in page and b["id"] in page
    assert "未取得施工许可擅自施工" in page  # the form's content, read before deciding
    token = csrf_of(page)
    url = "/desk/cases/{}/records/{}/decision"
    assert client.post(url.format(first["id"], a["id"]),
                       data={"decision": "approve"}).status_code == 403
    assert client.post(url.format(second["id"], b["id"]),
                       data={"decision": "return", "csrf_token": token}).status_code == 422
    r = client.post(url.format(first["id"], a["id"]),
                    data={"decision": "approve", "opinion": "", "csrf_token": token})
    assert r.status_code == 303
    r = client.post(url.format(second["id"], b["id"]), data={
        "decision": "return", "opinion": "违法事实不清", "csrf_token": token})
    assert r.status_code == 303
    with container.uow() as uow:
        steps = {(x.record_id, x.decision, x.opinion) for x in uow.session.execute(
            select(Approval).where(Approval.officer_id == people["supervisor"]["id"])).scalars()}
    assert steps == {(a["id"], "approve", "同意"), (b["id"], "return", "违法事实不清")}
    after = client.get("/desk/approvals?done=return").get_data(as_text=True)
    assert a["id"] not in after and b["id"] not in after and "已退回" in after


def test_case_page_shows_evidence_thumbnails_with_verdict_badges(client, container, people,
                                                                 tmp_path):
    """A31.1: a photo's thumbnail is on the case page (served to the signed-in officer only)
    with its assurance and a badge per check (GPS distance, capture time, editing,
    duplicate); the preview read is logged (A33.1)."""
    from core.evidence import media
    from tests.evidence.support import photo, upload

    case = open_case(client, people["officer"])
    r = upload(client, people["officer"], case["id"], photo(tmp_path).read_bytes())
    assert r.status_code == 201, r.get_json()
    evidence = r.get_json()
    assert [o.status for o in media.run_due(container.uow)] == ["done"]  # the preview
    anonymous = client.get(f"/desk/evidence/{evidence['id']}/preview")
    assert anonymous.status_code == 302
    sign_in(client, container, people["supervisor"]["id"])
    html = client.get(f"/desk/cases/{case['id']}").get_data(as_text=True)
    assert f"/desk/evidence/{evidence['id']}/preview" in html
    assert "位置 通过" in html and "拍摄时间" in html and "已核验" in html
    thumb = client.get(f"/desk/evidence/{evidence['id']}/preview")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert thumb.data[:2] == b"\xff\xd8"
    with container.uow() as uow:
        assert uow.session.execute(select(AccessLog).where(
            AccessLog.action == "preview", AccessLog.channel == "web")).first() is not None


def test_public_complaints_are_accepted_or_rejected_from_the_desk(client, container, people):
    """Issue 12, finding 5 (A11.1): the supervisor's Approvals pane lists the pending public
    complaints without an unconfirmed contact; accept opens the case through core, reject
    needs a reason; a form without its CSRF token changes nothing."""
    from core.cases.models import Case
    from core.complaints.models import ComplaintIntake
    from core.complaints.public import PublicComplaint, submit_public

    with container.uow() as uow:
        one = submit_public(uow, PublicComplaint.parse(
            {"what": "渣土车抛洒", "contact": "13800000031"}))
        two = submit_public(uow, PublicComplaint.parse(
            {"what": "推销贷款", "contact": "13800000032"}))
    with container.uow() as uow:
        ids = {i.tracking_no: i.id for i in uow.session.execute(
            select(ComplaintIntake)).scalars()}
    sign_in(client, container, people["supervisor"]["id"])
    page = client.get("/desk/approvals").get_data(as_text=True)
    assert "渣土车抛洒" in page and "推销贷款" in page and "待核查的群众投诉（2）" in page
    assert "13800000031" not in page and "未确认（不显示）" in page
    token = csrf_of(page)
    accept = f"/desk/complaint-intake/{ids[one['tracking_no']]}/accept"
    reject = f"/desk/complaint-intake/{ids[two['tracking_no']]}/reject"
    assert client.post(accept, data={}).status_code == 403  # no CSRF token
    assert client.post(reject, data={"kind": "spam", "csrf_token": token}).status_code == 422
    assert client.post(accept, data={"csrf_token": token}).status_code == 303
    assert client.post(reject, data={"kind": "spam", "reason": "广告",
                                     "csrf_token": token}).status_code == 303
    with container.uow() as uow:
        status = {i.tracking_no: i.status for i in uow.session.execute(
            select(ComplaintIntake)).scalars()}
        cases = uow.session.execute(select(Case)).scalars().all()
    assert status == {one["tracking_no"]: "accepted", two["tracking_no"]: "rejected"}
    assert len(cases) == 1 and cases[0].initiation == "complaint"
    after = client.get("/desk/approvals?done=reject").get_data(as_text=True)
    assert "已决定不予受理" in after and "待核查的群众投诉" not in after
