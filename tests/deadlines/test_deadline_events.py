"""Deadlines opened and closed by the events of a case (RULES.md part 2), and the
GET /api/v1/cases/{id}/deadlines view."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.kernel.settings import Settings, SettingsError
from core.people.models import AccessLog
from core.platform.uow import Event
from core.rules.calendar import PACKAGE_YEARS
from core.rules.deadline_rules import rule_table
from tests.deadlines.support import (
    SH,
    api_deadlines,
    at,
    deadlines_of,
    end_of,
    reminders_of,
    stranger,
)
from tests.helpers import approve, auth, filing_form, now_iso, open_case


def _emit(container, name: str, case_id: str | None, when, **data) -> None:
    with container.uow() as uow:
        uow.emit(Event(name, case_id, when, data))


def _intake(client, user, case_id, received_at="2026-09-30T10:00:00+08:00",
            contact="wang@example.com", corrects=None) -> dict:
    body = {"type": "complaint_intake", "fields": {
        "complainant_name": "王五", "complainant_contact": contact, "channel": "online",
        "received_at": received_at, "content": "夜间施工噪音扰民"}}
    if corrects:
        body["corrects"] = corrects
    r = client.post(f"/api/v1/cases/{case_id}/records", headers=auth(user), json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a10_2_emergency_case_opens_24_clock_hours_and_filing_form_closes_it(
        client, people, container):
    """A10.2: an emergency case owes its supplementary filing record within 24 clock hours;
    the filing form closes the deadline and cancels its reminders."""
    case = open_case(client, people["officer"], emergency=True)
    [row] = api_deadlines(client, people["officer"], case["id"])
    assert row["rule_id"] == "A10.2" and row["status"] == "open"
    assert row["unit"] == "clock_hours" and row["last_day"] is None
    assert "第十条第二款" in row["legal_source"]
    from datetime import datetime
    trigger = datetime.fromisoformat(row["trigger_at"])
    assert datetime.fromisoformat(row["due_at"]) - trigger == timedelta(hours=24)
    assert row["overdue"] is False
    assert [(r["role"], r["step"]) for r in row["reminders"]] == [
        ("officer", "before"), ("officer", "due"), ("supervisor", "due"),
        ("supervisor", "overdue"), ("head", "escalate")]

    filing_form(client, people["officer"], case["id"])
    [row] = api_deadlines(client, people["officer"], case["id"])
    assert row["status"] == "closed"
    assert row["closed_by"] == "record.filing_form.created"
    assert row["late"] is False
    assert {r["status"] for r in row["reminders"]} == {"cancelled"}


def test_a10_2_due_exactly_24_hours_across_national_day(client, people, container):
    """A10.2: emergency start 2026-09-30 10:00 → due 2026-10-01 10:00 though it is a holiday."""
    case = open_case(client, people["officer"])  # not emergency: the event is raised by hand
    _emit(container, "case.emergency_opened", case["id"], at(2026, 9, 30, 10))
    [row] = deadlines_of(container, case["id"])
    assert row.due_at == at(2026, 10, 1, 10)
    assert row.trigger_at == at(2026, 9, 30, 10)
    # Raised again (a retried job): still one deadline.
    _emit(container, "case.emergency_opened", case["id"], at(2026, 9, 30, 10))
    assert len(deadlines_of(container, case["id"])) == 1


def test_n24_seven_working_days_across_national_day_from_received_at(client, people, container,
                                                                     settings):
    """N24/A11.1: where the department opts in, a complaint received 2026-09-30 must be decided
    by the end of 2026-10-15 (National Day week and weekends skipped, Saturday 10-10 worked);
    N21 and the N23 pre-filing check open too and the decision closes N24 and N23."""
    from dataclasses import replace

    container.settings = replace(settings, complaint_acceptance_departments="*")
    case = open_case(client, people["officer"], initiation="complaint")
    _intake(client, people["officer"], case["id"])
    rows = {d["rule_id"]: d for d in api_deadlines(client, people["officer"], case["id"])}
    assert set(rows) == {"N24", "N21", "N23"}
    n24 = rows["N24"]
    assert n24["last_day"] == "2026-10-15"
    assert n24["due_at"] == end_of(2026, 10, 15).isoformat()
    assert n24["trigger_at"] == at(2026, 9, 30, 10).isoformat()
    assert n24["rule_ids"] == ["N24", "A11.1"]
    assert n24["overdue"] is True  # the test clock is past October 2026
    assert any("unconfirmed figure" in w for w in n24["warnings"])
    assert rows["N21"]["last_day"] == "2026-10-15"  # 15 calendar days, a Thursday

    r = client.post(f"/api/v1/cases/{case['id']}/records", headers=auth(people["officer"]),
                    json={"type": "complaint_decision", "occurred_at": "2026-10-14T16:00:00+08:00",
                          "fields": {"decision": "start", "reason": "属实",
                                     "decided_at": "2026-10-14T16:00:00+08:00"}})
    assert r.status_code == 201, r.get_json()
    rows = {d["rule_id"]: d for d in api_deadlines(client, people["officer"], case["id"])}
    assert rows["N24"]["status"] == "closed"
    assert rows["N24"]["closed_at"] == "2026-10-14T16:00:00+08:00"
    assert rows["N24"]["late"] is False and rows["N24"]["overdue"] is False
    # N21 is closed by the receipt-and-route notice core.complaints.tickets queued at intake.
    assert rows["N21"]["status"] == "closed"
    assert rows["N21"]["closed_by"] == "complainant.notified.intake"
    assert rows["N23"]["status"] == "closed"
    assert rows["N23"]["closed_by"] == "case.filing_decided"


def test_n24_figure_overridden_from_settings(container, settings, client, people):
    """N24: DEADLINE_OVERRIDES=N24=10 makes the figure 10 working days (→ 2026-10-20) and
    drops the unconfirmed-figure warning; a malformed setting is refused."""
    from dataclasses import replace

    container.settings = replace(settings, deadline_overrides="N24=10, A17.2=2",
                                 complaint_acceptance_departments="*")
    case = open_case(client, people["officer"], initiation="complaint")
    _intake(client, people["officer"], case["id"])
    n24 = next(d for d in deadlines_of(container, case["id"]) if d.rule_id == "N24")
    assert n24.due_at == end_of(2026, 10, 20)
    assert n24.period == 10
    assert n24.warnings == []
    for bad in ("N24", "N24=x", "N99=3", "N10=3"):
        with pytest.raises(SettingsError):
            rule_table(Settings(deadline_overrides=bad))


def test_corrected_intake_replaces_its_deadlines(client, people, container, settings):
    """N24: correcting the intake's received_at cancels the old deadline and counts anew."""
    from dataclasses import replace

    container.settings = replace(settings, complaint_acceptance_departments="*")
    case = open_case(client, people["officer"], initiation="complaint")
    first = _intake(client, people["officer"], case["id"])
    _intake(client, people["officer"], case["id"], received_at="2026-10-09T09:00:00+08:00",
            corrects=first["id"])
    rows = [d for d in deadlines_of(container, case["id"]) if d.rule_id == "N24"]
    assert [(d.status, d.due_at) for d in rows] == [
        ("cancelled", end_of(2026, 10, 15)), ("open", end_of(2026, 10, 19))]  # 10-10 worked
    assert rows[0].closed_by == f"corrected by record {rows[1].subject_id}"


