"""One case per enforcement kind played from opening to closed through the API (A2.1, A3.1),
with the ledger intact at the end."""

from __future__ import annotations

from datetime import timedelta


def _closed_and_intact(flow, app, case) -> None:
    flow.move(case, "archiving")
    assert flow.missing(case, "closed") == ["A32.1"]
    flow.archive(case)
    flow.move(case, "closed")
    assert flow.get(f"/api/v1/cases/{case['id']}")["stage"] == "closed"
    late = flow.post(f"/api/v1/cases/{case['id']}/refusals", {
        "refused": "evidence", "role": "party", "person_name": "周建国", "reason": "-",
        "place": "-"})
    assert late.status_code == 409 and late.get_json()["error"]["missing"] == ["A3.1"]
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    assert "ledger intact" in result.output


def test_penalty_case_with_refusal_lodged_service_and_announcement(flow, app):
    """A2.1 penalty, A13.2, A22.2, A15.1, A18.1, A22.1, A26.1, A28.1, A29.1: refusal to sign with
    witnesses, lodged service with video, announcement refused then accepted after two failed
    attempts, compliance and correction check, then archiving and closed."""
    case = flow.filed()
    # Investigation: the party refuses to sign the inspection record; two witnesses sign.
    inspection = flow.record(case, "onsite_inspection_record")
    flow.sign_all(case, inspection, skip=("party",))
    flow.refuse(case, inspection, "party")
    assert flow.missing(case, "decision") == ["A15.1"]  # no AV yet
    flow.av(case, inspection["id"])
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")

    # Decision: opinion, legal review, rights notice lodged with video, period, decision.
    flow.done(case, "handling_opinion", **{"legal_review_required": True})
    flow.done(case, "legal_review", user=flow.people["legal_reviewer"])
    notice = flow.done(case, "rights_notice")
    lodged = flow.serve(case, notice, "lodged")
    assert flow.get(f"/api/v1/cases/{case['id']}/services")["documents"][0]["served_at"] \
        == lodged["fields"]["served_at"]
    refused = flow.record(case, "decision", expect=409)["error"]
    assert refused["missing"] == ["A22.1"]  # the statement period is still running
    flow.later(days=21)
    pay_by = flow.clock.now().date() + timedelta(days=80)
    decision = flow.record(case, "decision", obligation=True, fine_amount_yuan=5000,
                           performance_deadline=pay_by.isoformat(), correction_ordered=True,
                           correction_period_days=15)
    flow.move(case, "service")

    # Service: announcement refused without failed attempts; accepted after two.
    r = flow.post(f"/api/v1/cases/{case['id']}/records", {
        "type": "service_announcement", "officers": [flow.officer["id"]],
        "fields": flow.fields("service_announcement", document_id=decision["id"])})
    assert r.status_code == 409 and r.get_json()["error"]["missing"] == ["A28.1"]
    for method in ("direct", "postal"):
        failed = flow.record(case, "service_attempt_failed", officers=[flow.officer["id"]],
                             document_id=decision["id"], method=method, reason="查无此人")
        flow.sign_all(case, failed)
    announced = flow.serve(case, decision, "announcement")
    assert len(announced["fields"]["failed_attempts"]) == 2
    assert flow.missing(case, "archiving") == ["A23.1", "A29.1"]  # 30 days not yet over
    flow.later(days=36)  # 30 days, and a last day on a rest day moves to the next working day
    flow.done(case, "compliance_record", decision_id=decision["id"], fine_paid=True)
    flow.done(case, "correction_check", decision_id=decision["id"])
    _closed_and_intact(flow, app, case)


def test_coercion_case_through_the_court(flow, app):
    """A2.1 coercion, A11.1, A16.1, A20.1, A21.1, A22.1, A25.1, A30.1, N14, N15, N19: a complaint
    case with preservation, expert and legal review, postal service of the decision, the demand
    notice served electronically with consent once direct service failed (N26), and court
    enforcement inside its window."""
    case = flow.open(kind="coercion", initiation="complaint")
    flow.done(case, "complaint_intake")
    flow.done(case, "complaint_decision")
    flow.done(case, "filing_form")
    flow.move(case, "investigation")
    preservation = flow.done(case, "evidence_preservation")
    flow.done(case, "evidence_preservation_list", preservation_id=preservation["id"])
    assert flow.missing(case, "decision") == ["A16.1"]
    flow.done(case, "preservation_decision", preservation_id=preservation["id"])
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")

    flow.done(case, "handling_opinion", expert_review_required=True, legal_review_required=True)
    flow.done(case, "expert_opinion")
    flow.done(case, "legal_review", user=flow.people["legal_reviewer"])
    notice = flow.done(case, "rights_notice", response_period_working_days=3)
    flow.serve(case, notice)
    flow.done(case, "statement_defence")
    flow.later(days=15)
    deadline = flow.clock.now().date() + timedelta(days=15)
    decision = flow.done(case, "decision", obligation=True,
                         performance_deadline=deadline.isoformat())
    flow.move(case, "service")

    posted = flow.record(case, "service_postal", officers=[flow.officer["id"]],
                         document_id=decision["id"])
    flow.sign_all(case, posted)
    flow.av(case, posted["id"], "image/jpeg", "付邮凭证")
    flow.later(days=2)
    receipt_day = flow.clock.now().date() - timedelta(days=1)
    ret = flow.record(case, "service_postal_return", service_id=posted["id"],
                      receipt_date=receipt_day.isoformat(), received_by="周建国")
    flow.av(case, ret["id"], "image/jpeg", "邮寄回执")
    assert ret["fields"]["served_at"].startswith(receipt_day.isoformat())  # N19

    flow.later(days=20)
    flow.done(case, "compliance_record", decision_id=decision["id"], status="not_complied")
    assert "A30.1" in flow.missing(case, "archiving")
    consent = flow.done(case, "service_address_confirmation")
    demand = flow.done(case, "demand_notice", decision_id=decision["id"])
    flow.record(case, "service_electronic", officers=[flow.officer["id"]],
                document_id=demand["id"], consent_id=consent["id"], expect=409)  # N26
    flow.done(case, "service_attempt_failed", officers=[flow.officer["id"]],
              document_id=demand["id"], method="direct", reason="当事人不在场",
              outcome="not_found")
    flow.serve(case, demand, "electronic", consent_id=consent["id"])
    flow.done(case, "demand_response", demand_id=demand["id"])
    early = flow.record(case, "court_application", decision_id=decision["id"], expect=409)
    assert early["error"]["missing"] == ["N14"]
    flow.later(days=25)
    early = flow.record(case, "court_application", decision_id=decision["id"], expect=409)
    assert early["error"]["missing"] == ["N15"]  # the six months to sue are not over
    flow.later(days=160)
    application = flow.done(case, "court_application", decision_id=decision["id"])
    acceptance = flow.done(case, "court_acceptance", fields={
        "application_id": application["id"], "accepted": True, "court_case_no": "(2027)湘0602执1号",
        "decided_on": flow.clock.now().date().isoformat()})
    assert acceptance["fields"]["accepted"] is True
    flow.done(case, "court_result", fields={
        "application_id": application["id"], "ruling": "enforcement_granted",
        "result": "已划扣罚款", "concluded_on": flow.clock.now().date().isoformat()})
    _closed_and_intact(flow, app, case)


