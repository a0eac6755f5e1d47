"""Issue 12, finding 5 (A11.1, N21, N24): public complaints wait in the intake queue until a
supervisor of the intake department accepts them (the case opens, counted from receipt) or
rejects them with a reason; notices reach only the filing chat or a confirmed address."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import select

from core.cases.models import Case, Record
from core.complaints.models import ComplaintIntake, ComplaintTicket
from core.complaints.public import PublicComplaint, submit_public
from core.deadlines.models import Deadline
from core.kernel.errors import RateLimited
from core.ledger.models import LedgerState
from core.notices.models import OutboxMessage
from core.people.models import AccessLog
from core.people.officers import add_officer, ensure_department, issue_token
from tests.helpers import auth


def _submit(container, contact: str, *, tg: int | None = None, chat: int | None = None,
            what: str = "夜间施工噪音") -> dict:
    data = {"what": what, "contact": contact, "where": "某小区",
            "channel": "telegram" if tg else "online", "telegram_user_id": tg,
            "telegram_chat_id": 9999}  # never taken from input: only the bot sets it
    with container.uow() as uow:
        return submit_public(uow, replace(PublicComplaint.parse(data), telegram_chat_id=chat))


def _item(container, tracking_no: str) -> ComplaintIntake:
    with container.uow() as uow:
        return uow.session.execute(select(ComplaintIntake).where(
            ComplaintIntake.tracking_no == tracking_no)).scalar_one()


def _to(container, recipient: str) -> list[OutboxMessage]:
    with container.uow() as uow:
        return list(uow.session.execute(select(OutboxMessage).where(
            OutboxMessage.recipient == recipient).order_by(OutboxMessage.id)).scalars())


def _confirmation_code(container, recipient: str, tracking_no: str) -> str:
    [message] = _to(container, recipient)
    return message.body.split(f"/confirm {tracking_no} ")[1].split("（")[0]


def test_spam_burst_creates_pending_items_but_no_cases(container, people):
    """A burst of complaints makes pending items only: no case, no record, no ledgered case
    entry, no notice beyond one confirmation code per address; the rate limit per Telegram
    account still stops the burst (core.platform.ratelimit "complaint")."""
    for i in range(5):
        _submit(container, f"1380000000{i}", tg=777, what=f"广告{i}")
    with pytest.raises(RateLimited):
        _submit(container, "13900000000", tg=777)
    with container.uow() as uow:
        items = uow.session.execute(select(ComplaintIntake)).scalars().all()
        assert [i.status for i in items] == ["pending"] * 5
        assert uow.session.execute(select(Case)).scalars().all() == []
        assert uow.session.execute(select(Record)).scalars().all() == []
        to_public = uow.session.execute(select(OutboxMessage).where(
            OutboxMessage.officer_id.is_(None))).scalars().all()
    assert sorted(m.recipient for m in to_public) == [f"1380000000{i}" for i in range(5)]
    assert {m.payload["event"] for m in to_public} == {"complaint.contact_confirmation"}
    alerts = _to(container, people["department"]["id"])  # the department's live room
    assert len(alerts) == 5 and all("13800" not in m.body for m in alerts)


def test_accept_opens_the_case_with_n21_counted_from_submission(client, container, people,
                                                                clock):
    """N21 (and N24 where it applies) count from receipt, not from acceptance: a complaint
    accepted three days later has its N21 deadline 15 days after submission. The other
    supervisors are told of the new case (A11.1); the one who accepted it is not."""
    from core.people.models import Department

    clock.set(datetime.fromisoformat("2026-10-12T09:00:00+08:00"))
    with container.uow() as uow:
        other_id = add_officer(uow.session, uow.session.get(
            Department, people["department"]["id"]), "周二科长", ["supervisor"]).id
    ticket = _submit(container, "tg:4401", tg=4401, chat=4401)
    assert ticket["status"] == "pending" and ticket["contact_confirmed"] is True
    item = _item(container, ticket["tracking_no"])
    clock.advance(days=3)
    listed = client.get("/api/v1/complaint-intake", headers=auth(people["supervisor"]))
    assert listed.status_code == 200
    [row] = listed.get_json()["items"]
    assert (row["id"], row["contact_kind"], row["contact_confirmed"]) == (
        item.id, "telegram", True)
    r = client.post(f"/api/v1/complaint-intake/{item.id}/accept",
                    headers=auth(people["supervisor"]))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "accepted" and body["case_number"]
    with container.uow() as uow:
        case = uow.session.get(Case, body["case_id"])
        assert case.initiation == "complaint"
        n21 = uow.session.execute(select(Deadline).where(
            Deadline.case_id == case.id, Deadline.rule_id == "N21")).scalar_one()
        assert n21.trigger_at == item.received_at
        assert n21.due_at.astimezone(uow.settings.legal_tz).date().isoformat() == "2026-10-27"
        intake_record = uow.session.execute(select(Record).where(
            Record.case_id == case.id, Record.type == "complaint_intake")).scalar_one()
        assert intake_record.fields["received_at"] == item.received_at.isoformat()
        ticket_row = uow.session.execute(select(ComplaintTicket)).scalar_one()
        assert (ticket_row.tracking_no, ticket_row.code_hash, ticket_row.telegram_chat_id) == (
            item.tracking_no, item.code_hash, 4401)
        logged = {a.action for a in uow.session.execute(select(AccessLog).where(
            AccessLog.subject_type == "complaint_intake")).scalars()}
        assert {"list", "accept"} <= logged
        told = {m.officer_id for m in uow.session.execute(select(OutboxMessage)).scalars()
                if (m.payload or {}).get("event") == "complaint.received"}
        assert other_id in told and people["supervisor"]["id"] not in told
    again = client.post(f"/api/v1/complaint-intake/{item.id}/accept",
                        headers=auth(people["supervisor"]))
    assert again.status_code == 409  # one case per complaint


def test_rejected_item_cannot_be_accepted_later(client, container, people):
    """A rejection needs a known kind and a reason, is recorded and ledgered, and is final:
    accepting it afterwards is 409 and no case opens."""
    ticket = _submit(container, "13800000077")
    item = _item(container, ticket["tracking_no"])
    url = f"/api/v1/complaint-intake/{item.id}"
    bad = client.post(f"{url}/reject", headers=auth(people["supervisor"]),
                      json={"kind": "boring", "reason": "x"})
    assert bad.status_code == 422 and "kind" in bad.get_json()["error"]["fields"]
    no_reason = client.post(f"{url}/reject", headers=auth(people["supervisor"]),
                            json={"kind": "spam"})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["error"]["fields"]
    r = client.post(f"{url}/reject", headers=auth(people["supervisor"]),
                    json={"kind": "spam", "reason": "广告信息"})
    assert r.status_code == 200 and r.get_json()["reject_kind"] == "spam"
    late = client.post(f"{url}/accept", headers=auth(people["supervisor"]))
    assert late.status_code == 409
    with container.uow() as uow:
        assert uow.session.execute(select(Case)).scalars().all() == []
        events = [s.event for s in uow.session.execute(select(LedgerState).where(
            LedgerState.table_name == "complaint_intakes").order_by(LedgerState.at)).scalars()]
    assert events[0] == "complaint_intake.received" and "complaint_intake.rejected" in events
    status = client.get(f"/api/v1/complaints/{ticket['tracking_no']}",
                        headers={"X-Complaint-Code": ticket["code"]}).get_json()
    assert status["status"] == "not_accepted"
    assert status["decision"]["reason"] == "垃圾信息：广告信息"


def test_notice_is_never_sent_to_an_unconfirmed_address(client, container, people):
    """Only the one-time code goes to a typed e-mail until it is confirmed: the accepted case
    queues no notice there and records none; once confirmed (API, bounded attempts), the
    receipt notice goes there and is recorded on the case."""
    address = "wang.wu@example.com"
    ticket = _submit(container, address)
    assert ticket["contact_confirmed"] is False
    item = _item(container, ticket["tracking_no"])
    assert client.get(f"/api/v1/complaints/{ticket['tracking_no']}", headers={
        "X-Complaint-Code": ticket["code"]}).get_json()["status"] == "pending"
    code = _confirmation_code(container, address, ticket["tracking_no"])
    r = client.post(f"/api/v1/complaint-intake/{item.id}/accept",
                    headers=auth(people["supervisor"]))
    assert r.status_code == 201
    case_id = r.get_json()["case_id"]
    assert [m.payload["event"] for m in _to(container, address)] == [
        "complaint.contact_confirmation"]
    with container.uow() as uow:
        assert uow.session.execute(select(Record).where(
            Record.case_id == case_id, Record.type == "complainant_notice")).first() is None
    url = f"/api/v1/complaints/{ticket['tracking_no']}/contact-confirmation"
    wrong = client.post(url, json={"code": "AAAAAAAA"})
    assert wrong.status_code == 404
    ok = client.post(url, json={"code": code.lower()})
    assert ok.status_code == 200 and ok.get_json()["contact_confirmed"] is True
    sent = _to(container, address)
    assert [m.payload["event"] for m in sent] == ["complaint.contact_confirmation",
                                                  "complainant.notice"]
    assert ticket["code"] not in sent[1].body
    replay = client.post(url, json={"code": code})
    assert replay.status_code == 404  # one-time


def test_confirmation_attempts_are_bounded(client, container, people):
    """Five tries an hour per tracking number; the sixth is 429 even with the right code."""
    address = "guess@example.com"
    ticket = _submit(container, address)
    code = _confirmation_code(container, address, ticket["tracking_no"])
    url = f"/api/v1/complaints/{ticket['tracking_no']}/contact-confirmation"
    for i in range(5):
        assert client.post(url, json={"code": f"WRONG{i:03d}"},
                           environ_base={"REMOTE_ADDR": f"10.1.0.{i}"}).status_code == 404
    over = client.post(url, json={"code": code}, environ_base={"REMOTE_ADDR": "10.1.0.9"})
    assert over.status_code == 429
    assert _item(container, ticket["tracking_no"]).contact_confirmed_at is None


def test_other_department_supervisor_cannot_see_or_decide(client, container, people):
    """Another department's supervisor sees none of the item and gets 404 on it; an officer
    of the intake department without the supervisor role gets 403."""
    ticket = _submit(container, "13800000088")
    item = _item(container, ticket["tracking_no"])
    with container.uow() as uow:
        dept_b = ensure_department(uow.session, "QTJ", "另一局")
        b_boss = add_officer(uow.session, dept_b, "乙主管", ["supervisor"], "B9")
        b = {"token": issue_token(uow.session, b_boss)}
    listed = client.get("/api/v1/complaint-intake", headers=auth(b))
    assert listed.status_code == 200 and listed.get_json()["items"] == []
    assert client.post(f"/api/v1/complaint-intake/{item.id}/accept",
                       headers=auth(b)).status_code == 404
    assert client.post(f"/api/v1/complaint-intake/{item.id}/reject", headers=auth(b),
                       json={"kind": "spam", "reason": "x"}).status_code == 404
    assert client.get("/api/v1/complaint-intake",
                      headers=auth(people["officer"])).status_code == 403
    assert _item(container, ticket["tracking_no"]).status == "pending"


def test_typed_telegram_chat_of_someone_else_is_refused(container, people):
    """A Telegram contact can only be the chat that files the complaint: "tg:<another chat>"
    would send notices to anyone's chat, so it is refused and nothing is kept."""
    from core.kernel.errors import Invalid

    with pytest.raises(Invalid) as refused:
        _submit(container, "tg:5555", tg=4402, chat=4402)
    assert refused.value.details["fields"] == {"contact": "unreachable"}
    with pytest.raises(Invalid):
        _submit(container, "tg:5555")  # online: no chat can be confirmed
    with pytest.raises(Invalid):
        _submit(container, "tg:9999")  # a chat id in the input confirms nothing
    with container.uow() as uow:
        assert uow.session.execute(select(ComplaintIntake)).scalars().all() == []


def test_confirmation_without_a_code_names_the_field(client, container, people):
    """Bad input is a 422 naming the field, in Chinese unless English is asked for."""
    ticket = _submit(container, "who@example.com")
    url = f"/api/v1/complaints/{ticket['tracking_no']}/contact-confirmation"
    r = client.post(url, json={})
    assert r.status_code == 422 and r.get_json()["error"]["fields"] == {"code": "required"}
    extra = client.post(url, json={"code": "ABCDEFGH", "admin": True})
    assert extra.status_code == 422 and "admin" in extra.get_json()["error"]["fields"]