def test_a31_1_two_working_days_from_capture_closed_per_item(client, people, container):
    """A31.1: AV captured 2026-09-30 22:30 must be stored by the end of 2026-10-09; the upload
    of one item closes only that item's deadline."""
    case = open_case(client, people["officer"])
    _emit(container, "evidence.captured", case["id"], at(2026, 9, 30, 22, 30), evidence_id="e1")
    _emit(container, "evidence.captured", case["id"], at(2026, 10, 9, 8), evidence_id="e2")
    rows = {d.subject_id: d for d in deadlines_of(container, case["id"])}
    assert rows["e1"].due_at == end_of(2026, 10, 9)
    assert rows["e2"].due_at == end_of(2026, 10, 12)  # 10-10 is a 调休 Saturday, 10-11 Sunday
    assert rows["e1"].rule_id == rows["e2"].rule_id == "A31.1"

    _emit(container, "evidence.uploaded", case["id"], at(2026, 10, 10, 9), evidence_id="e1")
    rows = {d.subject_id: d for d in deadlines_of(container, case["id"])}
    assert rows["e1"].status == "closed" and rows["e1"].closed_at == at(2026, 10, 10, 9)
    assert rows["e2"].status == "open"
    listed = {d["subject_id"]: d for d in api_deadlines(client, people["officer"], case["id"])}
    assert listed["e1"]["late"] is True  # stored a day after its last day