def test_licensing_case(flow, app):
    """A2.1 licensing, A9.1, A13.1, A19.1, A24.1: an application accepted, materials reviewed,
    a licence decided with the head's approval and served directly."""
    case = flow.open(kind="licensing", initiation="application", title="施工许可申请")
    assert flow.missing(case, "investigation") == ["A9.1"]
    flow.done(case, "application_acceptance")
    flow.move(case, "investigation")
    assert flow.missing(case, "decision") == ["A13.1"]
    flow.done(case, "material_review")
    flow.move(case, "decision")
    assert flow.missing(case, "service") == ["A18.1", "A19.1"]
    flow.done(case, "handling_opinion", proposed_decision="准予施工许可")
    decision = flow.done(case, "decision", content="准予施工许可")
    flow.move(case, "service")
    assert flow.missing(case, "archiving") == ["A23.1"]
    flow.serve(case, decision)
    _closed_and_intact(flow, app, case)


def test_levy_case(flow, app):
    """A2.1 levy, A27.1, A29.1: a levy decided and served by entrustment, paid."""
    case = flow.filed(kind="levy", title="城市基础设施配套费征收")
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")
    flow.done(case, "handling_opinion", proposed_decision="征收配套费")
    decision = flow.done(case, "decision", content="征收配套费十万元", obligation=True,
                         performance_deadline=flow.clock.now().date().isoformat())
    flow.move(case, "service")
    flow.serve(case, decision, "entrusted")
    assert flow.missing(case, "archiving") == ["A29.1"]
    flow.done(case, "compliance_record", decision_id=decision["id"])
    _closed_and_intact(flow, app, case)


def test_fee_case(flow, app):
    """A2.1 fee, A27.1, A29.1: a fee decided, served through the party's prison, paid."""
    case = flow.filed(kind="fee", title="城市道路占用费")
    flow.done(case, "onsite_inspection_record", av=True)
    flow.move(case, "decision")
    flow.done(case, "handling_opinion", proposed_decision="收取占道费")
    decision = flow.done(case, "decision", content="收取占道费两千元", obligation=True,
                         performance_deadline=flow.clock.now().date().isoformat())
    flow.move(case, "service")
    flow.serve(case, decision, "forwarded")
    flow.done(case, "compliance_record", decision_id=decision["id"])
    _closed_and_intact(flow, app, case)


def test_inspection_case_from_a_random_draw(flow, app):
    """A2.1 inspection, A12.1, A15.1: a draw picks the site and the officers; the inspection
    needs AV; sampling without AV needs the reason; the result is served."""
    case = flow.open(kind="inspection", initiation="inspection", title="双随机检查")
    commitment = flow.post(f"/api/v1/cases/{case['id']}/draws/commitments", {}).get_json()
    drawn = flow.post(f"/api/v1/cases/{case['id']}/draws", {
        "commitment_record_id": commitment["record_id"], "outside_value": "20261126 福彩3D 507",
        "sampling_method": "双随机：从在建工程名录抽取 1 个", "objects_count": 1,
        "officers_count": 2, "objects_register": ["工地A", "工地B", "工地C"],
        "officers_register": flow.pair}).get_json()
    assert sorted(drawn["drawn_officers"]) == sorted(flow.pair)
    flow.done(case, "filing_form")
    flow.move(case, "investigation")
    inspection = flow.done(case, "onsite_inspection_record", place=drawn["drawn_objects"][0],
                           officers=drawn["drawn_officers"])
    assert flow.missing(case, "decision") == ["A12.1", "A15.1"]
    flow.av(case, inspection["id"])
    sampling = flow.done(case, "sampling_notice", av_unsuitable_reason="仓库内光线不足且涉密")
    assert flow.missing(case, "decision") == ["A13.1"]  # the item list
    flow.done(case, "sampling_item_list", sampling_notice_id=sampling["id"])
    flow.move(case, "decision")
    flow.done(case, "handling_opinion", proposed_decision="检查合格")
    decision = flow.done(case, "decision", content="检查结论：合格")
    flow.move(case, "service")
    flow.serve(case, decision)
    _closed_and_intact(flow, app, case)
