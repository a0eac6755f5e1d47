"""Issue 10 (legal correctness), items 1, 4, 7, 9, 10, 11 and 15, through the API: each test
names its RULES.md ID and the legal example it proves."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.cases.late_entries import late_entries
from core.deadlines.models import Deadline
from core.notices.models import OutboxMessage
from core.rules.calendar import WorkingDayCalendar
from core.rules.deadline_rules import RULES, RuleTable

SH = ZoneInfo("Asia/Shanghai")
PENALTY_FIELDS = {"penalty_types": ["fine"], "fine_amount_yuan": 200000, "hearing_right": True}


def _in_decision(flow, **over):
    case = flow.filed(**over)
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")
    return case


def _refused(flow, case, **over) -> dict:
    return flow.record(case, "decision", expect=409, **over)["error"]


def _deadlines(flow, case) -> list[dict]:
    return flow.get(f"/api/v1/cases/{case['id']}/deadlines")["deadlines"]


def test_n4_decision_waits_for_the_hearing_request_period(flow, clock):
    """N4 (行政处罚法 Art. 63-64), A22.3: rights notice served 2026-09-29 with a
    3-working-day statement period and a 200,000-yuan fine for an organisation (hearing right)
    → no decision before 2026-10-13 (the statement period alone allowed 2026-10-10); a
    statement waiver is not a hearing waiver."""
    clock.set(datetime(2026, 9, 28, 9, 0, tzinfo=SH))
    case = _in_decision(flow)
    flow.done(case, "handling_opinion")
    notice = flow.done(case, "rights_notice", response_period_working_days=3, **PENALTY_FIELDS)
    assert "较大数额罚款" in notice["fields"]["hearing_right_basis"]
    clock.set(datetime(2026, 9, 29, 10, 0, tzinfo=SH))
    flow.serve(case, notice)
    flow.done(case, "statement_waiver")  # not a hearing waiver
    clock.set(datetime(2026, 10, 10, 9, 0, tzinfo=SH))
    err = _refused(flow, case)
    assert err["missing"] == ["N4"]
    clock.set(datetime(2026, 10, 12, 23, 0, tzinfo=SH))
    assert _refused(flow, case)["missing"] == ["N4"]
    clock.set(datetime(2026, 10, 13, 0, 5, tzinfo=SH))
    flow.record(case, "decision")


def test_n4_hearing_waiver_opens_the_gate_and_untold_right_is_refused(flow):
    """N4: a notice proposing a licence revocation that does not tell the hearing right is
    refused; a signed hearing waiver lets the decision follow at once."""
    case = _in_decision(flow)
    flow.done(case, "handling_opinion")
    err = flow.record(case, "rights_notice", expect=409, penalty_types=["revoke_licence"],
                      hearing_right=False)["error"]
    assert err["missing"] == ["N4"]
    notice = flow.done(case, "rights_notice", penalty_types=["revoke_licence"],
                       hearing_right=True)
    flow.serve(case, notice)
    flow.done(case, "statement_waiver")
    assert _refused(flow, case)["missing"] == ["N4"]
    flow.done(case, "hearing_waiver", statement="本人放弃听证")
    flow.record(case, "decision")


def test_hearing_host_notice_period_absence_and_n28_review(flow, people):
    """A13.1, N5, N28 (Art. 64(4), 64(8), 57-58): an investigator may not host the hearing; a
    hearing notice served less than 7 working days before is refused at the hearing; a party
    absent without reason ends it; the head may not approve a major case's opinion before
    legal review agrees and the heads' collective discussion is recorded."""
    case = _in_decision(flow)
    investigator = people["officer"]["name"]
    opinion = flow.record(case, "handling_opinion", major_case=True)
    r = flow.client.post(f"/api/v1/cases/{case['id']}/records/{opinion['id']}/approvals",
                         json={"decision": "approve"},
                         headers={"Authorization": f"Bearer {people['supervisor']['token']}"})
    assert r.status_code == 201
    r = flow.client.post(f"/api/v1/cases/{case['id']}/records/{opinion['id']}/approvals",
                         json={"decision": "approve"},
                         headers={"Authorization": f"Bearer {people['head']['token']}"})
    assert r.status_code == 409 and r.get_json()["error"]["missing"] == ["N28"]
    notice = flow.done(case, "rights_notice", **PENALTY_FIELDS)
    flow.serve(case, notice)
    flow.done(case, "statement_waiver")
    flow.done(case, "hearing_request")
    assert flow.record(case, "hearing_notice", expect=409, host=investigator,
                       hearing_at=flow.clock.iso(days=20))["error"]["missing"] == ["A13.1"]
    assert flow.record(case, "hearing_notice", expect=409,
                       hearing_at=flow.clock.iso(days=3))["error"]["missing"] == ["N5"]
    late = flow.done(case, "hearing_notice", hearing_at=flow.clock.iso(days=20))
    flow.later(days=16)  # served 4 days before the hearing: too late
    flow.serve(case, late)
    flow.later(days=4)
    assert flow.record(case, "hearing_record", expect=409)["error"]["missing"] == ["N5"]
    hn = flow.done(case, "hearing_notice", hearing_at=flow.clock.iso(days=20))
    flow.serve(case, hn)
    flow.later(days=20)
    flow.done(case, "hearing_termination", hearing_notice_id=hn["id"],
              reason="absent_without_reason", details="当事人无正当理由未到场")
    err = _refused(flow, case)
    assert "A13.1" not in err["missing"] and "N28" in err["missing"]
    flow.record(case, "legal_review", user=people["legal_reviewer"])
    flow.done(case, "collective_discussion", participants=["局长", "副局长"],
              content="集体讨论", conclusion="同意处罚")
    r = flow.client.post(f"/api/v1/cases/{case['id']}/records/{opinion['id']}/approvals",
                         json={"decision": "approve"},
                         headers={"Authorization": f"Bearer {people['head']['token']}"})
    assert r.status_code == 201, r.get_json()
    flow.record(case, "decision")


