"""Complainants (A11.1, N21, N24): tracking number and code on intake, notices queued and
recorded on the case, and the status lookup that needs no account."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.cases import records
from core.cases.commands import AddRecord
from core.cases.models import Record
from core.complaints.models import ComplaintTicket
from core.complaints.tickets import (
    complaint_status,
    record_notice_delivered,
    route_contact,
)
from core.kernel.errors import NotFound
from core.notices.models import OutboxMessage
from core.people.models import AccessLog, Officer
from tests.deadlines.support import stranger
from tests.helpers import auth, open_case

INTAKE = {"complainant_name": "王五", "complainant_contact": "wang.wu@example.com",
          "channel": "online", "received_at": "2026-09-30T10:00:00+08:00",
          "content": "工地夜间施工噪音扰民"}


def _register(container, people, case_id: str, **fields) -> dict:
    """Record an intake through the core service; return the ticket issued in that unit."""
    with container.uow() as uow:
        actor = uow.session.get(Officer, people["officer"]["id"])
        return records.add_record(uow, actor, case_id, AddRecord.parse(
            {"type": "complaint_intake", "fields": {**INTAKE, **fields}})).complaint_ticket


def _outbox(container, case_id: str) -> list[OutboxMessage]:
    with container.uow() as uow:
        return list(uow.session.execute(select(OutboxMessage).where(
            OutboxMessage.case_id == case_id).order_by(OutboxMessage.id)).scalars())


def _notices(container, case_id: str) -> list[Record]:
    with container.uow() as uow:
        return list(uow.session.execute(select(Record).where(
            Record.case_id == case_id, Record.type == "complainant_notice")
            .order_by(Record.created_at)).scalars())


def _decide(client, people, case_id: str, decision: str) -> None:
    r = client.post(f"/api/v1/cases/{case_id}/records", headers=auth(people["officer"]),
                    json={"type": "complaint_decision", "fields": {
                        "decision": decision, "reason": "不属于本机关职责" if decision ==
                        "not_start" else "经核实属实", "decided_at": "2026-10-12T10:00:00+08:00"}})
    assert r.status_code == 201, r.get_json()


def test_a11_1_intake_issues_ticket_and_queues_the_notice_recorded_on_the_case(
        client, people, container):
    """A11.1/N21: an intake gets a tracking number and a code shown once (stored hashed); the
    notice with both is queued by e-mail and recorded on the case with the code masked."""
    case = open_case(client, people["officer"], initiation="complaint")
    ticket = _register(container, people, case["id"])
    assert ticket["tracking_no"].startswith("TS") and len(ticket["code"]) == 10
    with container.uow() as uow:
        row = uow.session.execute(select(ComplaintTicket)).scalar_one()
    assert row.case_id == case["id"] and row.email == "wang.wu@example.com"
    assert ticket["code"] not in row.code_hash and len(row.code_hash) == 64
    [message] = _outbox(container, case["id"])
    assert (message.channel, message.recipient) == ("email", "wang.wu@example.com")
    assert ticket["tracking_no"] in message.body and ticket["code"] in message.body
    assert message.idempotency_key.startswith(f"complaint:{row.id}:intake:")
    [notice] = _notices(container, case["id"])
    assert notice.fields["channel"] == "email"
    assert notice.fields["recipient"] == "wang.wu@example.com"
    assert ticket["tracking_no"] in notice.fields["content"]
    assert ticket["code"] not in notice.fields["content"]  # the code is never kept in clear
    assert "sent_at" not in notice.fields
    assert message.payload["notice_record_id"] == notice.id


def test_a11_1_contact_picks_the_channel():
    """A11.1: e-mail → email, phone → SMS webhook, tg:<id> or a Telegram intake → telegram."""
    assert route_contact("a@b.cn") == ("email", "a@b.cn")
    assert route_contact("138 0730 1234") == ("webhook", "13807301234")
    assert route_contact("+86-138-0730-1234") == ("webhook", "+8613807301234")
    assert route_contact("tg:123456789") == ("telegram", "123456789")
    assert route_contact("123456789", intake_channel="telegram") == ("telegram", "123456789")
    assert route_contact("x", telegram_chat_id=42) == ("telegram", "42")
    assert route_contact("匿名") is None and route_contact("") is None


def test_a11_1_status_lookup_needs_number_and_code_and_says_404_alike(
        client, people, container):
    """A11.1: with the tracking number and code, anyone sees the status without an account;
    an unknown number and a wrong code give the same 404; the lookup is logged."""
    case = open_case(client, people["officer"], initiation="complaint")
    ticket = _register(container, people, case["id"], complainant_contact="13807301234")
    url = f"/api/v1/complaints/{ticket['tracking_no']}"
    ok = client.get(f"{url}?code={ticket['code'].lower()}")
    assert ok.status_code == 200
    body = ok.get_json()
    assert body["status"] == "received" and body["status_zh"] == "已登记，待审查"
    assert body["received_at"] == "2026-09-30T10:00:00+08:00"
    assert body["decision"] is None and body["case_number"] is None
    assert [n["channel"] for n in body["notices"]] == ["sms"]
    assert ok.headers["Cache-Control"] == "no-store"
    wrong = client.get(f"{url}?code=AAAAAAAAAA")
    unknown = client.get(f"/api/v1/complaints/TS20260930ZZZZZZ?code={ticket['code']}")
    missing = client.get(url)
    assert wrong.status_code == unknown.status_code == missing.status_code == 404
    assert wrong.get_json() == unknown.get_json() == missing.get_json()
    with container.uow() as uow:
        logged = uow.session.execute(select(AccessLog).where(
            AccessLog.action == "status", AccessLog.channel == "public")).scalars().all()
    assert len(logged) == 1 and logged[0].officer_id is None


def test_a11_1_n21_decision_and_result_notices(client, people, container):
    """A11.1/N21: deciding not to start queues the decision notice (closing N21), closing the
    case queues the result notice; the status lookup follows."""
    case = open_case(client, people["officer"], initiation="complaint")
    ticket = _register(container, people, case["id"], complainant_contact="tg:5550001")
    _decide(client, people, case["id"], "not_start")
    r = client.post(f"/api/v1/cases/{case['id']}/transitions", json={"to": "closed"},
                    headers=auth(people["officer"]))
    assert r.status_code == 200, r.get_json()
    messages = _outbox(container, case["id"])
    assert [(m.channel, m.recipient, m.payload["purpose"]) for m in messages] == [
        ("telegram", "5550001", "intake"), ("telegram", "5550001", "decision"),
        ("telegram", "5550001", "result")]
    assert "决定不予立案" in messages[1].body and "不属于本机关职责" in messages[1].body
    assert "已办结" in messages[2].body
    notices = _notices(container, case["id"])
    assert len(notices) == 3 and notices[-1].stage == "closed"
    status = complaint_status_via_core(container, ticket)
    assert status["status"] == "closed"
    assert status["decision"]["decision"] == "not_start"
    assert status["decision"]["reason"] == "不属于本机关职责"
    assert len(status["notices"]) == 3


def complaint_status_via_core(container, ticket: dict) -> dict:
    """The status through the core service."""
    with container.uow() as uow:
        return complaint_status(uow.session, ticket["tracking_no"], ticket["code"])


def test_a11_1_delivered_notice_is_recorded_with_sent_at_once(client, people, container):
    """A11.1: when the channel accepted a notice, a correcting notice record with sent_at
    proves the complainant was told; recording it twice adds nothing."""
    case = open_case(client, people["officer"], initiation="complaint")
    _register(container, people, case["id"])
    [message] = _outbox(container, case["id"])
    sent = datetime(2026, 9, 30, 3, 5, tzinfo=UTC)
    with container.uow() as uow:
        first = record_notice_delivered(uow, message.id, sent)
    with container.uow() as uow:
        again = record_notice_delivered(uow, message.id, sent)
    assert first.id == again.id
    original, delivered = _notices(container, case["id"])
    assert delivered.corrects_id == original.id
    assert delivered.fields["sent_at"] == sent.isoformat()
    with container.uow() as uow, pytest.raises(NotFound):
        record_notice_delivered(uow, 999999)


def test_a11_1_code_can_be_reissued_by_the_department_only(client, people, container):
    """A11.1: an officer of the case's department issues a new code (the old one stops
    working); another department gets 404."""
    case = open_case(client, people["officer"], initiation="complaint")
    ticket = _register(container, people, case["id"], complainant_contact="当面告知")
    assert _outbox(container, case["id"]) == []  # no usable contact: nothing is sent
    url = f"/api/v1/cases/{case['id']}/complaint-ticket/code"
    assert client.post(url, headers=auth(stranger(container))).status_code == 404
    r = client.post(url, headers=auth(people["officer"]))
    assert r.status_code == 201
    fresh = r.get_json()
    assert fresh["tracking_no"] == ticket["tracking_no"] and fresh["code"] != ticket["code"]
    with container.uow() as uow:
        with pytest.raises(NotFound):
            complaint_status(uow.session, ticket["tracking_no"], ticket["code"])
        assert complaint_status(uow.session, fresh["tracking_no"], fresh["code"])["status"] \
            == "received"
    other = open_case(client, people["officer"])
    assert client.post(f"/api/v1/cases/{other['id']}/complaint-ticket/code",
                       headers=auth(people["officer"])).status_code == 404


def test_a11_1_started_case_shows_its_number(client, people, container):
    """A11.1/N24: after the decision to start, the lookup shows the case number."""
    case = open_case(client, people["officer"], initiation="complaint")
    ticket = _register(container, people, case["id"])
    _decide(client, people, case["id"], "start")
    status = complaint_status_via_core(container, ticket)
    assert status["status"] == "started" and status["case_number"] == case["number"]
    assert status["decision"]["reason"] is None  # reasons are told only for not starting
