"""Reminders: the sweep's conditional claim (one claimer per reminder, also concurrently on
PostgreSQL) and the idempotent expansion into outbox messages (ARCHITECTURE.md, Reminders)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import func, select

from core.deadlines.models import Reminder
from core.deadlines.reminders import claim_due_reminders, expand_reminder, reclaim_stale_reminders
from core.kernel.clock import utcnow
from core.notices.models import OutboxMessage
from core.people.models import Officer
from tests.deadlines.support import (
    SH,
    bulk_reminders,
    deadlines_of,
    reminders_of,
    stranger,
)
from tests.helpers import auth, filing_form, now_iso, open_case


def _statuses(container, ids) -> dict[str, str]:
    with container.uow() as uow:
        rows = uow.session.execute(select(Reminder.id, Reminder.status)
                                   .where(Reminder.id.in_(ids))).all()
    return dict(rows)


def test_a31_1_claim_takes_only_due_pending_reminders_once(container):
    """A31.1: a claim takes pending reminders whose send_at has come, at most `limit`, and a
    second claim finds none of them again (pending → claimed is conditional)."""
    now = utcnow()
    due = bulk_reminders(container, 3, now - timedelta(minutes=1))
    future = bulk_reminders(container, 2, now + timedelta(hours=1))
    done = bulk_reminders(container, 2, now - timedelta(hours=1), status="done")
    with container.uow() as uow:
        first = claim_due_reminders(uow.session, now, limit=2)
    with container.uow() as uow:
        second = claim_due_reminders(uow.session, now, limit=2)
    with container.uow() as uow:
        third = claim_due_reminders(uow.session, now, limit=2)
    assert len(first) == 2 and len(second) == 1 and third == []
    assert set(first) | set(second) == set(due)
    states = _statuses(container, due + future + done)
    assert {states[i] for i in due} == {"claimed"}
    assert {states[i] for i in future} == {"pending"}
    assert {states[i] for i in done} == {"done"}


def test_a31_1_two_concurrent_claimers_never_claim_the_same_reminder(container):
    """A31.1: claimer A holds 60 claimed rows uncommitted while B claims: B gets the other 40
    (PostgreSQL: SKIP LOCKED; SQLite: B waits for A's write lock), never one of A's."""
    now = utcnow()
    ids = bulk_reminders(container, 100, now - timedelta(seconds=5))
    a_claimed, release = threading.Event(), threading.Event()
    results: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def claimer_a():
        try:
            with container.sessions() as session, session.begin():
                results["a"] = claim_due_reminders(session, now, limit=60)
                a_claimed.set()
                release.wait(5)
        except BaseException as exc:  # surfaced below: a thread cannot fail the test itself
            errors.append(exc)
            a_claimed.set()

    def claimer_b():
        try:
            a_claimed.wait(5)
            with container.sessions() as session, session.begin():
                results["b"] = claim_due_reminders(session, now, limit=100)
        except BaseException as exc:
            errors.append(exc)

    a, b = threading.Thread(target=claimer_a), threading.Thread(target=claimer_b)
    a.start()
    b.start()
    if container.engine.dialect.name == "postgresql":
        b.join(5)  # B must not wait for A: its rows are skipped, not waited on
        assert not b.is_alive()
    release.set()
    a.join(10)
    b.join(10)
    assert errors == []
    assert len(results["a"]) == 60 and len(results["b"]) == 40
    assert not set(results["a"]) & set(results["b"])
    assert set(results["a"]) | set(results["b"]) == set(ids)


def test_a31_1_racing_sweepers_claim_each_reminder_exactly_once(container):
    """A31.1: four sweepers looping small claims over 300 due reminders claim each once."""
    now = utcnow()
    ids = bulk_reminders(container, 300, now - timedelta(seconds=5))
    claimed: list[list[str]] = [[] for _ in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def sweeper(n: int):
        try:
            start.wait(5)
            while True:
                with container.sessions() as session, session.begin():
                    got = claim_due_reminders(session, now, limit=7)
                if not got:
                    return
                claimed[n].extend(got)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sweeper, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    flat = [i for c in claimed for i in c]
    assert len(flat) == len(set(flat)) == 300
    assert set(flat) == set(ids)


def test_a31_1_stale_claims_are_put_back(container):
    """A31.1: a sweeper that died after claiming loses nothing: old claims return to pending."""
    now = utcnow()
    ids = bulk_reminders(container, 2, now - timedelta(hours=1))
    with container.uow() as uow:
        assert sorted(claim_due_reminders(uow.session, now - timedelta(minutes=30))) == \
            sorted(ids)
    with container.uow() as uow:
        assert reclaim_stale_reminders(uow.session, now, timedelta(minutes=60)) == 0
        assert reclaim_stale_reminders(uow.session, now, timedelta(minutes=10)) == 2
    with container.uow() as uow:
        assert sorted(claim_due_reminders(uow.session, now)) == sorted(ids)


def _emergency_case(client, people, container) -> dict:
    """An emergency case with a second officer on its record; 张伟 has Telegram bound and 李娜
    reads English."""
    with container.uow() as uow:
        uow.session.get(Officer, people["officer"]["id"]).telegram_user_id = 777000111
        uow.session.get(Officer, people["officer2"]["id"]).lang = "en"
    case = open_case(client, people["officer"], emergency=True)
    r = client.post(f"/api/v1/cases/{case['id']}/records", headers=auth(people["officer"]), json={
        "type": "emergency_initiation", "occurred_at": now_iso(),
        "officers": [people["officer"]["id"], people["officer2"]["id"]],
        "fields": {"emergency_reason": "脚手架倒塌风险", "measures_taken": "责令停工",
                   "started_at": now_iso()}})
    assert r.status_code == 201, r.get_json()
    return case


def test_a10_2_sweep_expands_reminders_once_per_officer_step_and_channel(
        client, people, container):
    """A10.2: 20 hours after an emergency start the officer reminder falls due; it expands to
    Telegram + Socket.IO for the opening officer and Socket.IO for the officer on its record,
    in Chinese (English added for lang en), naming the case, the rule and the due time in
    Asia/Shanghai; expanding again inserts nothing."""
    case = _emergency_case(client, people, container)
    [deadline] = deadlines_of(container, case["id"])
    before = deadline.due_at - timedelta(hours=4)
    with container.uow() as uow:
        assert claim_due_reminders(uow.session, before - timedelta(seconds=1)) == []
        [claimed] = claim_due_reminders(uow.session, before + timedelta(seconds=1))
    with container.uow() as uow:
        messages = expand_reminder(uow.session, claimed)
        out = [(m.channel, m.officer_id, m.recipient, m.idempotency_key) for m in messages]
    me, other = people["officer"]["id"], people["officer2"]["id"]
    dept = people["department"]["id"]
    assert sorted(out) == sorted([
        ("telegram", me, "777000111", f"{deadline.id}:{me}:before:telegram"),
        ("socketio", me, dept, f"{deadline.id}:{me}:before:socketio"),
        ("socketio", other, dept, f"{deadline.id}:{other}:before:socketio"),
    ])
    due_text = deadline.due_at.astimezone(SH).strftime("%Y-%m-%d %H:%M")
    mine = next(m for m in messages if m.officer_id == me)
    theirs = next(m for m in messages if m.officer_id == other)
    for m in (mine, theirs):
        assert case["number"] in m.body and "A10.2" in m.body and due_text in m.body
        assert "北京时间" in m.body and m.payload["event"] == "deadline.before"
    assert "[Deadline]" not in mine.body
    assert "[Deadline]" in theirs.body and "Asia/Shanghai" in theirs.body
    with container.uow() as uow:
        again = expand_reminder(uow.session, claimed)
        assert sorted(m.id for m in again) == sorted(m.id for m in messages)
        total = uow.session.execute(select(func.count()).select_from(OutboxMessage)
                                    .where(OutboxMessage.reminder_id == claimed)).scalar()
    assert total == 3
    assert _statuses(container, [claimed]) == {claimed: "done"}


def test_a10_2_supervisor_and_head_steps_reach_only_their_department(
        client, people, container):
    """A10.2/A8.1: supervisor and head reminders go to those roles of the case's department."""
    stranger(container)  # a supervisor elsewhere must not hear of this case
    case = open_case(client, people["officer"], emergency=True)
    [deadline] = deadlines_of(container, case["id"])
    steps = {(r.recipient_role, r.step): r.id for r in reminders_of(container, deadline.id)}
    with container.uow() as uow:
        sup = expand_reminder(uow.session, steps[("supervisor", "overdue")])
        head = expand_reminder(uow.session, steps[("head", "escalate")])
        assert {m.officer_id for m in sup} == {people["supervisor"]["id"]}
        assert {m.officer_id for m in head} == {people["head"]["id"]}
        assert "已于" in sup[0].body and "逾期" in sup[0].body


def test_a10_2_met_deadline_cancels_its_reminders_and_unsent_messages(
        client, people, container):
    """A10.2: once the filing form is in, a reminder still to expand yields nothing and its
    already-expanded, unsent messages are cancelled, not sent."""
    case = open_case(client, people["officer"], emergency=True)
    [deadline] = deadlines_of(container, case["id"])
    steps = {(r.recipient_role, r.step): r.id for r in reminders_of(container, deadline.id)}
    with container.uow() as uow:
        queued = expand_reminder(uow.session, steps[("officer", "before")])
    assert queued and {m.status for m in queued} == {"pending"}
    filing_form(client, people["officer"], case["id"])
    with container.uow() as uow:
        assert expand_reminder(uow.session, steps[("supervisor", "due")]) == []
        statuses = set(uow.session.execute(select(OutboxMessage.status).where(
            OutboxMessage.reminder_id == steps[("officer", "before")])).scalars())
        far = datetime(2100, 1, 1, tzinfo=SH)
        assert claim_due_reminders(uow.session, far) == []
    assert statuses == {"cancelled"}
    states = _statuses(container, list(steps.values()))
    expanded = steps.pop(("officer", "before"))
    assert states.pop(expanded) == "done"  # it was expanded; its messages are what stop
    assert set(states.values()) == {"cancelled"}