def _ledgered(container, deadline_id: str) -> list[str]:
    """The ledger state events that name a deadline or its reminders."""
    from core.ledger.models import LedgerState
    reminder_ids = {r.id for r in reminders_of(container, deadline_id)}
    with container.uow() as uow:
        states = uow.session.execute(select(LedgerState).where(
            LedgerState.table_name.in_(("deadlines", "reminders")))).scalars()
        return [s.event for s in states
                if any(r["key"] in ({deadline_id} | reminder_ids) for r in s.rows)]


def test_a31_1_deadline_opened_and_met_in_one_commit_is_one_met_row(client, people, container):
    """A31.1 (RULES.md part 2): events raised together (UnitOfWork.emit_all) whose later one
    meets the deadline the first opens, in time, write one row already closed, one ledger
    state entry and no reminders; the compliance figures count it met with its days used.
    Met late, it is opened and closed as before, with its reminders cancelled."""
    from datetime import date

    from core.metrics.compliance import MetricsQuery, figures
    case = open_case(client, people["officer"])
    with container.uow() as uow:
        uow.emit_all([Event("evidence.captured", case["id"], at(2026, 9, 30, 10),
                            {"evidence_id": "e1"}),
                      Event("evidence.uploaded", case["id"], at(2026, 9, 30, 16),
                            {"evidence_id": "e1"})])
        uow.emit_all([Event("evidence.captured", case["id"], at(2026, 9, 1, 10),
                            {"evidence_id": "e2"}),
                      Event("evidence.uploaded", case["id"], at(2026, 9, 30, 16),
                            {"evidence_id": "e2"})])
    rows = {d.subject_id: d for d in deadlines_of(container, case["id"])}
    met, late = rows["e1"], rows["e2"]
    assert (met.status, met.closed_by, met.closed_at) == ("closed", "evidence.uploaded",
                                                          at(2026, 9, 30, 16))
    assert met.due_at == end_of(2026, 10, 9)
    assert reminders_of(container, met.id) == []
    assert _ledgered(container, met.id) == ["deadline.opened_closed"]
    assert late.status == "closed" and late.closed_at > late.due_at
    late_reminders = reminders_of(container, late.id)
    assert late_reminders and {r.status for r in late_reminders} == {"cancelled"}
    assert {"deadline.opened", "deadline.closed"} <= set(_ledgered(container, late.id))
    listed = {d["subject_id"]: d for d in api_deadlines(client, people["officer"], case["id"])}
    assert (listed["e1"]["late"], listed["e2"]["late"]) == (False, True)
    with container.uow() as uow:
        [group] = figures(uow.session, MetricsQuery(date(2026, 9, 1), date(2026, 10, 31)),
                          department_id=case["department_id"])["groups"]
    a31 = group["upload_delays_a31_1"]
    assert (a31["met"], a31["missed"], a31["open"]) == (1, 1, 0)
    # days used: 0.25 for the met one (6 hours), 29.25 for the late one
    assert a31["median_days"] == round((0.25 + 29.25) / 2, 2)


@pytest.mark.skipif(2027 in PACKAGE_YEARS, reason="the package already knows 2027")
def test_a31_1_deadline_into_an_unknown_year_carries_the_warning(client, people, container):
    """A31.1: a deadline counted into 2027 without holiday data shows the warning on its row."""
    case = open_case(client, people["officer"])
    _emit(container, "evidence.captured", case["id"], at(2026, 12, 31, 9), evidence_id="e9")
    [row] = api_deadlines(client, people["officer"], case["id"])
    assert row["last_day"] == "2027-01-04"
    assert any("2027 has no holiday data" in w for w in row["warnings"])


def test_n7_penalty_decision_opens_when_the_head_approves_the_filing_form(
        client, people, container):
    """N7: 立案 (the head's approval of the filing form) opens the 90-day decision deadline."""
    case = open_case(client, people["officer"])
    form = filing_form(client, people["officer"], case["id"])
    assert deadlines_of(container, case["id"]) == []
    assert approve(client, people["supervisor"], case["id"], form["id"]).status_code == 201
    assert approve(client, people["head"], case["id"], form["id"]).status_code == 201
    [row] = api_deadlines(client, people["officer"], case["id"])
    assert row["rule_id"] == "N7" and row["unit"] == "calendar_days" and row["period"] == 90
    from datetime import datetime
    trigger = datetime.fromisoformat(row["trigger_at"]).astimezone(SH).date()
    assert row["last_day"] >= (trigger + timedelta(days=90)).isoformat()