def test_inspection_that_finds_nothing_closes_without_a_decision(flow):
    """A12.1, A10.1, A32.1 (issue 10 items 4 and 9): a random-draw inspection needs no filing
    form; its on-site record has no "AV unsuitable" waiver; a result of no violation ends the
    act (act.ended, reason inspection_concluded) and opens the 20-day archiving clock from
    the inspection's end; the case goes to archiving and closes without a decision."""
    case = flow.open(kind="inspection", initiation="inspection", title="双随机检查")
    commitment = flow.post(f"/api/v1/cases/{case['id']}/draws/commitments", {}).get_json()
    drawn = flow.post(f"/api/v1/cases/{case['id']}/draws", {
        "commitment_record_id": commitment["record_id"], "outside_value": "20261126 福彩3D 507",
        "sampling_method": "双随机", "objects_count": 1, "officers_count": 2,
        "objects_register": ["工地A", "工地B"], "officers_register": flow.pair}).get_json()
    flow.move(case, "investigation")  # no 立案审批表 for an inspection
    onsite = flow.done(case, "onsite_inspection_record", place=drawn["drawn_objects"][0],
                       av_unsuitable_reason="光线不足")
    assert flow.missing(case, "decision") == ["A12.1", "A15.1"]  # no waiver for A12.1
    flow.av(case, onsite["id"])
    ended_at = flow.clock.iso(minutes=-5)
    flow.done(case, "inspection_result", onsite_record_id=onsite["id"], result="no_violation",
              findings="未发现违法行为", concluded_at=ended_at)
    [a32] = [d for d in _deadlines(flow, case) if d["rule_id"] == "A32.1"]
    assert a32["trigger_event"] == "act.ended" and a32["status"] == "open"
    assert datetime.fromisoformat(a32["trigger_at"]) == datetime.fromisoformat(ended_at)
    flow.move(case, "archiving")
    flow.archive(case)  # the custodian accepts the case file (A32.1)
    flow.move(case, "closed")
    records = flow.get(f"/api/v1/cases/{case['id']}/records")
    types = {r["type"] for r in records.get("records", records)}
    assert not types & {"filing_form", "decision"}


