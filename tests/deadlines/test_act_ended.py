"""The legal end of an act (issue 10 item 4, A32.1): the record that ends it raises act.ended
with the record, a reason code and the legal end time; the A32.1 clock opens from it once per
case."""

from __future__ import annotations

from core.cases.models import Record
from core.kernel.clock import utcnow
from core.kernel.ids import new_id
from core.platform.uow import Event
from tests.deadlines.support import at, deadlines_of
from tests.helpers import open_case


def _record(container, case_id: str, rtype: str, fields: dict, by: str, when=None) -> str:
    with container.uow() as uow:
        record = Record(id=new_id(), case_id=case_id, type=rtype, stage="service",
                        fields=fields, officers=[by], occurred_at=when or utcnow(),
                        created_by=by)
        uow.session.add(record)
        return record.id


def _ended(container, case_id: str, name: str, when, **data) -> list[Event]:
    """Raise one event; return the act.ended events it led to."""
    with container.uow() as uow:
        uow.emit(Event(name, case_id, when, data))
        return [e for e in uow.events if e.name == "act.ended"]


def test_a32_1_licence_served_or_refused_ends_the_act(client, people, container):
    """A32.1: serving a licensing decision ends the act on the service day: licence_served
    when granted, licence_refused when not; act.ended names the decision record."""
    by = people["officer"]["id"]
    case = open_case(client, people["officer"], kind="licensing", initiation="application")
    granted = _record(container, case["id"], "decision", {"licence_granted": True}, by)
    [e] = _ended(container, case["id"], "decision.served", at(2026, 9, 21, 15),
                 record_id=granted)
    assert (e.data["record_id"], e.data["reason"], e.at) == (granted, "licence_served",
                                                             at(2026, 9, 21, 15))
    other = open_case(client, people["officer"], kind="licensing", initiation="application")
    refused = _record(container, other["id"], "decision", {"licence_granted": False}, by)
    [e] = _ended(container, other["id"], "decision.served", at(2026, 9, 22), record_id=refused)
    assert e.data["reason"] == "licence_refused"


def test_a32_1_a_fine_served_is_not_the_end_but_its_payment_is(client, people, container):
    """A32.1: a penalty decision with a fine is not the end when served; the party's
    compliance (obligation.performed) is: execution_completed, and A32.1 runs 20 days from
    it (2026-09-11 → 2026-10-08, past National Day); a later end does not open a second."""
    by = people["officer"]["id"]
    case = open_case(client, people["officer"])
    decision = _record(container, case["id"], "decision",
                       {"obligation": True, "fine_amount_yuan": 5000}, by)
    assert _ended(container, case["id"], "decision.served", at(2026, 8, 20),
                  record_id=decision) == []
    compliance = _record(container, case["id"], "compliance_record",
                         {"decision_id": decision, "status": "complied"}, by)
    [e] = _ended(container, case["id"], "obligation.performed", at(2026, 9, 11, 17),
                 record_id=compliance, subject_id=decision)
    assert (e.data["reason"], e.data["record_id"]) == ("execution_completed", compliance)
    result = _record(container, case["id"], "court_result", {"concluded_on": "2026-09-12"},
                     by, when=at(2026, 9, 12))
    [e] = _ended(container, case["id"], "record.court_result.created", at(2026, 9, 12),
                 record_id=result)
    assert e.data["reason"] == "court_result"
    [row] = [d for d in deadlines_of(container, case["id"]) if d.rule_id == "A32.1"]
    assert row.trigger_event == "act.ended"
    assert row.due_at.date().isoformat() == "2026-10-08"


def test_a32_1_measure_released_and_case_not_taken_up_end_the_act(client, people, container):
    """A32.1, N13, A11.1: a coercive measure lifted (coercive_measure.released) and a
    complaint not taken up each end the act."""
    by = people["officer"]["id"]
    case = open_case(client, people["officer"], kind="coercion")
    [e] = _ended(container, case["id"], "coercive_measure.released", at(2026, 9, 30, 11))
    assert (e.data["reason"], e.at) == ("measure_released", at(2026, 9, 30, 11))
    complaint = open_case(client, people["officer"], initiation="complaint")
    rid = _record(container, complaint["id"], "complaint_decision",
                  {"decision": "not_start", "decided_at": at(2026, 9, 29, 9).isoformat()}, by)
    [e] = _ended(container, complaint["id"], "record.complaint_decision.created",
                 at(2026, 9, 29, 10), record_id=rid)
    assert (e.data["reason"], e.at) == ("not_accepted", at(2026, 9, 29, 9))