def test_a32_1_archiving_opens_twenty_days_and_closing_cancels_what_is_left(
        client, people, container):
    """A32.1: the act's legal end 2026-09-11 opens the dossier deadline (→ 2026-10-08); the
    custodian's acceptance closes it; closing the case cancels what is still open."""
    case = open_case(client, people["officer"])
    _emit(container, "act.ended", case["id"], at(2026, 9, 11, 17), reason="execution_completed")
    _emit(container, "evidence.captured", case["id"], at(2026, 9, 11, 17), evidence_id="e1")
    rows = {d.rule_id: d for d in deadlines_of(container, case["id"])}
    assert rows["A32.1"].due_at == end_of(2026, 10, 8)
    _emit(container, "dossier.archived", case["id"], at(2026, 9, 18, 9))
    _emit(container, "case.stage.closed", case["id"], at(2026, 9, 20, 9))
    rows = {d.rule_id: d for d in deadlines_of(container, case["id"])}
    assert (rows["A32.1"].status, rows["A32.1"].closed_by) == ("closed", "dossier.archived")
    assert (rows["A31.1"].status, rows["A31.1"].closed_by) == ("cancelled", "case.stage.closed")
    assert {r.status for r in reminders_of(container, rows["A31.1"].id)} == {"cancelled"}


def _document(container, case_id: str, rtype: str, fields: dict, by: str) -> str:
    """Store a document record directly (its stage gates are not what these tests are about)."""
    from core.cases.models import Record
    from core.kernel.clock import utcnow
    from core.kernel.ids import new_id

    with container.uow() as uow:
        record = Record(id=new_id(), case_id=case_id, type=rtype, stage="decision",
                        fields=fields, officers=[by], occurred_at=utcnow(), created_by=by)
        uow.session.add(record)
        return record.id


def _served(container, case_id: str, doc: str, when, *extra: str) -> None:
    """Raise the events core.cases.service_of_documents raises when a decision is served."""
    data = {"record_id": doc, "subject_id": doc, "occurred_at": when.isoformat()}
    with container.uow() as uow:
        for name in ("document.served", "record.decision.served", "decision.served", *extra):
            uow.emit(Event(name, case_id, when, data))


def test_a29_1_n9_open_on_service_of_the_decision_with_figures_from_it(
        client, people, container):
    """A29.1/N9/N8: serving a penalty decision that orders a correction in 15 days and a fine
    opens the correction check (→ 2026-10-08, rolled past National Day) and the fine period,
    and closes N8; a decision that orders neither ends the act: only A32.1 opens."""
    case = open_case(client, people["officer"])
    by = people["officer"]["id"]
    decision = _document(container, case["id"], "decision", {
        "correction_ordered": True, "correction_period_days": 15, "fine_amount_yuan": 5000,
        "obligation": True}, by)
    _emit(container, "decision.made", case["id"], at(2026, 9, 18, 9), record_id=decision,
          subject_id=decision)
    assert [d.rule_id for d in deadlines_of(container, case["id"])] == ["N8"]
    _served(container, case["id"], decision, at(2026, 9, 20, 15), "correction_order.served")
    rows = {d.rule_id: d for d in deadlines_of(container, case["id"])}
    assert (rows["N8"].status, rows["N8"].closed_at) == ("closed", at(2026, 9, 20, 15))
    assert (rows["A29.1"].period, rows["A29.1"].due_at) == (15, end_of(2026, 10, 8))
    assert rows["N9"].due_at == end_of(2026, 10, 8)  # 10-05 is a holiday
    assert rows["N9"].subject_id == rows["A29.1"].subject_id == decision

    plain = _document(container, case["id"], "decision", {
        "correction_ordered": False, "obligation": False}, by)
    _served(container, case["id"], plain, at(2026, 9, 21))
    later = [d.rule_id for d in deadlines_of(container, case["id"])
             if d.rule_id not in ("N8", "A29.1", "N9")]
    assert later == ["A32.1"]


