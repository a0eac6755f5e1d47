"""The decision gate (A18.1–A22): nothing is decided before the opinion, reviews, notice,
statement period, hearing and the head's approval are on record."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")


def _in_decision(flow, **over):
    case = flow.filed(**over)
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")
    return case


def _refused(flow, case, **over) -> dict:
    return flow.record(case, "decision", expect=409, **over)["error"]


def test_decision_refused_until_opinion_notice_and_head_approval(flow):
    """A18.1, A19.1, A22.1: a penalty decision with nothing before it is refused naming the
    handling opinion, the head's approval and the rights notice; the checklist says the same."""
    case = _in_decision(flow)
    err = _refused(flow, case)
    assert err["missing"] == ["A18.1", "A19.1", "A22.1"]
    assert {r["text_zh"] for r in err["requirements"]} >= {"已制作案件处理意见",
                                                          "已送达陈述申辩权利告知书"}
    opinion = flow.record(case, "handling_opinion")
    r = flow.client.post(f"/api/v1/cases/{case['id']}/records/{opinion['id']}/approvals",
                         json={"decision": "approve"}, headers={
                             "Authorization": f"Bearer {flow.people['supervisor']['token']}"})
    assert r.status_code == 201
    assert _refused(flow, case)["missing"] == ["A18.1", "A22.1"]  # the unit, not yet the head
    decision_stage = {(i["id"], i["status"]) for i in flow.checklist(case)["decision"]}
    assert {("A19.1", "done"), ("A18.1", "missing"), ("A22.1", "missing"),
            ("A20.1", "not_applicable"), ("A21.1", "not_applicable")} <= decision_stage
    assert flow.missing(case, "service") == ["A18.1", "A22.1"]


def test_expert_and_legal_review_where_required(flow):
    """A20.1, A21.1: an opinion that needs expert and legal review waits for an expert opinion
    signed by the experts and a legal review that agrees, made by a legal reviewer."""
    case = _in_decision(flow, kind="levy")  # no rights notice needed for a levy
    flow.done(case, "handling_opinion", expert_review_required=True, legal_review_required=True)
    assert _refused(flow, case)["missing"] == ["A20.1", "A21.1"]
    expert = flow.record(case, "expert_opinion")
    assert _refused(flow, case)["missing"] == ["A13.2", "A20.1", "A21.1"]  # not yet signed
    flow.sign_all(case, expert)
    flow.record(case, "legal_review", user=flow.people["officer"], expect=403)
    flow.record(case, "legal_review", user=flow.people["legal_reviewer"], conclusion="revise")
    assert _refused(flow, case)["missing"] == ["A21.1"]
    flow.record(case, "legal_review", user=flow.people["legal_reviewer"])
    flow.done(case, "decision")


def test_statement_period_counts_working_days_across_national_day(flow, clock):
    """A22.1, N10: a notice served on Friday 2026-09-25 with 5 working days runs to the end of
    2026-10-09 (National Day holidays skipped); a decision on 10-09 is refused, on 10-10 made."""
    clock.set(datetime(2026, 9, 24, 9, 0, tzinfo=SH))
    case = _in_decision(flow)
    flow.done(case, "handling_opinion")
    notice = flow.done(case, "rights_notice", response_period_working_days=5)
    clock.set(datetime(2026, 9, 25, 10, 0, tzinfo=SH))
    flow.serve(case, notice)
    clock.set(datetime(2026, 10, 9, 23, 0, tzinfo=SH))
    assert _refused(flow, case)["missing"] == ["A22.1"]
    clock.set(datetime(2026, 10, 10, 0, 5, tzinfo=SH))
    flow.record(case, "decision")


def test_waiver_ends_the_period_at_once(flow):
    """A22.3: a signed waiver lets the decision follow the notice without waiting."""
    case = _in_decision(flow)
    flow.done(case, "handling_opinion")
    notice = flow.done(case, "rights_notice")
    flow.serve(case, notice)
    waiver = flow.record(case, "statement_waiver")
    assert _refused(flow, case)["missing"] == ["A13.2", "A22.1"]  # the party has not signed
    flow.sign_all(case, waiver)
    flow.record(case, "decision")


def test_a_requested_hearing_must_be_held_first(flow):
    """A13.1, A15.1, N28: a hearing request holds the decision until the hearing notice is
    served, the hearing record (with AV) is complete, the hearing report is made and, after a
    hearing, legal review agrees before the head approves the handling opinion."""
    case = _in_decision(flow)
    opinion = flow.done(case, "handling_opinion")
    notice = flow.done(case, "rights_notice", hearing_right=True)
    flow.serve(case, notice)
    flow.done(case, "statement_waiver")
    flow.done(case, "hearing_request")
    assert _refused(flow, case)["missing"] == ["A13.1"]
    hearing_notice = flow.done(case, "hearing_notice", hearing_at=flow.clock.iso(days=15))
    flow.serve(case, hearing_notice)
    flow.later(days=15)
    hearing = flow.done(case, "hearing_record")
    assert _refused(flow, case)["missing"] == ["A13.1", "A15.1", "N28"]
    flow.av(case, hearing["id"], proves="听证全过程")
    flow.done(case, "hearing_report")
    assert _refused(flow, case)["missing"] == ["N28"]
    flow.record(case, "legal_review", user=flow.people["legal_reviewer"])
    # The head approved the opinion before the hearing and its review: approve it again.
    assert _refused(flow, case)["missing"] == ["N28"]
    r = flow.post(f"/api/v1/cases/{case['id']}/records", {
        "type": "handling_opinion", "fields": flow.fields("handling_opinion"),
        "occurred_at": flow.clock.iso(), "corrects": opinion["id"]})
    assert r.status_code == 201, r.get_json()
    flow.approve_all(case, r.get_json())
    flow.record(case, "decision")


def test_decision_cannot_be_dated_before_its_prerequisites(flow):
    """A18.1: the gate looks at the case as it stood when the decision was made."""
    case = _in_decision(flow, kind="fee")
    before = flow.clock.iso(minutes=-30)
    flow.done(case, "handling_opinion")
    assert _refused(flow, case, at=before)["missing"] == ["A18.1", "A19.1"]
    flow.record(case, "decision")
