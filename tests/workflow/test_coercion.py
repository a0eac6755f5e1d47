"""Coercive measures and agency enforcement through the API (行政强制法; N12, N13, N26, N27):
issue 10 item 2."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.platform.uow import Event

SH = ZoneInfo("Asia/Shanghai")
MEASURE = {"measure": "impound", "place": "岳阳市岳阳楼区某路1号工地",
           "objects": ["挖掘机 1 台"], "certificates_shown": True, "party_present": True,
           "reasons_told": True, "rights_told": True,
           "statement": "当事人称设备系租用，请求尽快返还"}
APPROVAL = {"measure": "impound", "reasons": "违法施工，设备可能被转移",
            "objects": ["挖掘机 1 台"], "officer_opinion": "建议扣押"}


def _events(container) -> list[Event]:
    """Capture the events every later unit of work raises."""
    seen: list[Event] = []
    container.handlers = (*container.handlers, lambda uow, event: seen.append(event))
    return seen


def _deadlines(flow, case) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for d in flow.get(f"/api/v1/cases/{case['id']}/deadlines")["deadlines"]:
        out.setdefault(d["rule_id"], []).append(d)
    return out


def _measure(flow, case, **over) -> dict:
    applied = flow.clock.now().replace(microsecond=0).isoformat()
    fields = {**MEASURE, "emergency": True, "applied_at": applied, **over}
    rec = flow.record(case, "coercive_measure_record", fields)
    flow.sign_all(case, rec)
    return rec


def _on_the_spot(flow, case, measure) -> None:
    """Art. 24: the decision and the list handed over on the spot."""
    decision = flow.done(case, "seizure_decision", fields=flow.fields(
        "seizure_decision", measure_id=measure["id"], reasons_and_basis="建筑法第六十四条",
        objects=["挖掘机 1 台"], period_days=30, remedy="六十日内申请行政复议或六个月内起诉"))
    flow.serve(case, decision)
    flow.done(case, "seizure_list", fields={"measure_id": measure["id"], "objects": ["挖掘机 1 台"],
                                     "kept_at": "住建局扣押物品库"})


def test_n12_n13_emergency_seizure_approved_within_24_hours_extended_once_and_released(
        flow, clock, container):
    """N12, N13 (行政强制法 Art. 19, 24, 25, 28): an excavator impounded on the spot on
    2026-09-01 21:00 in an emergency; the head approves it the next morning (within 24 hours,
    N12 closed on time); the 30 days run to 2026-10-01; extended once by 30 days with the head's
    approval and a written notice → 2026-10-31; a second extension is refused; the release
    decision closes N13 and ends the act (act.ended, reason measure_released)."""
    clock.set(datetime(2026, 9, 1, 20, 0, tzinfo=SH))
    case = flow.open(kind="coercion")
    flow.done(case, "filing_form")
    flow.move(case, "investigation")
    events = _events(container)
    clock.set(datetime(2026, 9, 1, 21, 0, tzinfo=SH))
    measure = _measure(flow, case)
    _on_the_spot(flow, case, measure)
    rows = _deadlines(flow, case)
    assert rows["N12"][0]["due_at"] == "2026-09-02T21:00:00+08:00"
    assert rows["N13"][0]["last_day"] == "2026-10-01"
    assert "N12" in flow.missing(case, "decision")

    clock.set(datetime(2026, 9, 2, 9, 30, tzinfo=SH))
    flow.done(case, "coercive_measure_approval", fields=flow.fields(
        "coercive_measure_approval", **APPROVAL, measure_id=measure["id"]))
    n12 = _deadlines(flow, case)["N12"][0]
    assert n12["status"] == "closed" and n12["late"] is False
    assert n12["closed_by"] == "coercive_measure.emergency_approved"

    clock.set(datetime(2026, 9, 25, 10, 0, tzinfo=SH))
    extension = flow.done(case, "seizure_extension", fields={
        "measure_id": measure["id"], "reason": "涉案设备权属复杂，需进一步调查",
        "extension_days": 30, "officer_opinion": "建议延长三十日"})
    flow.serve(case, extension)  # Art. 25: the party is told in writing with the reason
    n13 = _deadlines(flow, case)["N13"]
    assert [(d["status"], d["last_day"]) for d in n13] == [
        ("cancelled", "2026-10-01"), ("open", "2026-10-31")]
    again = flow.record(case, "seizure_extension", {
        "measure_id": measure["id"], "reason": "仍需调查", "extension_days": 10,
        "officer_opinion": "再次延长"}, expect=409)
    assert again["error"]["missing"] == ["N13"]

    clock.set(datetime(2026, 10, 20, 10, 0, tzinfo=SH))
    flow.move(case, "decision")  # the penalty flow (rights notice, decision) is not asked
    assert "N13" in flow.missing(case, "service")  # still impounded
    release = flow.done(case, "seizure_release_decision", fields={
        "measure_id": measure["id"], "release_reason": "no_longer_needed",
        "reason_detail": "已查清设备权属", "objects_returned": ["挖掘机 1 台"]})
    flow.serve(case, release)
    n13 = _deadlines(flow, case)["N13"][-1]
    assert n13["status"] == "closed" and n13["late"] is False
    ended = [e for e in events if e.name == "act.ended"]
    assert [(e.data["record_id"], e.data["reason"]) for e in ended] == [
        (release["id"], "measure_released")]
    flow.move(case, "service")
    flow.record(case, "seizure_extension", {
        "measure_id": measure["id"], "reason": "x", "extension_days": 5,
        "officer_opinion": "x"}, expect=409)


def test_n12_measure_needs_prior_approval_and_the_party_told(flow):
    """N12 (行政强制法 Art. 18–19): outside an emergency a measure needs the head's approval
    before it is applied; the approval of one measure kind does not cover another; whatever
    the urgency, the party is told the reasons, the basis, rights and remedies on the spot."""
    case = flow.filed(kind="coercion")
    fields = {**MEASURE, "emergency": False, "applied_at": flow.clock.iso()}
    flow.record(case, "coercive_measure_record", fields, expect=422)  # approval_id required
    approval = flow.record(case, "coercive_measure_approval", flow.fields(
        "coercive_measure_approval", **APPROVAL))
    flow.sign_all(case, approval)
    refused = flow.record(case, "coercive_measure_record",
                          {**fields, "approval_id": approval["id"]}, expect=409)
    assert refused["error"]["missing"] == ["N12"]  # not yet approved by the head
    flow.approve_all(case, approval)
    flow.later(minutes=5)
    flow.record(case, "coercive_measure_record", {**fields, "approval_id": approval["id"],
                                                  "applied_at": flow.clock.iso(),
                                                  "measure": "seal_up"}, expect=422)
    untold = flow.record(case, "coercive_measure_record", {
        **fields, "approval_id": approval["id"], "applied_at": flow.clock.iso(),
        "rights_told": False}, expect=409)
    assert untold["error"]["missing"] == ["N13"]
    measure = flow.record(case, "coercive_measure_record", {
        **fields, "approval_id": approval["id"], "applied_at": flow.clock.iso()})
    assert "N12" not in _deadlines(flow, case)  # approved beforehand: nothing to report
    one = flow.record(case, "coercive_measure_record", {**fields, "emergency": True},
                      officers=[flow.officer["id"]], expect=409)
    assert one["error"]["missing"] == ["A14.1"]  # two officers (Art. 18(2))
    flow.record(case, "seizure_decision", flow.fields(
        "seizure_decision", measure_id=measure["id"], reasons_and_basis="依据",
        objects=["挖掘机 1 台"], period_days=45, remedy="复议或诉讼"), expect=409)


def test_n13_testing_time_is_not_counted(flow, clock):
    """N13 (行政强制法 Art. 25(3)): goods impounded 2026-09-01 sent for appraisal 09-10 to
    09-19 (10 days, the party told in writing): the period ends 2026-10-11 instead of 10-01."""
    clock.set(datetime(2026, 9, 1, 10, 0, tzinfo=SH))
    case = flow.filed(kind="coercion")
    measure = _measure(flow, case)
    clock.set(datetime(2026, 9, 20, 10, 0, tzinfo=SH))
    testing = {"measure_id": measure["id"], "testing_kind": "appraisal",
               "institution": "湖南某司法鉴定所", "started_on": "2026-09-10",
               "ended_on": "2026-09-19", "party_told": False}
    assert flow.record(case, "seizure_testing", testing, expect=409)["error"]["missing"] \
        == ["N13"]
    flow.done(case, "seizure_testing", fields={**testing, "party_told": True})
    n13 = [d for d in _deadlines(flow, case)["N13"] if d["status"] == "open"]
    assert [d["last_day"] for d in n13] == ["2026-10-11"]


def test_n26_n27_substitute_performance_not_at_night_nor_on_a_holiday(flow, clock):
    """N26, N27 (行政强制法 Art. 38, 43, 51): the demand notice and the enforcement decision are
    served directly; substitute performance comes after its decision and a demand served at least
    3 working days before; not at night (22:00–06:00 by default, ENFORCEMENT_NIGHT) nor on a
    statutory holiday (2026-10-01 National Day) unless it is an emergency."""
    clock.set(datetime(2026, 9, 1, 10, 0, tzinfo=SH))
    case = flow.filed(kind="fee")
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")
    flow.done(case, "handling_opinion")
    decision = flow.done(case, "decision", obligation=True,
                         performance_deadline=(clock.now().date()
                                               + timedelta(days=5)).isoformat())
    flow.move(case, "service")
    flow.serve(case, decision)
    clock.set(datetime(2026, 9, 10, 10, 0, tzinfo=SH))
    demand = flow.done(case, "demand_notice", decision_id=decision["id"])
    posted = flow.record(case, "service_postal", officers=[flow.officer["id"]],
                         document_id=demand["id"], expect=409)
    assert posted["error"]["missing"] == ["N26"]
    flow.serve(case, demand)
    clock.set(datetime(2026, 9, 14, 10, 0, tzinfo=SH))
    enforcement = flow.done(case, "enforcement_decision", fields={
        "decision_id": decision["id"], "demand_id": demand["id"],
        "method": "substitute_performance", "legal_basis": "行政强制法第五十条",
        "remedy": "六十日内申请行政复议或六个月内起诉"})
    flow.serve(case, enforcement)
    sub = flow.done(case, "substitute_performance_decision", fields={
        "decision_id": decision["id"], "performer": "岳阳某拆除公司",
        "obligation": "拆除违法建设", "cost_estimate_yuan": 20000,
        "performance_at": "2026-09-24T09:00:00+08:00"})
    flow.serve(case, sub)
    clock.set(datetime(2026, 9, 22, 10, 0, tzinfo=SH))
    urge = flow.done(case, "demand_notice", decision_id=decision["id"])
    flow.serve(case, urge)
    execution = {"enforcement_decision_id": enforcement["id"],
                 "substitute_decision_id": sub["id"], "demand_id": urge["id"],
                 "started_at": "2026-09-24T09:00:00+08:00",
                 "ended_at": "2026-09-24T17:00:00+08:00", "emergency": False,
                 "result": "违法建设已拆除"}
    clock.set(datetime(2026, 10, 2, 10, 0, tzinfo=SH))
    early = flow.record(case, "enforcement_execution", execution, expect=409)
    assert early["error"]["missing"] == ["N27"]  # urged 09-22, only 2 working days before
    night = {**execution, "started_at": "2026-09-28T21:00:00+08:00",
             "ended_at": "2026-09-28T23:00:00+08:00"}
    assert flow.record(case, "enforcement_execution", night, expect=409)["error"]["missing"] \
        == ["N27"]
    holiday = {**execution, "started_at": "2026-10-01T09:00:00+08:00",
               "ended_at": "2026-10-01T12:00:00+08:00"}
    refused = flow.record(case, "enforcement_execution", holiday, expect=409)["error"]
    assert refused["missing"] == ["N27"] and "2026-10-01" in refused["message"]
    done = flow.record(case, "enforcement_execution", {**holiday, "emergency": True,
                                                       "emergency_reason": "危房随时可能倒塌"})
    a32 = [d for d in flow.get(f"/api/v1/cases/{case['id']}/deadlines")["deadlines"]
           if d["rule_id"] == "A32.1"]
    assert a32 and a32[0]["trigger_at"] == "2026-10-01T12:00:00+08:00", done["id"]
    assert date(2026, 10, 1).isoformat() in holiday["started_at"]