def test_violation_found_by_inspection_needs_filing(flow):
    """A10.1: an inspection that finds a violation is filed (立案审批表) before it goes on."""
    case = flow.open(kind="inspection", initiation="ex_officio")
    flow.done(case, "filing_form")
    flow.move(case, "investigation")
    onsite = flow.done(case, "onsite_inspection_record", av=True)
    flow.done(case, "inspection_result", onsite_record_id=onsite["id"],
              result="violation_found", findings="发现违法施工", concluded_at=flow.clock.iso())
    flow.move(case, "archiving", expect=409)  # a violation: no early end
    flow.move(case, "decision")


def test_act_ended_by_no_penalty_decision_of_the_head(flow, container):
    """A32.1 (issue 10 item 4): the head's approval of not penalising ends the act: act.ended
    with reason no_penalty and the record's id; the case goes to archiving without a
    decision."""
    case = _in_decision(flow)
    term = flow.done(case, "case_termination", outcome="no_penalty",
                     reason="违法行为轻微并及时改正", legal_basis="行政处罚法第三十三条第一款",
                     officer_opinion="建议不予处罚")
    with container.uow() as uow:
        row = uow.session.execute(select(Deadline).where(
            Deadline.case_id == case["id"], Deadline.rule_id == "A32.1")).scalar_one()
        assert row.trigger_event == "act.ended"
    flow.move(case, "archiving")
    assert term["type"] == "case_termination"


def test_n11_limitation_warns_at_filing_and_refuses_the_penalty(flow):
    """N11 (行政处罚法 Art. 36): a violation on a day three years ago, discovered now, is past
    the 2-year limitation: its record made with the filing carries the warning and the
    penalty decision is refused; with harm to life or health (5 years) it is within."""
    three_years = (flow.clock.now() - timedelta(days=3 * 366)).date().isoformat()
    case = flow.filed()
    dates = flow.done(case, "violation_period", violation_date=three_years)
    assert "追责时效" in dates["fields"]["limitation_warning"]
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")
    flow.done(case, "handling_opinion")
    notice = flow.done(case, "rights_notice")
    flow.serve(case, notice)
    flow.done(case, "statement_waiver")
    assert _refused(flow, case)["missing"] == ["N11"]
    harm = flow.open()
    dates = flow.done(harm, "violation_period", violation_date=three_years, serious_harm=True)
    assert "limitation_warning" not in dates["fields"]
    assert dates["fields"]["limitation_ends_on"] > flow.clock.now().date().isoformat()


def test_a10_2_counts_from_the_on_site_start_and_late_entries_are_flagged(flow, container):
    """A10.2, A31.1 (issue 10 item 10): an emergency started on site 10 hours before the case
    was typed in owes its supplementary record 24 hours after the on-site start; a record
    entered six days after it happened is flagged to the supervisor and counted for the
    metrics (A36.1)."""
    case = flow.open(emergency=True)
    started = flow.clock.now() - timedelta(hours=10)
    flow.record(case, "emergency_initiation", emergency_reason="脚手架倒塌风险",
                measures_taken="责令停工", started_at=started.isoformat())
    dues = [datetime.fromisoformat(d["due_at"]) for d in _deadlines(flow, case)
            if d["rule_id"] == "A10.2"]
    assert started + timedelta(hours=24) in dues
    filed = flow.filed()
    rec = flow.record(filed, "inquiry_record", at=flow.days_ago(6))
    with container.uow() as uow:
        alerts = uow.session.execute(select(OutboxMessage).where(
            OutboxMessage.case_id == filed["id"])).scalars().all()
        assert any((m.payload or {}).get("event") == "alert.late_entry"
                   and (m.payload or {}).get("record_id") == rec["id"] for m in alerts)
        counted = late_entries(uow.session, filed["department_id"],
                               flow.clock.now() - timedelta(hours=1),
                               flow.clock.now() + timedelta(hours=1))
        assert [r.id for r in counted] == [rec["id"]]


