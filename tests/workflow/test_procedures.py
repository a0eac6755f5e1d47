"""Procedures beside the general one through the API (issue 10 items 8, 12, 14): the summary
procedure (N25), leads and complaints (N21, N23, N24), publication of decisions (N31)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.helpers import auth

SH = ZoneInfo("Asia/Shanghai")
SUMMARY = {"decision_no": "岳住建当罚〔2026〕0001号", "party_kind": "organisation",
           "facts": "施工现场未设置围挡", "legal_basis": "建设工程安全生产管理条例第五十七条",
           "penalty": "fine", "fine_amount_yuan": 2000, "place": "岳阳市岳阳楼区某路1号",
           "certificates_shown": True, "statement_heard": "当事人称已在采购围挡，经复核不予采纳",
           "remedy": "六十日内申请行政复议或六个月内提起行政诉讼", "handed_over": True}


def _deadlines(flow, case) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for d in flow.get(f"/api/v1/cases/{case['id']}/deadlines")["deadlines"]:
        out.setdefault(d["rule_id"], []).append(d)
    return out


def test_n25_summary_procedure_penalty_on_the_spot(flow, settings, container):
    """N25 (行政处罚法 Art. 51–52): a 2,000-yuan fine on a company decided on the spot with a
    numbered decision, certificates shown and the statement heard; 5,000 yuan is refused (the
    limit is 3,000 for an organisation, 200 for a person, both configurable ⚠); the party
    refuses to sign and the refusal is noted on the decision; no filing form, no rights-notice
    wait; the case cannot leave the decision stage before the report to the agency."""
    case = flow.open()
    big = flow.record(case, "summary_decision", fields={**SUMMARY, "fine_amount_yuan": 5000},
                      expect=409)["error"]
    assert big["missing"] == ["N25"] and "3000" in big["message"]
    person = flow.record(case, "summary_decision", fields={
        **SUMMARY, "party_kind": "person", "fine_amount_yuan": 201}, expect=409)
    assert person["error"]["missing"] == ["N25"]
    flow.record(case, "summary_decision", fields={**SUMMARY, "handed_over": False}, expect=409)
    decision = flow.record(case, "summary_decision", fields=SUMMARY)
    flow.sign_all(case, decision, skip=("party",))
    noted = flow.post(f"/api/v1/cases/{case['id']}/records/{decision['id']}/refusals", {
        "role": "party", "person_name": "周建国", "reason": "当事人拒绝签收，已在决定书上注明",
        "place": "施工现场", "at": flow.clock.iso()})
    assert noted.status_code == 201, noted.get_json()
    flow.move(case, "investigation")  # no filing form (A10.1 is the general procedure's)
    flow.move(case, "decision")  # no investigation record beyond the decision itself
    assert flow.missing(case, "service") == ["N25"]
    flow.done(case, "summary_report", fields={"decision_id": decision["id"],
                                              "reported_to": "岳阳市住房和城乡建设局"})
    flow.move(case, "service")
    flow.move(case, "archiving")

    from dataclasses import replace

    container.settings = replace(settings, summary_fine_max_organisation=5000)
    other = flow.open()
    flow.record(other, "summary_decision", fields={**SUMMARY, "fine_amount_yuan": 5000})


def test_n23_lead_checked_within_15_days_extended_once_by_the_head(flow, clock, people):
    """N23 (住建部令第55号 Art. 15): a report received 2026-09-01 must lead to a filing decision
    by 2026-09-16; the head extends the check by 10 days (→ 09-26, a Saturday, so 09-28), once
    only; the approved filing form is the decision and closes it."""
    clock.set(datetime(2026, 9, 1, 10, 0, tzinfo=SH))
    case = flow.open()
    flow.done(case, "lead_intake", fields={"source": "report",
                                           "received_at": "2026-09-01T09:00:00+08:00",
                                           "content": "某工地未取得施工许可擅自施工"})
    n23 = _deadlines(flow, case)["N23"]
    assert [(d["status"], d["last_day"]) for d in n23] == [("open", "2026-09-16")]
    clock.set(datetime(2026, 9, 15, 10, 0, tzinfo=SH))
    flow.done(case, "lead_decision", fields={"decision": "extend_check",
                                             "reason": "需调取规划审批资料",
                                             "officer_opinion": "建议延长核查十日"})
    n23 = _deadlines(flow, case)["N23"]
    assert [(d["status"], d["last_day"]) for d in n23] == [
        ("cancelled", "2026-09-16"), ("open", "2026-09-28")]
    again = flow.record(case, "lead_decision", fields={
        "decision": "extend_check", "reason": "仍需核查", "officer_opinion": "再延长"},
        expect=409)
    assert again["error"]["missing"] == ["N23"]  # once only
    clock.set(datetime(2026, 9, 25, 10, 0, tzinfo=SH))
    flow.done(case, "filing_form")
    last = _deadlines(flow, case)["N23"][-1]
    assert last["status"] == "closed" and last["late"] is False


def test_n21_receipt_and_route_notice_and_n24_only_where_opted_in(flow, people, client):
    """N21 (信访工作条例 Art. 23): the complainant's receipt-and-route notice (not the decision)
    closes the 15 days; N24 (market-regulation acceptance, 7 working days) is not opened for a
    department that did not opt in; the complaint is a lead of the N23 check."""
    case = flow.open(initiation="complaint")
    r = client.post(f"/api/v1/cases/{case['id']}/records", headers=auth(people["officer"]),
                    json={"type": "complaint_intake", "occurred_at": flow.clock.iso(),
                          "fields": flow.fields("complaint_intake",
                                                complainant_contact="13800000000")})
    assert r.status_code == 201, r.get_json()
    rows = _deadlines(flow, case)
    assert "N24" not in rows
    assert rows["N21"][0]["status"] == "closed"
    assert rows["N21"][0]["closed_by"] == "complainant.notified.intake"
    assert rows["N23"][0]["status"] == "open"


def test_n31_decision_with_social_impact_published_and_withdrawn(flow, clock):
    """N31 (行政处罚法 Art. 48): a decision with social impact made 2026-09-02 is to be published
    within 7 working days (by 09-11); published 09-08; revoked on review 09-20, its publication
    is to be withdrawn within 3 working days (by 09-23) and is withdrawn 09-22."""
    clock.set(datetime(2026, 9, 1, 10, 0, tzinfo=SH))
    case = flow.filed()
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")
    notice = flow.done(case, "rights_notice")
    flow.serve(case, notice)
    flow.done(case, "statement_waiver")
    flow.done(case, "handling_opinion")
    clock.set(datetime(2026, 9, 2, 10, 0, tzinfo=SH))
    decision = flow.done(case, "decision", social_impact=True)
    n31 = _deadlines(flow, case)["N31"][0]
    assert n31["last_day"] == "2026-09-11" and n31["status"] == "open"
    flow.move(case, "service")
    assert "N31" in flow.missing(case, "archiving")
    clock.set(datetime(2026, 9, 8, 10, 0, tzinfo=SH))
    pub = flow.done(case, "decision_publication", fields={
        "decision_id": decision["id"], "medium": "website",
        "location": "https://zjj.yueyang.gov.cn/xzcf/2026-0001"})
    assert _deadlines(flow, case)["N31"][0]["status"] == "closed"
    clock.set(datetime(2026, 9, 20, 10, 0, tzinfo=SH))
    flow.done(case, "decision_changed", fields={"decision_id": decision["id"],
                                                "change": "revoked", "by": "岳阳市人民政府"})
    withdraw = next(d for d in _deadlines(flow, case)["N31"] if d["part"] == "withdrawal")
    assert withdraw["rule_ids"] == ["N31"]
    assert withdraw["last_day"] == "2026-09-23" and withdraw["status"] == "open"
    clock.set(datetime(2026, 9, 22, 10, 0, tzinfo=SH))
    flow.done(case, "publication_withdrawal", fields={"publication_id": pub["id"],
                                                      "reason": "原处罚决定已被复议撤销"})
    withdraw = next(d for d in _deadlines(flow, case)["N31"] if d["part"] == "withdrawal")
    assert withdraw["status"] == "closed" and withdraw["late"] is False
