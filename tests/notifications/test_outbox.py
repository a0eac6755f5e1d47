"""The outbox: sent only after the channel accepts, retried with backoff, then dead and
reported to an admin; leases bring back messages whose job or worker was lost."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.deadlines.models import Deadline, Reminder
from core.kernel.clock import utcnow
from core.kernel.ids import new_id
from core.notices.models import OutboxMessage
from core.people.models import Department
from core.people.officers import add_officer, ensure_department, issue_token
from notifications.base import DeliveryError
from notifications.config import NotifyConfig
from notifications.outbox import deliver, due_outbox
from tests.helpers import auth, open_case

CONFIG = NotifyConfig(max_attempts=3, backoff_base_seconds=30, lease_seconds=60)


class Recorder:
    """A channel that accepts (or raises what it is told to) and remembers what it saw."""

    name = "webhook"

    def __init__(self, error: Exception | None = None, during=None):
        self.sent: list[str] = []
        self.error, self.during = error, during

    def send(self, message: OutboxMessage) -> None:
        if self.during:
            self.during(message)
        if self.error:
            raise self.error
        self.sent.append(message.idempotency_key)


def add_message(container, key: str = "k1", **over) -> int:
    """One pending SMS in the outbox, due now."""
    now = utcnow()
    row = OutboxMessage(idempotency_key=key, channel="webhook", recipient="+8613800000000",
                        subject="期限提醒", body="测试", payload={}, status="pending",
                        attempts=0, next_attempt_at=now, created_at=now)
    for k, v in over.items():
        setattr(row, k, v)
    with container.uow() as uow:
        uow.session.add(row)
        uow.session.flush()
        return row.id


def row(container, outbox_id: int) -> OutboxMessage:
    """The outbox row as stored now."""
    with container.uow() as uow:
        return uow.session.get(OutboxMessage, outbox_id)


def make_due(container, outbox_id: int) -> None:
    """Move the next attempt into the past (the clock jumps forward)."""
    with container.uow() as uow:
        uow.session.execute(update(OutboxMessage).where(OutboxMessage.id == outbox_id)
                            .values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def add_admin(container, name: str = "管理员", lang: str = "zh"):
    """An admin of the demo department."""
    with container.uow() as uow:
        dept = ensure_department(uow.session, "YYZJ", "岳阳市住房和城乡建设局（演示）")
        return add_officer(uow.session, dept, name, ["admin"], lang=lang)


def test_marked_sent_only_after_the_channel_accepted(container):
    """While the channel works the row is 'sending'; 'sent' with sent_at comes after."""
    seen = []
    outbox_id = add_message(container)
    channel = Recorder(during=lambda m: seen.append(row(container, m.id).status))
    outcome = deliver(container, outbox_id, {"webhook": channel}, config=CONFIG)
    stored = row(container, outbox_id)
    assert outcome.status == "sent"
    assert seen == ["sending"]
    assert stored.status == "sent" and stored.sent_at is not None and stored.attempts == 1
    assert channel.sent == ["k1"]


def test_a_sent_message_is_not_sent_again(container):
    """A second job for the same message finds it sent and does nothing."""
    outbox_id = add_message(container)
    channel = Recorder()
    deliver(container, outbox_id, {"webhook": channel}, config=CONFIG)
    again = deliver(container, outbox_id, {"webhook": channel}, config=CONFIG)
    assert again.status == "skipped"
    assert channel.sent == ["k1"]


def test_failures_back_off_exponentially_then_die_with_an_admin_report(container, people):
    """30 s, then 120 s; the third failure is final and each admin is told in their language."""
    admin = add_admin(container)
    admin_en = add_admin(container, "Admin", lang="en")
    outbox_id = add_message(container, officer_id=people["officer"]["id"])
    failing = Recorder(DeliveryError("gateway answered 503", retryable=True))
    channels = {"webhook": failing}

    before = utcnow()
    first = deliver(container, outbox_id, channels, config=CONFIG)
    stored = row(container, outbox_id)
    assert first.status == "retry" and stored.status == "pending" and stored.attempts == 1
    assert timedelta(seconds=29) < stored.next_attempt_at - before < timedelta(seconds=32)
    assert stored.last_error == "gateway answered 503"
    # Not due yet: an early job does nothing.
    assert deliver(container, outbox_id, channels, config=CONFIG).status == "skipped"

    make_due(container, outbox_id)
    before = utcnow()
    assert deliver(container, outbox_id, channels, config=CONFIG).status == "retry"
    stored = row(container, outbox_id)
    assert timedelta(seconds=119) < stored.next_attempt_at - before < timedelta(seconds=122)

    make_due(container, outbox_id)
    last = deliver(container, outbox_id, channels, config=CONFIG)
    assert last.status == "dead" and row(container, outbox_id).status == "dead"
    reports = [row(container, i) for i in last.follow_up]
    assert {r.recipient for r in reports} == {f"officer:{admin.id}", f"officer:{admin_en.id}"}
    assert all(r.channel == "socketio" and r.payload["event"] == "delivery_failed"
               for r in reports)
    by_officer = {r.officer_id: r for r in reports}
    assert "投递失败" in by_officer[admin.id].subject
    assert "3 次尝试" in by_officer[admin.id].body and "503" in by_officer[admin.id].body
    assert "not delivered after 3 attempts" in by_officer[admin_en.id].body


def test_a_permanent_refusal_is_dead_at_once(container):
    """A refused recipient is not retried."""
    add_admin(container)
    outbox_id = add_message(container)
    outcome = deliver(container, outbox_id,
                      {"webhook": Recorder(DeliveryError("no such number", retryable=False))},
                      config=CONFIG)
    assert outcome.status == "dead" and row(container, outbox_id).attempts == 1


def test_a_dead_admin_report_does_not_report_itself(container):
    """Reports cannot loop: a report that dies is only logged."""
    add_admin(container)
    outbox_id = add_message(container, channel="socketio", payload={"kind": "admin_report"})
    failing = Recorder(DeliveryError("down", retryable=False))
    failing.name = "socketio"
    assert deliver(container, outbox_id, {"socketio": failing}, config=CONFIG).follow_up == ()


def test_a_channel_bug_is_retryable_and_its_text_redacted(container, caplog):
    """An unexpected exception keeps the message; no bot token reaches the log."""
    outbox_id = add_message(container)
    fake_token = "123456:" + "A" * 35  # built at run time so no token-shaped text is committed
    bug = Recorder(RuntimeError(f"boom at https://x/bot{fake_token}/"))
    outcome = deliver(container, outbox_id, {"webhook": bug}, config=CONFIG)
    assert outcome.status == "retry"
    assert row(container, outbox_id).last_error == "RuntimeError in the webhook channel"
    assert "AAAAAAAAAAAAAAAAAAAAAAAA" not in caplog.text and "bot***" in caplog.text


def test_a_channel_missing_on_this_worker_is_retried(container):
    """A worker started without SMTP settings does not kill e-mails: another may have them."""
    outbox_id = add_message(container, channel="email", recipient="a@example.org")
    outcome = deliver(container, outbox_id, {}, config=CONFIG)
    assert outcome.status == "retry" and "not configured" in outcome.detail


def test_due_outbox_leases_and_gives_back_what_a_lost_job_left(container):
    """A sweep queues each due message once; when its lease runs out (Redis lost the job, or
    the worker died while sending) the next sweep queues it again."""
    first, second = add_message(container, "a"), add_message(container, "b")
    add_message(container, "c", next_attempt_at=utcnow() + timedelta(hours=1))  # not yet due
    now = utcnow()
    with container.uow() as uow:
        assert due_outbox(uow.session, now, 10, lease=timedelta(seconds=60)) == [first, second]
    assert row(container, first).status == "queued"
    with container.uow() as uow:
        assert due_outbox(uow.session, now + timedelta(seconds=30), 10) == []
    with container.uow() as uow:
        assert due_outbox(uow.session, now + timedelta(seconds=61), 1) == [first]


def test_a_killed_sender_is_replaced_after_its_lease(container):
    """A worker that died mid-send holds a lease; others wait it out, then one sends."""
    outbox_id = add_message(container)
    killed = Recorder(KeyboardInterrupt())  # stands in for a process that never comes back
    with pytest.raises(KeyboardInterrupt):
        deliver(container, outbox_id, {"webhook": killed}, config=CONFIG)
    assert row(container, outbox_id).status == "sending"
    channel = Recorder()
    assert deliver(container, outbox_id, {"webhook": channel}, config=CONFIG).status == "skipped"
    with container.uow() as uow:
        assert due_outbox(uow.session, utcnow() + timedelta(seconds=61), 10) == [outbox_id]
    assert deliver(container, outbox_id, {"webhook": channel}, config=CONFIG).status == "sent"
    assert row(container, outbox_id).attempts == 2 and channel.sent == ["k1"]


def test_a_message_that_keeps_killing_workers_is_given_up(container):
    """Attempts with no outcome count: after the last one the message is dead, not resent."""
    admin = add_admin(container)
    # A message of the admin's department: reports stay in it (issue 12, finding 7).
    outbox_id = add_message(container, status="sending", attempts=3, officer_id=admin.id,
                            next_attempt_at=utcnow() - timedelta(seconds=1))
    channel = Recorder()
    outcome = deliver(container, outbox_id, {"webhook": channel}, config=CONFIG)
    assert outcome.status == "dead" and len(outcome.follow_up) == 1 and channel.sent == []
    assert "no outcome recorded after 3 attempts" in row(container, outbox_id).last_error


def test_concurrent_jobs_send_once(container):
    """Two workers with a job for the same message: one sends, the other skips."""
    outbox_id = add_message(container)
    slow = Recorder(during=lambda m: time.sleep(0.3))
    outcomes = []
    threads = [threading.Thread(target=lambda: outcomes.append(
        deliver(container, outbox_id, {"webhook": slow}, config=CONFIG).status))
        for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["sent", "skipped"] and slow.sent == ["k1"]


def test_a_reminder_of_a_met_deadline_is_cancelled_not_sent(client, container, people):
    """The deadline was met between expansion and delivery: nothing nags."""
    case = open_case(client, people["officer"])
    now = utcnow()
    with container.uow() as uow:
        deadline = Deadline(id=new_id(), case_id=case["id"], rule_id="A17.2",
                            legal_source="test", trigger_event="test", trigger_at=now,
                            due_at=now, period=1, unit="working_days", status="closed",
                            warnings=[], created_at=now)
        uow.session.add(deadline)
        uow.session.flush()
        reminder = Reminder(id=new_id(), deadline_id=deadline.id, recipient_role="officer",
                            step="due", send_at=now, status="done", created_at=now)
        uow.session.add(reminder)
        uow.session.flush()
        reminder_id = reminder.id
    outbox_id = add_message(container, reminder_id=reminder_id)
    channel = Recorder()
    outcome = deliver(container, outbox_id, {"webhook": channel}, config=CONFIG)
    assert outcome.status == "skipped" and row(container, outbox_id).status == "cancelled"
    assert channel.sent == []


def test_deliveries_api_lists_dead_messages_to_admins_and_supervisors(client, container,
                                                                      people):
    """GET /api/v1/deliveries?status=dead for admin and supervisor of the department; an
    admin may give a dead message a fresh start."""
    dead = add_message(container, officer_id=people["officer"]["id"], status="dead",
                       attempts=6, last_error="gateway answered 503")
    add_message(container, "other", status="sent")
    r = client.get("/api/v1/deliveries?status=dead", headers=auth(people["supervisor"]))
    assert r.status_code == 200
    body = r.get_json()
    assert [d["id"] for d in body["deliveries"]] == [dead]
    assert body["deliveries"][0]["last_error"] == "gateway answered 503"
    assert client.get("/api/v1/deliveries", headers=auth(people["officer"])).status_code == 403
    assert client.get("/api/v1/deliveries?status=lost",
                      headers=auth(people["supervisor"])).status_code == 422
    assert client.get("/api/v1/deliveries").status_code == 401

    assert client.post(f"/api/v1/deliveries/{dead}/retry",
                       headers=auth(people["supervisor"])).status_code == 403
    with container.uow() as uow:
        department = uow.session.get(Department, people["department"]["id"])
        token = issue_token(uow.session, add_officer(uow.session, department, "管理员", ["admin"]))
    revived = client.post(f"/api/v1/deliveries/{dead}/retry",
                          headers={"Authorization": f"Bearer {token}"})
    assert revived.status_code == 200 and revived.get_json()["status"] == "pending"
    assert row(container, dead).attempts == 0
    again = client.post(f"/api/v1/deliveries/{dead}/retry",
                        headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 409
    with container.uow() as uow:
        assert uow.session.execute(select(OutboxMessage.status)
                                   .where(OutboxMessage.id == dead)).scalar() == "pending"


def test_dead_delivery_reports_stay_in_their_department(container, people):
    """Issue 12, finding 7: a department without an admin tells its own supervisors, never
    another department's admin; the report carries no address and no subject."""
    with container.uow() as uow:
        other = ensure_department(uow.session, "QTJ", "另一局")
        foreign_admin = add_officer(uow.session, other, "外局管理员", ["admin"])
        foreign_id = foreign_admin.id
    outbox_id = add_message(container, officer_id=people["officer"]["id"],
                            subject="投诉 13912345678 的回复")
    dead = deliver(container, outbox_id, {"webhook": Recorder(DeliveryError(
        "+8613800000000 is not reachable", retryable=False))}, config=CONFIG)
    reports = [row(container, i) for i in dead.follow_up]
    assert reports and foreign_id not in {r.officer_id for r in reports}
    assert {r.officer_id for r in reports} == {people["supervisor"]["id"], people["head"]["id"]}
    for r in reports:
        assert "13800000000" not in r.body and "13912345678" not in r.body
        assert "13800000000" not in str(r.payload)


def test_a_dead_complaint_confirmation_is_reported_in_its_department(container, people):
    """Issue 12, findings 5 and 7: a public complaint's confirmation code (no case, no
    officer) that cannot be delivered is reported to its own department, without the
    address."""
    from sqlalchemy import select

    from core.complaints.public import PublicComplaint, submit_public
    from core.notices.models import OutboxMessage

    with container.uow() as uow:
        submit_public(uow, PublicComplaint.parse({"what": "噪音", "contact": "13800000000"}))
    with container.uow() as uow:
        outbox_id = uow.session.execute(select(OutboxMessage.id).where(
            OutboxMessage.channel == "webhook")).scalar_one()
    dead = deliver(container, outbox_id, {"webhook": Recorder(DeliveryError(
        "+8613800000000 is not reachable", retryable=False))}, config=CONFIG)
    reports = [row(container, i) for i in dead.follow_up]
    assert {r.officer_id for r in reports} == {people["supervisor"]["id"], people["head"]["id"]}
    assert all("13800000000" not in r.body + str(r.payload) for r in reports)