def test_n32_n15_court_waits_for_the_party_remedies(flow, clock):
    """N15, N32 (行政诉讼法 Art. 45, 行政强制法 Art. 53): while the party's administrative
    review is pending no court application is made; after a review decision upholding the
    fine is served, the party has 15 days to sue and only then does the 3-month window open;
    a demand notice made before the window is warned about."""
    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=SH))
    case = flow.open(kind="levy")
    flow.done(case, "filing_form")
    flow.move(case, "investigation")
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")
    flow.done(case, "handling_opinion")
    decision = flow.done(case, "decision", obligation=True,
                         performance_deadline="2026-03-20")
    flow.move(case, "service")
    flow.serve(case, decision)
    review = flow.done(case, "remedy_application", decision_id=decision["id"],
                       remedy="administrative_review", filed_on="2026-03-10", body="岳阳市人民政府")
    clock.set(datetime(2026, 3, 25, 9, 0, tzinfo=SH))
    flow.done(case, "compliance_record", decision_id=decision["id"], status="not_complied",
              details="未履行")
    demand = flow.done(case, "demand_notice", decision_id=decision["id"],
                       performance_deadline="2026-04-10")
    assert "申请法院强制执行" in demand["fields"]["early_warning"]
    flow.serve(case, demand)
    clock.set(datetime(2026, 9, 10, 9, 0, tzinfo=SH))
    flow.done(case, "demand_response", demand_id=demand["id"])
    err = flow.record(case, "court_application", decision_id=decision["id"], expect=409)
    assert err["error"]["missing"] == ["N32"]
    flow.done(case, "remedy_result", remedy_application_id=review["id"], outcome="upheld",
              served_on="2026-09-01", final=True)
    err = flow.record(case, "court_application", decision_id=decision["id"], expect=409)
    assert err["error"]["missing"] == ["N15"]
    assert err["error"]["window"][0] == "2026-09-17"
    clock.set(datetime(2026, 9, 17, 9, 0, tzinfo=SH))
    flow.record(case, "court_application", decision_id=decision["id"])


def test_n33_rules_in_force_by_date():
    """N33, N4, N7 (行政处罚法 (2021) Art. 86): a rights notice served 2021-07-09 had 3 days to
    ask for a hearing (→ 2021-07-12, Monday); one served 2021-07-15 has 5 working days; a case
    filed before 2021-07-15 has no 90-day limit; every deadline rule carries effective_from;
    month-end clamping cites 民法典 Art. 202."""
    table, cal = RuleTable(), WorkingDayCalendar()
    old = table.due_for("N4", datetime(2021, 7, 9, 10, tzinfo=SH), cal)
    assert (old.period, old.unit, old.last_day) == (3, "calendar_days", date(2021, 7, 12))
    new = table.due_for("N4", datetime(2021, 7, 15, 10, tzinfo=SH), cal)
    assert (new.period, new.unit) == (5, "working_days")
    assert table.rules_for_trigger("record.filing_form.approved", "penalty",
                                   date(2021, 7, 14)) == ()
    assert all(r.effective_from is not None for r in RULES)
    assert table.rule_for("N18", date(2021, 6, 1)).effective_until == date(2021, 12, 31)
    import core.rules.deadline_rules as dr
    assert "民法典 Art. 202" in dr.__doc__ and "Art. 203" not in dr.__doc__