def test_a22_1_n4_rights_notice_figure_and_hearing_condition(client, people, container):
    """A22.1/N10/N4: a rights notice served 2026-09-28 with 7 working days → 2026-10-13; with
    the hearing right told, N4 (5 working days → 2026-10-10, 调休) opens as well."""
    case = open_case(client, people["officer"])
    notice = _document(container, case["id"], "rights_notice", {
        "response_period_working_days": 7, "hearing_right": True}, people["officer"]["id"])
    _emit(container, "record.rights_notice.served", case["id"], at(2026, 9, 28, 16),
          record_id=notice, subject_id=notice)
    rows = {d.rule_id: d for d in deadlines_of(container, case["id"])}
    assert (rows["A22.1"].period, rows["A22.1"].due_at) == (7, end_of(2026, 10, 13))
    assert rows["A22.1"].warnings == []  # the notice's own figure, not the ⚠ default
    assert rows["N4"].due_at == end_of(2026, 10, 10)


def test_a29_1_without_its_figure_opens_nothing_and_loses_no_record(client, people, container):
    """A29.1: a correction ordered without a period cannot be counted: nothing is opened, the
    event's transaction still commits."""
    case = open_case(client, people["officer"])
    decision = _document(container, case["id"], "decision", {"correction_ordered": True},
                         people["officer"]["id"])
    _emit(container, "correction_order.served", case["id"], at(2026, 9, 20), record_id=decision)
    assert deadlines_of(container, case["id"]) == []
    _emit(container, "correction_order.served", case["id"], at(2026, 9, 20), record_id=decision,
          period=10)
    [row] = deadlines_of(container, case["id"])
    assert (row.rule_id, row.due_at) == ("A29.1", end_of(2026, 9, 30))


def test_n6_a16_1_per_item_deadlines_close_by_the_record_that_answers_them(
        client, people, container):
    """N6/A16.1: two preservations approved 2026-09-24 each owe a decision by 2026-10-12; the
    decision on one (its preservation_id) closes that one only."""
    case = open_case(client, people["officer"])
    by = people["officer"]["id"]
    first, second = (_document(container, case["id"], "evidence_preservation",
                               {"form": "registration_preservation"}, by) for _ in range(2))
    for p in (first, second):
        _emit(container, "evidence_preservation.approved", case["id"], at(2026, 9, 24, 15),
              record_id=p, subject_id=p)
    rows = {d.subject_id: d for d in deadlines_of(container, case["id"])}
    assert {d.due_at for d in rows.values()} == {end_of(2026, 10, 12)}
    answer = _document(container, case["id"], "preservation_decision",
                       {"preservation_id": first, "handling": "return", "reason": "无违法"}, by)
    _emit(container, "record.preservation_decision.created", case["id"], at(2026, 10, 9),
          record_id=answer)
    rows = {d.subject_id: d for d in deadlines_of(container, case["id"])}
    assert (rows[first].status, rows[second].status) == ("closed", "open")


def test_deadlines_endpoint_is_404_for_another_department_and_reads_are_logged(
        client, people, container):
    """A33.1/A37.1: another department's officer gets 404; a permitted read is logged."""
    case = open_case(client, people["officer"], emergency=True)
    other = stranger(container)
    r = client.get(f"/api/v1/cases/{case['id']}/deadlines", headers=auth(other))
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/cases/{case['id']}/deadlines").status_code == 401
    assert client.get("/api/v1/cases/nope/deadlines",
                      headers=auth(people["officer"])).status_code == 404
    api_deadlines(client, people["supervisor"], case["id"])
    with container.uow() as uow:
        logged = uow.session.execute(select(func.count()).select_from(AccessLog).where(
            AccessLog.subject_type == "deadline", AccessLog.subject_id == case["id"],
            AccessLog.officer_id == people["supervisor"]["id"])).scalar()
    assert logged == 1


def test_back_dated_trigger_keeps_only_the_latest_past_step_per_role(client, people, container):
    """A32.1: a trigger long past does not queue every missed step: each role gets its latest
    step that is already due, plus the ones still ahead."""
    case = open_case(client, people["officer"])
    _emit(container, "act.ended", case["id"], at(2026, 9, 11, 17))
    [row] = deadlines_of(container, case["id"])
    assert [(r.recipient_role, r.step) for r in reminders_of(container, row.id)] == [
        ("officer", "due"), ("supervisor", "overdue"), ("head", "escalate")]
    assert now_iso()  # the reminders above are all in the past: the next sweep sends them
