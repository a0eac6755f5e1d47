"""Execution (A29.1, A30.1, N14, N15): compliance, correction checks on schedule, and the
road to the court for a party that does not comply."""

from __future__ import annotations

from datetime import timedelta


def _decided(flow, **decision):
    """A fee case whose decision (with an obligation) is made but not yet served."""
    case = flow.filed(kind="fee")
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")
    flow.done(case, "handling_opinion")
    pay_by = flow.clock.now().date() + timedelta(days=10)
    fields = {"obligation": True, "performance_deadline": pay_by.isoformat(), **decision}
    doc = flow.done(case, "decision", **fields)
    flow.move(case, "service")
    return case, doc


def test_compliance_is_recorded_after_service(flow):
    """A29.1: compliance belongs after the decision is served; until recorded the case cannot
    leave the service stage."""
    case, decision = _decided(flow)
    err = flow.record(case, "compliance_record", decision_id=decision["id"], expect=409)
    assert err["error"]["missing"] == ["A23.1", "A29.1"]
    flow.serve(case, decision)
    assert flow.missing(case, "archiving") == ["A29.1"]
    flow.done(case, "compliance_record", decision_id=decision["id"])
    flow.move(case, "archiving")


def test_correction_is_checked_on_schedule(flow):
    """A29.1: an ordered correction is checked after its period; an early check that finds it
    not yet corrected does not count, a check after the period does."""
    case, decision = _decided(flow, correction_ordered=True, correction_period_days=10)
    flow.serve(case, decision)
    flow.done(case, "compliance_record", decision_id=decision["id"])
    flow.later(days=3)
    flow.done(case, "correction_check", decision_id=decision["id"], result="not_corrected")
    assert flow.missing(case, "archiving") == ["A29.1"]
    flow.later(days=12)
    flow.done(case, "correction_check", decision_id=decision["id"], result="not_corrected")
    flow.move(case, "archiving")
    deadlines = flow.get(f"/api/v1/cases/{case['id']}/deadlines")["deadlines"]
    check = [d for d in deadlines if d["rule_id"] == "A29.1"]
    assert check and check[0]["period"] == 10 and check[0]["status"] == "closed"


def test_non_compliance_goes_through_demand_and_court(flow):
    """A30.1, N14, N15: the demand waits for the performance deadline; the court application
    waits for the demand to be served and its 10 working days, and must fall in the 3 months
    after the period to seek review or sue; acceptance and result follow in order."""
    case, decision = _decided(flow)
    flow.serve(case, decision)
    flow.done(case, "compliance_record", decision_id=decision["id"], status="not_complied")
    assert flow.missing(case, "archiving") == ["A30.1"]
    early = flow.record(case, "demand_notice", decision_id=decision["id"], expect=409)
    assert early["error"]["missing"] == ["A30.1"]  # the performance deadline has not passed
    flow.later(days=11)
    err = flow.record(case, "court_application", decision_id=decision["id"], expect=409)
    assert err["error"]["missing"] == ["A30.1"]  # no demand served
    demand = flow.done(case, "demand_notice", decision_id=decision["id"])
    flow.serve(case, demand)
    err = flow.record(case, "court_application", decision_id=decision["id"], expect=409)
    assert err["error"]["missing"] == ["N14"]
    flow.later(days=300)  # past the 6 months to sue and the 3 months after them
    err = flow.record(case, "court_application", decision_id=decision["id"], expect=409)
    assert err["error"]["missing"] == ["N15"]
    first, last = err["error"]["window"]
    assert last < flow.clock.now().date().isoformat()
    assert flow.missing(case, "archiving") == ["A30.1"]


def test_court_acceptance_and_result_follow_the_application(flow, clock):
    """A30.1: acceptance only after the head signed the application, the result only after
    acceptance; a court that refuses to accept ends the road."""
    case, decision = _decided(flow)
    flow.serve(case, decision)
    flow.done(case, "compliance_record", decision_id=decision["id"], status="not_complied")
    flow.later(days=11)
    demand = flow.done(case, "demand_notice", decision_id=decision["id"])
    flow.serve(case, demand)
    flow.done(case, "demand_response", demand_id=demand["id"], responded=True,
              content="经济困难，请求分期", review_opinion="不予采纳")
    flow.later(days=200)
    application = flow.record(case, "court_application", decision_id=decision["id"])
    flow.sign_all(case, application)
    today = flow.clock.now().date().isoformat()
    flow.record(case, "court_acceptance", expect=409, fields={
        "application_id": application["id"], "accepted": False, "decided_on": today})
    flow.approve_all(case, application)
    flow.record(case, "court_result", expect=409, fields={
        "application_id": application["id"], "ruling": "enforcement_granted", "result": "-",
        "concluded_on": today})
    flow.done(case, "court_acceptance", fields={
        "application_id": application["id"], "accepted": False, "decided_on": today})
    flow.move(case, "archiving")
    events = flow.get(f"/api/v1/cases/{case['id']}/deadlines")["deadlines"]
    assert {"N14", "N15"} <= {d["rule_id"] for d in events}