def test_rules_endpoint_lists_every_rule_with_source_dates_and_warning(client):
    """N33, A2.1: GET /api/v1/rules lists every A- and N-rule (N25–N33 included) with its
    words in Chinese and English, figure, unit, legal source, effective dates and ⚠; N4 shows
    its two versions and the configurable hearing amounts."""
    rows = {r["id"]: r for r in client.get("/api/v1/rules").get_json()["rules"]}
    assert {"A2.1", "A37.1", "N1", "N25", "N33"} <= set(rows)
    for r in rows.values():
        assert r["text_zh"] and r["text_en"] and r["legal_source"], r["id"]
        assert "effective_from" in r and "effective_until" in r and "warning" in r
    n4 = rows["N4"]
    assert [(v["figure"], v["unit"], v["effective_until"]) for v in n4["versions"]] == [
        (3, "calendar_days", "2021-07-14"), (5, "working_days", None)]
    assert n4["settings"]["HEARING_FINE_ORG_YUAN"] == 100000
    assert rows["N7"]["effective_from"] == "2021-07-15" and rows["N7"]["figure"] == 90
    assert rows["N25"]["warning"] and rows["N23"]["warning"] and not rows["N7"]["warning"]
    assert rows["A32.1"]["figure"] == 20 and "第三十二条" in rows["A32.1"]["legal_source"]


def test_n4_decision_heavier_than_the_notice_needs_the_hearing_right(flow):
    """N4 (Art. 63, 较大数额 ⚠ 100,000 yuan for an organisation by default): a decision fining
    the company 150,000 yuan after a notice that did not tell the hearing right is refused;
    5,000 yuan is not a hearing matter."""
    case = _in_decision(flow)
    flow.done(case, "handling_opinion")
    notice = flow.done(case, "rights_notice")
    flow.serve(case, notice)
    flow.done(case, "statement_waiver")
    decision = flow.fields("decision", obligation=True, performance_deadline="2099-01-01",
                           fine_amount_yuan=150000)
    assert flow.record(case, "decision", decision, expect=409)["error"]["missing"] == ["N4"]
    flow.record(case, "decision", {**decision, "fine_amount_yuan": 5000})


def test_n16_n30_late_missing_materials_notice_means_accepted_on_receipt(flow, clock):
    """N16, N17, N30, A9.1 (行政许可法 Art. 32(4), 42, 44): an application received
    2026-09-30 with materials missing must be told by 2026-10-13; a notice on 2026-10-15 means
    it was accepted on 2026-09-30, so the 20-working-day decision clock runs from then
    (→ 2026-11-03); a licence granted on 2026-09-30 is issued by 2026-10-20 (10 working days,
    10-10 a 调休 working Saturday; ⚠ figure)."""
    clock.set(datetime(2026, 9, 30, 10, 0, tzinfo=SH))
    case = flow.open(kind="licensing", initiation="application", title="施工许可")
    flow.done(case, "application_acceptance", materials_complete=False,
              decision="pending_materials")
    clock.set(datetime(2026, 10, 15, 10, 0, tzinfo=SH))
    notice = flow.done(case, "missing_materials_notice", missing_items=["施工图审查合格书"],
                       legal_basis="行政许可法第三十二条", served_to="岳阳某置业有限公司",
                       receipt_no="补正-2026-001")
    assert notice["fields"]["deemed_accepted_on"] == "2026-09-30"
    rows = {d["rule_id"]: d for d in _deadlines(flow, case)}
    assert rows["N16"]["late"] is True
    assert rows["N17"]["last_day"] == "2026-11-03"
    flow.move(case, "investigation")  # A9.1: deemed accepted
    table, cal = RuleTable(), WorkingDayCalendar()
    issued = table.due_for("N30", datetime(2026, 9, 30, 10, tzinfo=SH), cal)
    assert issued.last_day == date(2026, 10, 20) and issued.warnings  # ⚠ figure
